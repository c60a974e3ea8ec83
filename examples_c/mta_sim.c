/* mta_sim: a small MTA simulator that loads mtalog the way a C mail server does.
 *
 *   mta_sim [-c CONFIG] [-n MESSAGES] [-t THREADS] [-l LIBPATH] [-p MICROSECONDS]
 *
 * It dlopens libmtalog, creates one logger per stanza of CONFIG with mtalog_load(), then
 * replays one simulated day of mail from several threads: receptions, deliveries,
 * deferrals followed by delivery, bounces, SMTP rejections and a few error-log lines.
 * Every choice comes from a pseudo-random generator seeded by the message number, so a
 * run logs the same traffic whatever the thread count. SIGHUP (and once, half-way through
 * the run, the simulator itself) makes every logger reopen its files, as logrotate's
 * postrotate step would.
 *
 * At the end every logger is closed and its counters are printed. The exit status is 0
 * only when every call succeeded and every logger wrote everything it accepted.
 *
 * Defaults: CONFIG = examples_c/mtalog.conf, MESSAGES = 10000, THREADS = 4,
 * LIBPATH = $MTALOG_LIB or target/release/libmtalog.so. -p makes each thread pause that
 * long after each message (a steady trickle instead of a burst, e.g. while logrotate runs).
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtalog.h"

#define MAX_LOGGERS 16
#define MAX_RCPTS 2

/* ---------------------------------------------------------------------------------------
 * The library's entry points, looked up with dlsym. */

static int (*p_load)(const char *, logging_infrastructure **, size_t, size_t *);
static void (*p_free)(logging_infrastructure *);
static const char *(*p_last_error)(const logging_infrastructure *);
static int (*p_console)(logging_infrastructure *, const char *, char *, size_t);
static int (*p_stats)(const logging_infrastructure *, struct mtalog_stats *);
static const char *(*p_version)(void);

