/* mta_sim: a small MTA simulator that loads mtalog the way a C mail server does.
 *
 *   mta_sim [-c CONFIG] [-n MESSAGES] [-j THREADS] [-t EPOCH] [-l LIBPATH] [-p MICROSECONDS]
 *
 * It dlopens libmtalog, creates one logger per stanza of CONFIG with mtalog_load(), then
 * replays one simulated day of mail: receptions, deliveries, deferrals followed by
 * delivery, bounces, out-of-band bounces (a DSN arriving after a delivery, through
 * mtalog_bounce_log), SMTP rejections and a few error-log lines. SIGHUP (and once, half-way
 * through the day, the simulator itself) makes every logger reopen its files, as
 * logrotate's postrotate step would.
 *
 * Time runs forwards, as in a real MTA: every event (an arrival, a delivery attempt) has
 * its time on the simulated clock, and the events are logged in time order, so every log
 * file is in time order. The day runs much faster than real time. The threads share one
 * schedule: a thread takes the next event, advances the clock to its time and makes the
 * event's hook calls before the next event is taken; between events the threads run (and
 * pause, with -p) in any order.
 *
 * Every choice comes from a pseudo-random generator seeded by the message number, and the
 * order of the events does not depend on the threads, so a run logs the same lines whatever
 * the thread count. With -t the start of the day is fixed too: the same -t, -n and CONFIG
 * write the same files on every machine and every day (in the same time zone: Postfix and
 * Sun lines are in local time; `make example` sets TZ=UTC).
 *
 * At the end every logger is closed and its counters are printed. The exit status is 0
 * only when every call succeeded and every logger wrote everything it accepted.
 *
 * Defaults: CONFIG = examples_c/mtalog.conf, MESSAGES = 10000, THREADS = 4, EPOCH = today's
 * local midnight, LIBPATH = $MTALOG_LIB or target/release/libmtalog.so. -p makes a thread
 * pause that long after each arriving message (a steady trickle instead of a burst, e.g.
 * while logrotate runs).
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
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
/* A recipient's delivery attempts: a failed connection, two greylisting deferrals and the
 * final delivery or bounce, at most. */
#define MAX_ATTEMPTS 4

/* ---------------------------------------------------------------------------------------
 * The library's entry points, looked up with dlsym. */

static int (*p_load)(const char *, logging_infrastructure **, size_t, size_t *);
static void (*p_free)(logging_infrastructure *);
static const char *(*p_last_error)(const logging_infrastructure *);
static int (*p_console)(logging_infrastructure *, const char *, char *, size_t);
static int (*p_stats)(const logging_infrastructure *, struct mtalog_stats *);
static const char *(*p_version)(void);
static int (*p_bounce_log)(logging_infrastructure *, const struct timeval *, abstract_message *,
                           domain_record *, const char *, int);

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

/* What the simulator sent, summed over threads. */
struct counts {
    unsigned long messages, recipients, receptions, deliveries, deferrals, bounces,
        dsn_bounces, rejections, errors, reopens, hook_calls;
};
static struct counts totals;
static pthread_mutex_t totals_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_sighup(int sig) {
    (void)sig;
    hup_pending = 1;
}

/* Every logger reopens its files (called with the schedule held, so between two events). */
static void reopen_all(struct counts *c, const char *why) {
    size_t k;
    char reply[256];

    for (k = 0; k < nloggers; k++) {
        int rc = p_console(loggers[k], "reopen logs", reply, sizeof reply);
        if (rc < 0) {
            fprintf(stderr, "mta_sim: %s: reopen logs (%s): %d: %s\n", logger_names[k], why, rc,
                    p_last_error(loggers[k]));
            atomic_fetch_add(&failures, 1);
        }
    }
    c->reopens++;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "mta_sim: out of memory\n");
        exit(1);
    }
    return p;
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

/* Replies of out-of-band bounces: what a DSN that arrives after the delivery says. */
static const char *const dsn_texts[] = {
    "550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table",
    "552 5.2.2 <%s>: mailbox full",
    "550 5.7.1 <%s>: Message rejected as spam by content filter",
    "554 5.4.6 <%s>: Hop count exceeded - possible mail loop",
};
#define N_DSN_TEXTS (sizeof dsn_texts / sizeof dsn_texts[0])

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