static int lookup(void *lib, const char *name, void **slot) {
    *slot = dlsym(lib, name);
    if (*slot == NULL) {
        fprintf(stderr, "mta_sim: dlsym(%s): %s\n", name, dlerror());
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Shared state. */

static logging_infrastructure *loggers[MAX_LOGGERS];
static char logger_names[MAX_LOGGERS][128];
static size_t nloggers;

static long n_messages = 10000;
static int n_threads = 4;
static long pause_usec = 0;
static time_t day_start;

static volatile sig_atomic_t hup_pending; /* set by the SIGHUP handler */
static atomic_int failures;               /* failed library calls */
static atomic_flag reopen_busy = ATOMIC_FLAG_INIT;

/* What the simulator sent, summed over threads. */
struct counts {
    unsigned long messages, recipients, receptions, deliveries, deferrals, bounces,
        rejections, errors, reopens, hook_calls;
};
static struct counts totals;
static pthread_mutex_t totals_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_sighup(int sig) {
    (void)sig;
    hup_pending = 1;
}

/* Every logger reopens its files; one thread at a time. */
static void reopen_all(struct counts *c, const char *why) {
    size_t k;
    char reply[256];

    while (atomic_flag_test_and_set(&reopen_busy)) {
        sched_yield();
    }
    for (k = 0; k < nloggers; k++) {
        int rc = p_console(loggers[k], "reopen logs", reply, sizeof reply);
        if (rc < 0) {
            fprintf(stderr, "mta_sim: %s: reopen logs (%s): %d: %s\n", logger_names[k], why, rc,
                    p_last_error(loggers[k]));
            atomic_fetch_add(&failures, 1);
        }
    }
    c->reopens++;
    atomic_flag_clear(&reopen_busy);
}

/* ---------------------------------------------------------------------------------------
 * Deterministic pseudo-random numbers (splitmix64), one stream per message. */

static uint64_t next_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned pick(uint64_t *state, unsigned n) {
    return (unsigned)(next_rand(state) % n);
}

/* ---------------------------------------------------------------------------------------
 * Traffic data. */

static const char *const rcpt_domains[] = {
    "example.com",  "example.net", "example.org", "mail.example", "corp.example",
    "shop.example", "news.example", "isp.example", "school.example", "bank.example",
};
#define N_RCPT_DOMAINS (sizeof rcpt_domains / sizeof rcpt_domains[0])

static const char *const sender_domains[] = {
    "sender.example", "lists.example", "billing.example", "alerts.example",
};
#define N_SENDER_DOMAINS (sizeof sender_domains / sizeof sender_domains[0])

static const char *const local_parts[] = {
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
};
#define N_LOCAL_PARTS (sizeof local_parts / sizeof local_parts[0])

static const char *const sender_parts[] = {"news", "noreply", "billing", "info", "support"};
#define N_SENDER_PARTS (sizeof sender_parts / sizeof sender_parts[0])

#define SIM_PID 4242u

/* A Momentum spool id (`CC/CC-PPPPP-SSSSSSSS`): the counter as 4 upper-case hex digits and
 * the slot (creation time) as 8, both written least significant digit first. */
static void spool_id(char *out, size_t len, unsigned counter, unsigned pid, uint32_t slot) {
    static const char hex[] = "0123456789ABCDEF";
    char c[5], s[9];
    int k;
    for (k = 0; k < 4; k++) {
        c[k] = hex[(counter >> (4 * k)) & 0xF];
    }
    c[4] = '\0';
    for (k = 0; k < 8; k++) {
        s[k] = hex[(slot >> (4 * k)) & 0xF];
    }
    s[8] = '\0';
    snprintf(out, len, "%c%c/%c%c-%05u-%s", c[0], c[1], c[2], c[3], pid % 100000u, s);
}

/* va_list wrappers: the vtable takes a va_list, a host calls it from a variadic helper. */
static void call_error(logging_infrastructure *li, struct timeval *now, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    li->log_error(li, now, fmt, ap);
    va_end(ap);
}

static void call_reject(logging_infrastructure *li, struct timeval *now, accept_construct *ac,
                        validate_context *ctx, int phase, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    li->log_rejection(li, now, ac, ctx, phase, fmt, ap);
    va_end(ap);
}

/* Rejection phases (MC_STATE_*). */
#define PHASE_START 0
#define PHASE_MAILFROM 4
#define PHASE_RCPTTO 6

static void each_reject(struct counts *c, struct timeval *now, mtalog_accept *a,
                        mtalog_validate *v, int phase, const char *fmt, const char *arg) {
    size_t k;
    for (k = 0; k < nloggers; k++) {
        call_reject(loggers[k], now, (accept_construct *)a, (validate_context *)v, phase, fmt,
                    arg);
        c->hook_calls++;
    }
    c->rejections++;
}

/* One simulated message: i is its number in the day. */
static void simulate(long i, struct counts *c) {
    uint64_t rng = 0x6D74616C6F67ULL ^ ((uint64_t)i * 0x100000001B3ULL);
    time_t t0 = day_start + (time_t)((double)i * 86400.0 / (double)n_messages);
    struct timeval now = {t0, (long)(pick(&rng, 1000) * 1000)};
    char peer_ip[32], helo[64], conn_id[32], from[96], msgid_hdr[128];
    char ids[MAX_RCPTS][32], rcpts[MAX_RCPTS][96], doms[MAX_RCPTS][32];
    char mx_ip[MAX_RCPTS][32], mx_host[MAX_RCPTS][64];
    unsigned nrcpt, r, sender_dom, octet;
    mtalog_accept acc;
    size_t k;

    memset(&acc, 0, sizeof acc);
    octet = 1 + pick(&rng, 250);
    snprintf(peer_ip, sizeof peer_ip, "192.0.2.%u", octet);
    snprintf(helo, sizeof helo, "client%u.sender.example", octet);
    spool_id(conn_id, sizeof conn_id, (unsigned)(i & 0xFFFF), SIM_PID, (uint32_t)t0 - 1);
    acc.peer_ip = peer_ip;
    acc.peer_port = (uint16_t)(20000 + pick(&rng, 40000));
    acc.peer_name = helo;
    acc.helo = helo;
    acc.protocol = "esmtp";
    acc.local_ip = "198.51.100.1";
    acc.local_port = 25;
    acc.conn_id = conn_id;

    /* About 6% of sessions also see a rejected command first. */
    if (pick(&rng, 100) < 6) {
        mtalog_validate v;
        char bad[96];
        unsigned kind = pick(&rng, 3);
        memset(&v, 0, sizeof v);
        v.accept = &acc;
        v.module = "sim_policy";
        if (kind == 0) {
            snprintf(bad, sizeof bad, "someone@%s", "relay-target.example");
            v.mail_from = "spammer@bulk.example";
            v.rcpt_to = bad;
            v.code = 554;
            each_reject(c, &now, &acc, &v, PHASE_RCPTTO,
                        "554 5.7.1 <%s>: Relay access denied", bad);
        } else if (kind == 1) {
            v.mail_from = "forged@nonexistent.example";
            v.code = 553;
            each_reject(c, &now, &acc, &v, PHASE_MAILFROM,
                        "553 5.1.8 <%s>: Sender address rejected: Domain not found",
                        "forged@nonexistent.example");
        } else {
            v.code = 421;
            each_reject(c, &now, &acc, &v, PHASE_START,
                        "421 4.7.0 %s: Too many concurrent connections, try again later",
                        "mx.sim.example");
        }
    }

    /* The transaction: 1 or 2 recipients, one spool id each, one batch id. */
    nrcpt = pick(&rng, 4) == 0 ? 2 : 1;
    sender_dom = pick(&rng, N_SENDER_DOMAINS);
    snprintf(from, sizeof from, "%s@%s", sender_parts[pick(&rng, N_SENDER_PARTS)],
             sender_domains[sender_dom]);
    snprintf(msgid_hdr, sizeof msgid_hdr, "<%ld.%08lX@%s>", i, (unsigned long)t0,
             sender_domains[sender_dom]);
    c->messages++;

    {
        mtalog_message m[MAX_RCPTS];
        mtalog_domain d[MAX_RCPTS];
        uint64_t size = 800 + pick(&rng, 60000);

        for (r = 0; r < nrcpt; r++) {
            unsigned dom = pick(&rng, N_RCPT_DOMAINS);
            /* counter: 2 per message number, so ids are unique per recipient */
            spool_id(ids[r], sizeof ids[r], (unsigned)((2 * i + r) & 0xFFFF), SIM_PID,
                     (uint32_t)t0);
            snprintf(doms[r], sizeof doms[r], "%s", rcpt_domains[dom]);
            snprintf(rcpts[r], sizeof rcpts[r], "%s%u@%s", local_parts[pick(&rng, N_LOCAL_PARTS)],
                     pick(&rng, 100), rcpt_domains[dom]);
            snprintf(mx_ip[r], sizeof mx_ip[r], "203.0.113.%u", 10 + dom);
            snprintf(mx_host[r], sizeof mx_host[r], "mx%u.%s", 1 + pick(&rng, 2), rcpt_domains[dom]);

            memset(&m[r], 0, sizeof m[r]);
            m[r].id = ids[r];
            m[r].batch_id = ids[0];
            m[r].conn_id = conn_id;
            m[r].mail_from = from;
            m[r].rcpt_to = rcpts[r];
            m[r].message_id_header = msgid_hdr;
            m[r].size = size;
            m[r].received = now;
            m[r].binding_group = "default";
            m[r].binding = "default";
            m[r].nrcpt = nrcpt;
            m[r].esmtp = 1;

            memset(&d[r], 0, sizeof d[r]);
            d[r].name = doms[r];
            d[r].mx_host = mx_host[r];
            d[r].mx_ip = mx_ip[r];
            d[r].mx_port = 25;

            for (k = 0; k < nloggers; k++) {
                loggers[k]->log_reception(loggers[k], (accept_construct *)&acc,
                                          (abstract_message *)&m[r], &now, NULL, 0);
                c->hook_calls++;
            }
            c->recipients++;
            c->receptions++;
        }

        /* Outbound: per recipient, delivered (80%), deferred 1-2 times then delivered
         * (12%) or bounced (8%). */
        for (r = 0; r < nrcpt; r++) {
            unsigned roll = pick(&rng, 100);
            unsigned deferrals = 0, tries;
            struct timeval at = now;
            char note[192];
            int n;

            if (roll >= 80 && roll < 92) {
                deferrals = 1 + pick(&rng, 2);
            }
            at.tv_sec += 1 + (time_t)pick(&rng, 5);
            for (tries = 0; tries < deferrals; tries++) {
                n = snprintf(note, sizeof note,
                             "451 4.7.1 <%s>: Recipient address rejected: Greylisted, try again later",
                             rcpts[r]);
                m[r].retries = tries;
                m[r].stage = 7;
                d[r].smtp_command = "RCPT TO";
                for (k = 0; k < nloggers; k++) {
                    loggers[k]->log_transient_failure(loggers[k], (abstract_message *)&m[r],
                                                      (domain_record *)&d[r], &at, note, n);
                    c->hook_calls++;
                }
                c->deferrals++;
                at.tv_sec += 300 + (time_t)pick(&rng, 600);
            }
            m[r].retries = deferrals;
            if (roll >= 92) {
                n = snprintf(note, sizeof note,
                             "550 5.1.1 <%s>: Recipient address rejected: User unknown",
                             rcpts[r]);
                m[r].stage = 7;
                d[r].smtp_command = "RCPT TO";
                for (k = 0; k < nloggers; k++) {
                    loggers[k]->log_permanent_failure(loggers[k], (abstract_message *)&m[r],
                                                      (domain_record *)&d[r], &at, note, n);
                    c->hook_calls++;
                }
                c->bounces++;
            } else {
                n = snprintf(note, sizeof note, "250 2.0.0 Ok: queued as %08lX%04X",
                             (unsigned long)at.tv_sec, (unsigned)(i & 0xFFFF));
                m[r].stage = 0;
                m[r].bytes_sent = size;
                d[r].smtp_command = "DATA";
                for (k = 0; k < nloggers; k++) {
                    loggers[k]->log_delivery(loggers[k], (abstract_message *)&m[r],
                                             (domain_record *)&d[r], &at, note, n);
                    c->hook_calls++;
                }
                c->deliveries++;
            }
        }
    }

    /* About 1% of messages come with an error-log line. */
    if (pick(&rng, 100) == 0) {
        for (k = 0; k < nloggers; k++) {
            if (i % 2 == 0) {
                call_error(loggers[k], &now, "warning: spool partition %d%% full\n",
                           (int)(80 + i % 20));
            } else {
                call_error(loggers[k], &now, "error: connect to %s[%s]:25: Connection timed out\n",
                           mx_host[0], mx_ip[0]);
            }
            c->hook_calls++;
        }
        c->errors++;
    }
}

struct worker {
    pthread_t thread;
    int index;
    struct counts c;
};

static void *run_worker(void *arg) {
    struct worker *w = arg;
    long i;

    for (i = w->index; i < n_messages; i += n_threads) {
        if (hup_pending) {
            hup_pending = 0;
            reopen_all(&w->c, "SIGHUP");
        }
        if (i == n_messages / 2) {
            reopen_all(&w->c, "half-way");
        }
        simulate(i, &w->c);
        if (pause_usec > 0) {
            struct timespec ts = {pause_usec / 1000000, (pause_usec % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Configuration. */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, got;

    if (f == NULL) {
        fprintf(stderr, "mta_sim: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    do {
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap + 65536);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap += 65536;
        }
        got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* The instance names of the stanzas (`kind "name" {`), in order; the library returns the
 * loggers in the same order. Falls back to the kind when a stanza has no name. */
static void stanza_names(const char *text) {
    size_t n = 0;
    int depth = 0;
    const char *p = text;
    char last_word[128] = "";

    while (*p != '\0' && n < MAX_LOGGERS) {
        if (*p == '#') {
            while (*p != '\0' && *p != '\n') p++;
        } else if (*p == '"') {
            const char *q = ++p;
            while (*p != '\0' && *p != '"') {
                if (*p == '\\' && p[1] != '\0') p++;
                p++;
            }
            if (depth == 0) {
                size_t l = (size_t)(p - q) < sizeof last_word - 1 ? (size_t)(p - q)
                                                                   : sizeof last_word - 1;
                memcpy(last_word, q, l);
                last_word[l] = '\0';
            }
            if (*p == '"') p++;
        } else if (*p == '{') {
            if (depth == 0) {
                snprintf(logger_names[n++], sizeof logger_names[0], "%s", last_word);
            }
            depth++;
            p++;
        } else if (*p == '}') {
            depth--;
            p++;
        } else if (depth == 0 && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            const char *q = p;
            size_t l;
            while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '{' &&
                   *p != '"' && *p != '#')
                p++;
            l = (size_t)(p - q) < sizeof last_word - 1 ? (size_t)(p - q) : sizeof last_word - 1;
            memcpy(last_word, q, l);
            last_word[l] = '\0';
        } else {
            p++;
        }
    }
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void usage(void) {
    fprintf(stderr,
            "usage: mta_sim [-c CONFIG] [-n MESSAGES] [-t THREADS] [-l LIBPATH] [-p MICROSECONDS]\n");
}

int main(int argc, char **argv) {
    const char *config_path = "examples_c/mtalog.conf";
    const char *lib_path = getenv("MTALOG_LIB");
    struct worker *workers;
    struct sigaction sa;
    struct timespec started;
    struct tm tm;
    time_t now;
    char *config;
    void *lib;
    size_t k;
    int opt, rc, status = 0;
    double elapsed;

    if (lib_path == NULL || *lib_path == '\0') {
        lib_path = "target/release/libmtalog.so";
    }
    while ((opt = getopt(argc, argv, "c:n:t:l:p:h")) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'n': n_messages = strtol(optarg, NULL, 10); break;
        case 't': n_threads = (int)strtol(optarg, NULL, 10); break;
        case 'l': lib_path = optarg; break;
        case 'p': pause_usec = strtol(optarg, NULL, 10); break;
        default: usage(); return 2;
        }
    }
    if (optind != argc || n_messages < 1 || n_threads < 1 || n_threads > 256) {
        usage();
        return 2;
    }

    lib = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "mta_sim: dlopen: %s\n", dlerror());
        return 1;
    }
    if (lookup(lib, "mtalog_load", (void **)&p_load) != 0 ||
        lookup(lib, "mtalog_free", (void **)&p_free) != 0 ||
        lookup(lib, "mtalog_last_error", (void **)&p_last_error) != 0 ||
        lookup(lib, "mtalog_console", (void **)&p_console) != 0 ||
        lookup(lib, "mtalog_stats", (void **)&p_stats) != 0 ||
        lookup(lib, "mtalog_version", (void **)&p_version) != 0) {
        dlclose(lib);
        return 1;
    }

    config = read_file(config_path);
    if (config == NULL) {
        dlclose(lib);
        return 1;
    }
    rc = p_load(config, loggers, MAX_LOGGERS, &nloggers);
    if (rc != 0) {
        fprintf(stderr, "mta_sim: %s: %s (%d)\n", config_path, p_last_error(NULL), rc);
        free(config);
        dlclose(lib);
        return 1;
    }
    stanza_names(config);
    free(config);
    printf("mtalog %s: %zu logger(s) from %s, %ld messages, %d threads\n", p_version(),
           nloggers, config_path, n_messages, n_threads);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sighup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);

    /* The simulated day starts at today's local midnight. */
    now = time(NULL);
    localtime_r(&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    day_start = mktime(&tm);

    workers = calloc((size_t)n_threads, sizeof *workers);
    if (workers == NULL) {
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &started);
    for (opt = 0; opt < n_threads; opt++) {
        workers[opt].index = opt;
        if (pthread_create(&workers[opt].thread, NULL, run_worker, &workers[opt]) != 0) {
            fprintf(stderr, "mta_sim: pthread_create failed\n");
            return 1;
        }
    }
    for (opt = 0; opt < n_threads; opt++) {
        struct counts *c = &workers[opt].c;
        pthread_join(workers[opt].thread, NULL);
        pthread_mutex_lock(&totals_lock);
        totals.messages += c->messages;
        totals.recipients += c->recipients;
        totals.receptions += c->receptions;
        totals.deliveries += c->deliveries;
        totals.deferrals += c->deferrals;
        totals.bounces += c->bounces;
        totals.rejections += c->rejections;
        totals.errors += c->errors;
        totals.reopens += c->reopens;
        totals.hook_calls += c->hook_calls;
        pthread_mutex_unlock(&totals_lock);
    }
    free(workers);
    if (hup_pending) {
        reopen_all(&totals, "SIGHUP");
    }

    for (k = 0; k < nloggers; k++) {
        rc = loggers[k]->log_close(loggers[k]);
        if (rc != 0) {
            fprintf(stderr, "mta_sim: %s: log_close: %d: %s\n", logger_names[k], rc,
                    p_last_error(loggers[k]));
            status = 1;
        }
    }
    elapsed = seconds_since(&started);

    printf("sent: %lu messages, %lu recipients: %lu receptions, %lu deliveries, "
           "%lu deferrals, %lu bounces, %lu rejections, %lu error lines, %lu reopens\n",
           totals.messages, totals.recipients, totals.receptions, totals.deliveries,
           totals.deferrals, totals.bounces, totals.rejections, totals.errors, totals.reopens);
    printf("%-16s %-20s %10s %10s %10s\n", "kind", "name", "accepted", "written", "dropped");
    for (k = 0; k < nloggers; k++) {
        struct mtalog_stats s;
        memset(&s, 0, sizeof s);
        s.struct_size = sizeof s;
        rc = p_stats(loggers[k], &s);
        if (rc != 0) {
            fprintf(stderr, "mta_sim: %s: mtalog_stats: %d\n", logger_names[k], rc);
            status = 1;
            continue;
        }
        printf("%-16s %-20s %10llu %10llu %10llu\n", loggers[k]->shared.module_name,
               logger_names[k], (unsigned long long)s.accepted, (unsigned long long)s.written,
               (unsigned long long)s.dropped);
        if (s.written != s.accepted || s.dropped != 0 || s.write_errors != 0) {
            fprintf(stderr, "mta_sim: %s: %llu written of %llu accepted, %llu write errors\n",
                    logger_names[k], (unsigned long long)s.written,
                    (unsigned long long)s.accepted, (unsigned long long)s.write_errors);
            status = 1;
        }
    }
    printf("%lu events in %.3f s: %.0f events/s\n", totals.hook_calls, elapsed,
           elapsed > 0 ? (double)totals.hook_calls / elapsed : 0.0);

    for (k = 0; k < nloggers; k++) {
        p_free(loggers[k]);
    }
    if (atomic_load(&failures) != 0) {
        status = 1;
    }
    dlclose(lib);
    return status;
}