/* Connection stages of a failed delivery attempt (Momentum's table). */
#define STAGE_NO_CONNECTION 0
#define STAGE_DURING_RCPT 4

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

/* ---------------------------------------------------------------------------------------
 * The simulated clock and the schedule.
 *
 * Times are microseconds since the epoch. Message i arrives at a time of its own, later
 * than message i-1's; its recipients' delivery attempts wait in a heap ordered by time
 * (then by the order they were planned in). The next event is the earliest of the next
 * arrival and the top of the heap, so the clock only moves forwards. One mutex holds the
 * schedule, the clock and the hook calls of the event being logged. */

/* One message on the spool: what its lines say, and its plan. */
struct message {
    long i;
    unsigned nrcpt;
    unsigned pending; /* delivery attempts not logged yet; freed at 0 */
    char peer_ip[32], helo[64], conn_id[32], from[96], msgid_hdr[128];
    char ids[MAX_RCPTS][32], rcpts[MAX_RCPTS][96], doms[MAX_RCPTS][32];
    char mx_ip[MAX_RCPTS][32], mx_host[MAX_RCPTS][64];
    mtalog_accept acc;
    mtalog_message m[MAX_RCPTS];
    mtalog_domain d[MAX_RCPTS];
    int reject;      /* -1, or the kind of rejected command before the transaction */
    int warning;     /* a spool warning in the error log at arrival */
    /* per recipient: attempts in all (the last one delivers or bounces), whether the first
     * could not connect, whether the last bounces, and when each one happens */
    unsigned attempts[MAX_RCPTS];
    int connect_fails[MAX_RCPTS];
    int bounces[MAX_RCPTS];
    int64_t at[MAX_RCPTS][MAX_ATTEMPTS];
    /* per recipient delivered: when a DSN about it arrives (0 = none), and its text */
    int64_t dsn_at[MAX_RCPTS];
    unsigned dsn_text[MAX_RCPTS];
};

struct attempt {
    int64_t at;
    uint64_t seq; /* order of planning: breaks ties between equal times */
    struct message *msg;
    unsigned r, n; /* recipient, attempt number */
    int dsn;       /* not an attempt: the out-of-band bounce of a delivered recipient */
};

static pthread_mutex_t schedule = PTHREAD_MUTEX_INITIALIZER;
static long next_arrival;
static struct attempt *heap;
static size_t heap_len, heap_cap;
static uint64_t heap_seq;
static int64_t sim_clock = INT64_MIN; /* time of the last event logged */
static int64_t start_us;

static int earlier(const struct attempt *a, const struct attempt *b) {
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_push(struct attempt a) {
    size_t k;
    if (heap_len == heap_cap) {
        struct attempt *h;
        heap_cap = heap_cap ? 2 * heap_cap : 1024;
        h = realloc(heap, heap_cap * sizeof *heap);
        if (h == NULL) {
            fprintf(stderr, "mta_sim: out of memory\n");
            exit(1);
        }
        heap = h;
    }
    a.seq = heap_seq++;
    k = heap_len++;
    while (k > 0 && earlier(&a, &heap[(k - 1) / 2])) {
        heap[k] = heap[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    heap[k] = a;
}

static struct attempt heap_pop(void) {
    struct attempt top = heap[0], last = heap[--heap_len];
    size_t k = 0;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= heap_len) break;
        if (c + 1 < heap_len && earlier(&heap[c + 1], &heap[c])) c++;
        if (!earlier(&heap[c], &last)) break;
        heap[k] = heap[c];
        k = c;
    }
    if (heap_len > 0) heap[k] = last;
    return top;
}

/* Message i's arrival: the day split evenly between the messages, each at a point of its
 * own share chosen by its number. */
static int64_t share_start(long i) {
    return (int64_t)((double)i * 86400e6 / (double)n_messages);
}

static int64_t arrival_time(long i) {
    int64_t from = share_start(i), len = share_start(i + 1) - from;
    uint64_t rng = 0x61727269766CULL ^ ((uint64_t)i * 0x100000001B3ULL);
    return start_us + from + (len > 0 ? (int64_t)(next_rand(&rng) % (uint64_t)len) : 0);
}

/* Moves the clock to `at` (never backwards) and returns it as a timeval. */
static struct timeval advance_clock(int64_t at) {
    struct timeval tv;
    if (at < sim_clock) {
        fprintf(stderr, "mta_sim: an event at %lld after one at %lld\n", (long long)at,
                (long long)sim_clock);
        atomic_fetch_add(&failures, 1);
    } else {
        sim_clock = at;
    }
    tv.tv_sec = (time_t)(sim_clock / 1000000);
    tv.tv_usec = (long)(sim_clock % 1000000);
    return tv;
}

/* Draws message i: its session, envelope and the plan of every delivery attempt. */
static struct message *plan(long i, int64_t arrival) {
    uint64_t rng = 0x6D74616C6F67ULL ^ ((uint64_t)i * 0x100000001B3ULL);
    time_t t0 = (time_t)(arrival / 1000000);
    struct message *msg = xmalloc(sizeof *msg);
    unsigned r, octet, sender_dom, roll, deferrals;
    uint64_t size, dsn_rng;

    memset(msg, 0, sizeof *msg);
    msg->i = i;
    octet = 1 + pick(&rng, 250);
    snprintf(msg->peer_ip, sizeof msg->peer_ip, "192.0.2.%u", octet);
    snprintf(msg->helo, sizeof msg->helo, "client%u.sender.example", octet);
    spool_id(msg->conn_id, sizeof msg->conn_id, (unsigned)(i & 0xFFFF), SIM_PID,
             (uint32_t)t0 - 1);
    msg->acc.peer_ip = msg->peer_ip;
    msg->acc.peer_port = (uint16_t)(20000 + pick(&rng, 40000));
    msg->acc.peer_name = msg->helo;
    msg->acc.helo = msg->helo;
    msg->acc.protocol = "esmtp";
    msg->acc.local_ip = "198.51.100.1";
    msg->acc.local_port = 25;
    msg->acc.conn_id = msg->conn_id;

    /* About 6% of sessions also see a rejected command first. */
    msg->reject = pick(&rng, 100) < 6 ? (int)pick(&rng, 3) : -1;

    /* The transaction: 1 or 2 recipients, each its own message on the spool (one spool id
     * each, one batch id), so each message has one recipient. */
    msg->nrcpt = pick(&rng, 4) == 0 ? 2 : 1;
    sender_dom = pick(&rng, N_SENDER_DOMAINS);
    snprintf(msg->from, sizeof msg->from, "%s@%s", sender_parts[pick(&rng, N_SENDER_PARTS)],
             sender_domains[sender_dom]);
    snprintf(msg->msgid_hdr, sizeof msg->msgid_hdr, "<%ld.%08lX@%s>", i, (unsigned long)t0,
             sender_domains[sender_dom]);
    size = 800 + pick(&rng, 60000);

    for (r = 0; r < msg->nrcpt; r++) {
        unsigned dom = pick(&rng, N_RCPT_DOMAINS);
        mtalog_message *m = &msg->m[r];
        mtalog_domain *d = &msg->d[r];
        /* counter: 2 per message number, so ids are unique per recipient */
        spool_id(msg->ids[r], sizeof msg->ids[r], (unsigned)((2 * i + r) & 0xFFFF), SIM_PID,
                 (uint32_t)t0);
        snprintf(msg->doms[r], sizeof msg->doms[r], "%s", rcpt_domains[dom]);
        snprintf(msg->rcpts[r], sizeof msg->rcpts[r], "%s%u@%s",
                 local_parts[pick(&rng, N_LOCAL_PARTS)], pick(&rng, 100), rcpt_domains[dom]);
        snprintf(msg->mx_ip[r], sizeof msg->mx_ip[r], "203.0.113.%u", 10 + dom);
        snprintf(msg->mx_host[r], sizeof msg->mx_host[r], "mx%u.%s", 1 + pick(&rng, 2),
                 rcpt_domains[dom]);

        m->id = msg->ids[r];
        m->batch_id = msg->ids[0];
        m->conn_id = msg->conn_id;
        m->mail_from = msg->from;
        m->rcpt_to = msg->rcpts[r];
        m->message_id_header = msg->msgid_hdr;
        m->size = size;
        m->received.tv_sec = t0;
        m->received.tv_usec = (long)(arrival % 1000000);
        m->binding_group = "default";
        m->binding = "default";
        m->nrcpt = 1; /* the recipients of this spool id (and so of its Postfix queue ID) */
        m->esmtp = 1;

        d->name = msg->doms[r];
        d->mx_host = msg->mx_host[r];
        d->mx_ip = msg->mx_ip[r];
        d->mx_port = 25;
    }

    /* Outbound: per recipient, delivered (80%), deferred 1-2 times then delivered (12%) or
     * bounced (8%); the first attempt 1-5 s after arrival, retries 5-15 min apart. */
    for (r = 0; r < msg->nrcpt; r++) {
        unsigned n;
        roll = pick(&rng, 100);
        deferrals = roll >= 80 && roll < 92 ? 1 + pick(&rng, 2) : 0;
        msg->bounces[r] = roll >= 92;
        msg->attempts[r] = deferrals + 1;
        msg->at[r][0] = arrival + 1000000 * (int64_t)(1 + pick(&rng, 5));
        for (n = 1; n <= deferrals; n++) {
            msg->at[r][n] = msg->at[r][n - 1] + 1000000 * (int64_t)(300 + pick(&rng, 600));
        }
    }

    /* About 1% of messages come with a problem: a spool warning in the error log, or a
     * first delivery attempt that cannot connect (then the plan above, 5-15 min later). */
    if (pick(&rng, 100) == 0) {
        if (i % 2 == 0) {
            msg->warning = 1;
        } else {
            int64_t retry = 1000000 * (int64_t)(300 + pick(&rng, 600));
            unsigned n;
            msg->connect_fails[0] = 1;
            for (n = msg->attempts[0]; n > 0; n--) {
                msg->at[0][n] = msg->at[0][n - 1] + retry;
            }
            msg->attempts[0]++;
        }
    }
    /* 1 in 200 delivered recipients bounce out of band: a DSN arrives 1-10 minutes after
     * the delivery. A stream of its own, so the plan above stays what it was. */
    dsn_rng = 0x64736E626F756EULL ^ ((uint64_t)i * 0x100000001B3ULL);
    for (r = 0; r < msg->nrcpt; r++) {
        unsigned when = 60 + pick(&dsn_rng, 540), text = pick(&dsn_rng, N_DSN_TEXTS);
        if (!msg->bounces[r] && pick(&dsn_rng, 200) == 0) {
            msg->dsn_at[r] = msg->at[r][msg->attempts[r] - 1] + 1000000 * (int64_t)when;
            msg->dsn_text[r] = text;
        }
    }
    msg->pending = 0;
    for (r = 0; r < msg->nrcpt; r++) {
        msg->pending += msg->attempts[r] + (msg->dsn_at[r] != 0);
    }
    return msg;
}

/* Message i arrives: a rejected command (sometimes), one reception per recipient, a spool
 * warning (sometimes); its first delivery attempts join the schedule. */
static void arrive(long i, int64_t arrival, struct counts *c) {
    struct message *msg = plan(i, arrival);
    struct timeval now = advance_clock(arrival);
    unsigned r;
    size_t k;

    if (msg->reject >= 0) {
        mtalog_validate v;
        memset(&v, 0, sizeof v);
        v.accept = &msg->acc;
        v.module = "sim_policy";
        if (msg->reject == 0) {
            v.mail_from = "spammer@bulk.example";
            v.rcpt_to = "someone@relay-target.example";
            v.code = 554;
            each_reject(c, &now, &msg->acc, &v, MC_STATE_RCPTTO,
                        "554 5.7.1 <%s>: Relay access denied", v.rcpt_to);
        } else if (msg->reject == 1) {
            v.mail_from = "forged@nonexistent.example";
            v.code = 553;
            each_reject(c, &now, &msg->acc, &v, MC_STATE_MAILFROM,
                        "553 5.1.8 <%s>: Sender address rejected: Domain not found",
                        v.mail_from);
        } else {
            v.code = 421;
            each_reject(c, &now, &msg->acc, &v, MC_STATE_START,
                        "421 4.7.0 %s: Too many concurrent connections, try again later",
                        "mx.sim.example");
        }
    }

    c->messages++;
    for (r = 0; r < msg->nrcpt; r++) {
        struct attempt a;
        for (k = 0; k < nloggers; k++) {
            loggers[k]->log_reception(loggers[k], (accept_construct *)&msg->acc,
                                      (abstract_message *)&msg->m[r], &now, NULL, 0);
            c->hook_calls++;
        }
        c->recipients++;
        c->receptions++;
        memset(&a, 0, sizeof a);
        a.at = msg->at[r][0];
        a.msg = msg;
        a.r = r;
        heap_push(a);
    }

    if (msg->warning) {
        for (k = 0; k < nloggers; k++) {
            call_error(loggers[k], &now, "warning: spool partition %d%% full\n",
                       (int)(80 + i % 20));
            c->hook_calls++;
        }
        c->errors++;
    }
}

/* A DSN about recipient r, delivered earlier, arrives: an out-of-band bounce. Every logger
 * is offered it; the kinds without a bounce record (all but bounce_logger) say -ENOTSUP. */
static void bounce_out_of_band(struct message *msg, unsigned r, const struct timeval *now,
                               struct counts *c) {
    char text[192];
    size_t k;
    int n = snprintf(text, sizeof text, dsn_texts[msg->dsn_text[r]], msg->m[r].rcpt_to);

    if (n >= (int)sizeof text) {
        n = (int)sizeof text - 1;
    }
    for (k = 0; k < nloggers; k++) {
        int rc = p_bounce_log(loggers[k], now, (abstract_message *)&msg->m[r],
                              (domain_record *)&msg->d[r], text, n);
        if (rc != 0 && rc != -ENOTSUP) {
            fprintf(stderr, "mta_sim: %s: mtalog_bounce_log: %d: %s\n", logger_names[k], rc,
                    p_last_error(loggers[k]));
            atomic_fetch_add(&failures, 1);
        }
        c->hook_calls++;
    }
    c->dsn_bounces++;
}

/* One delivery attempt: a deferral (then the next attempt joins the schedule), or the final
 * delivery or bounce; or, some minutes after a delivery, the DSN of an out-of-band bounce.
 * A connection that fails is the delivery agent's to report, so it goes with the attempt
 * (the Postfix logger writes it under postfix/smtp, as Postfix does). */
static void deliver(struct attempt a, struct counts *c) {
    struct message *msg = a.msg;
    mtalog_message *m = &msg->m[a.r];
    mtalog_domain *d = &msg->d[a.r];
    struct timeval now = advance_clock(a.at);
    char note[192];
    size_t k;
    int n;

    if (a.dsn) {
        bounce_out_of_band(msg, a.r, &now, c);
        if (--msg->pending == 0) {
            free(msg);
        }
        return;
    }
    m->retries = a.n;
    if (a.n + 1 < msg->attempts[a.r]) {
        if (a.n == 0 && msg->connect_fails[a.r]) {
            n = snprintf(note, sizeof note, "connect to %s[%s]:%u: Connection timed out",
                         d->mx_host, d->mx_ip, (unsigned)d->mx_port);
            m->stage = STAGE_NO_CONNECTION;
            d->smtp_command = NULL;
        } else {
            n = snprintf(note, sizeof note,
                         "451 4.7.1 <%s>: Recipient address rejected: Greylisted, try again later",
                         m->rcpt_to);
            m->stage = STAGE_DURING_RCPT;
            d->smtp_command = "RCPT TO";
        }
        for (k = 0; k < nloggers; k++) {
            loggers[k]->log_transient_failure(loggers[k], (abstract_message *)m,
                                              (domain_record *)d, &now, note, n);
            c->hook_calls++;
        }
        c->deferrals++;
        a.at = msg->at[a.r][a.n + 1];
        a.n++;
        heap_push(a);
        return;
    }
    if (msg->bounces[a.r]) {
        n = snprintf(note, sizeof note,
                     "550 5.1.1 <%s>: Recipient address rejected: User unknown", m->rcpt_to);
        m->stage = STAGE_DURING_RCPT;
        d->smtp_command = "RCPT TO";
        for (k = 0; k < nloggers; k++) {
            loggers[k]->log_permanent_failure(loggers[k], (abstract_message *)m,
                                              (domain_record *)d, &now, note, n);
            c->hook_calls++;
        }
        c->bounces++;
    } else {
        n = snprintf(note, sizeof note, "250 2.0.0 Ok: queued as %08lX%04X",
                     (unsigned long)now.tv_sec, (unsigned)(msg->i & 0xFFFF));
        m->stage = 0;
        m->bytes_sent = m->size;
        d->smtp_command = "DATA";
        for (k = 0; k < nloggers; k++) {
            loggers[k]->log_delivery(loggers[k], (abstract_message *)m, (domain_record *)d,
                                     &now, note, n);
            c->hook_calls++;
        }
        c->deliveries++;
        if (msg->dsn_at[a.r] != 0) {
            a.at = msg->dsn_at[a.r];
            a.dsn = 1;
            heap_push(a);
        }
    }
    if (--msg->pending == 0) {
        free(msg);
    }
}

/* Logs the next event of the schedule (held by the caller). Returns 1 for an arrival, 0
 * for a delivery attempt, -1 when the day is over. */
static int step(struct counts *c) {
    int64_t arrival = next_arrival < n_messages ? arrival_time(next_arrival) : INT64_MAX;

    if (heap_len > 0 && heap[0].at <= arrival) {
        deliver(heap_pop(), c);
        return 0;
    }
    if (next_arrival >= n_messages) {
        return -1;
    }
    if (next_arrival == n_messages / 2) {
        reopen_all(c, "half-way");
    }
    arrive(next_arrival++, arrival, c);
    return 1;
}

struct worker {
    pthread_t thread;
    struct counts c;
};

static void *run_worker(void *arg) {
    struct worker *w = arg;

    for (;;) {
        int what;
        pthread_mutex_lock(&schedule);
        if (hup_pending) {
            hup_pending = 0;
            reopen_all(&w->c, "SIGHUP");
        }
        what = step(&w->c);
        pthread_mutex_unlock(&schedule);
        if (what < 0) {
            break;
        }
        if (what == 1 && pause_usec > 0) {
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
            "usage: mta_sim [-c CONFIG] [-n MESSAGES] [-j THREADS] [-t EPOCH] [-l LIBPATH] "
            "[-p MICROSECONDS]\n");
}

int main(int argc, char **argv) {
    const char *config_path = "examples_c/mtalog.conf";
    const char *lib_path = getenv("MTALOG_LIB");
    struct worker *workers;
    struct sigaction sa;
    struct timespec started;
    struct tm tm;
    time_t now;
    char *config, *end, when[64];
    long long start = -1;
    void *lib;
    size_t k;
    int opt, rc, status = 0;
    double elapsed;

    if (lib_path == NULL || *lib_path == '\0') {
        lib_path = "target/release/libmtalog.so";
    }
    while ((opt = getopt(argc, argv, "c:n:j:t:l:p:h")) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'n': n_messages = strtol(optarg, NULL, 10); break;
        case 'j': n_threads = (int)strtol(optarg, NULL, 10); break;
        case 't':
            errno = 0;
            start = strtoll(optarg, &end, 10);
            /* Before 1971 is no start of a day of mail: most likely a thread count. */
            if (errno != 0 || *end != '\0' || end == optarg || start < 31536000) {
                fprintf(stderr, "mta_sim: -t wants the start of the simulated day in Unix "
                                "seconds (e.g. 1795392000); the number of threads is -j\n");
                return 2;
            }
            break;
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
        lookup(lib, "mtalog_version", (void **)&p_version) != 0 ||
        lookup(lib, "mtalog_bounce_log", (void **)&p_bounce_log) != 0) {
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

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sighup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);

    /* The simulated day starts at -t, or else at today's local midnight. */
    if (start >= 0) {
        day_start = (time_t)start;
    } else {
        now = time(NULL);
        localtime_r(&now, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        day_start = mktime(&tm);
    }
    start_us = (int64_t)day_start * 1000000;
    localtime_r(&day_start, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
    printf("mtalog %s: %zu logger(s) from %s, %ld messages, %d threads, "
           "simulated day from %s (-t %lld)\n",
           p_version(), nloggers, config_path, n_messages, n_threads, when,
           (long long)day_start);

    workers = calloc((size_t)n_threads, sizeof *workers);
    if (workers == NULL) {
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &started);
    for (opt = 0; opt < n_threads; opt++) {
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
        totals.dsn_bounces += c->dsn_bounces;
        totals.rejections += c->rejections;
        totals.errors += c->errors;
        totals.reopens += c->reopens;
        totals.hook_calls += c->hook_calls;
        pthread_mutex_unlock(&totals_lock);
    }
    free(workers);
    free(heap);
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
           "%lu deferrals, %lu bounces, %lu out-of-band bounces, %lu rejections, "
           "%lu error lines, %lu reopens\n",
           totals.messages, totals.recipients, totals.receptions, totals.deliveries,
           totals.deferrals, totals.bounces, totals.dsn_bounces, totals.rejections,
           totals.errors, totals.reopens);
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
