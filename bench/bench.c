/*
 * mtalog benchmark: mtalog through its C ABI (dlopen) beside its peers, on the same work, in
 * one run; `make bench` in the top directory runs it.
 *
 *   bench [-n N] [-l libmtalog.so] [-o outdir] [-t tracing_peer] [-f label-part]
 *
 * Each case runs in a forked child (so peak RSS is that case's alone, from wait4) and sends
 * its figures to the parent, which prints the table.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mtalog.h"
#include "peers.h"

/* ------------------------------------------------------------------ options and results */

static long N = 5000000;
static const char *lib_path = "target/release/libmtalog.so";
static const char *out_dir = "bench/out";
static const char *tracing_bin = "bench/tracing_peer/target/release/tracing_peer";
static const char *only; /* -f: run only the cases whose label contains this */
static int rounds = 1;    /* -r: run every case this many times, report each case's median */

#define SAMPLE_EVERY 16 /* under load, one call in 16 is timed */
#define BURST 100       /* calls per burst */
#define BURST_PAUSE_US 200
#define MAX_BURSTS 2000

enum peer { P_MTALOG, P_NAIVE, P_WRITE, P_SPDLOG, P_TRACING, P_LIMIT, P_SYSLOG };
enum mode { M_LOAD, M_BURST, M_LIMIT };
enum work { W_DELIVERY, W_MIXED, W_PERMANENT };

struct run {
    const char *label;
    enum peer peer;
    enum mode mode;
    enum work work;
    int threads;
    const char *kind;  /* mtalog logger kind */
    const char *extra; /* extra mtalog config lines */
    long n;            /* 0 = N */
    int group;         /* rows with the same group compare against the mtalog row of it */
};

struct result {
    int ok;           /* 0 = ran, 1 = skipped, -1 = failed */
    char note[160];
    double secs;
    uint64_t calls, lines, expect, dropped;
    double p50, p99, p999, max; /* ns; < 0 = not measured */
    long rss_kb;
    double cpu_s; /* user + system CPU time of every thread of the case */
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ the host's objects */

#define NJOBS 1024
#define MAX_ROUNDS 9
#define BASE_SEC 1795432137LL

struct job {
    char id[24], conn[24], rcpt[48];
    mtalog_message m;
    mtalog_domain d;
    mtalog_accept a;
    mtalog_validate v;
};

static struct job *jobs;
static const char NOTE[] = "250 2.0.0 OK 1795432137 queued as 4821";
static const char DEFER[] = "451 4.7.1 Greylisted, please try again in 300 seconds";

/* Permanent failures: real replies of the bounce corpus (tests/fixtures/bounce_replies.tsv),
 * invalid recipients the most common as in real traffic, 16 texts of 9 classes. */
static const char *const BOUNCES[16] = {
    "550 5.1.1 <jdoe@example.com>: Recipient address rejected: User unknown in virtual mailbox "
    "table",
    "550 5.1.1 The email account that you tried to reach does not exist. Please try "
    "double-checking the recipient's email address for typos or unnecessary spaces.",
    "554 5.7.1 <jdoe@example.ch>: Recipient address rejected: User unknown",
    "550 5.1.1 This user does not exist",
    "550 Requested action not taken: mailbox unavailable (in reply to RCPT TO command)",
    "550 5.2.1 <jdoe@gmx.de>... User is inactive",
    "550 5.1.1 User does not exist - <jdoe@zoho.com>",
    "552 recipient storage full, try again later (in reply to RCPT TO command)",
    "552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]",
    "550 5.7.1 Rejected: 192.0.2.1 listed at zen.spamhaus.org",
    "550 5.7.30 This message was blocked because it didn't pass DKIM authentication. Gmail "
    "requires bulk email senders to authenticate their email with DKIM.",
    "554 5.7.1 <bob@icloud.com>: Relay access denied",
    "550 5.1.8 <jdoe@example.com>: Sender address rejected: Domain not found",
    "552 5.3.4 Your message exceeded Google's message size limits. To view our message size "
    "guidelines, go to https://support.google.com/mail/?p=MaxSizeError",
    "554 5.4.14 Hop count exceeded - possible mail loop ATTR34",
    "550 local ct ip reputation - (reject)",
};
static int bounce_len[16];

/* Strings and structs are made once, before any timed call; the D line is 184 bytes. */
static void make_jobs(void) {
    for (int i = 0; i < 16; i++)
        bounce_len[i] = (int)strlen(BOUNCES[i]);
    jobs = calloc(NJOBS, sizeof *jobs);
    for (int i = 0; i < NJOBS; i++) {
        struct job *j = &jobs[i];
        snprintf(j->id, sizeof j->id, "%02X/%02X-31337-%08X", (i * 7) & 0xff, i & 0xff,
                 0xEF0F3556u + (unsigned)i);
        snprintf(j->conn, sizeof j->conn, "1A/20-31337-%08X", 0x821F3556u + (unsigned)i / 4);
        snprintf(j->rcpt, sizeof j->rcpt, "user%04d@dest-example-provider.example", i);
        j->m.id = j->id;
        j->m.batch_id = j->id;
        j->m.conn_id = j->conn;
        j->m.mail_from = "newsletter@sender.example";
        j->m.rcpt_to = j->rcpt;
        j->m.message_id_header = "<20261123.4821@sender.example>";
        j->m.size = 48213;
        j->m.retries = 2;
        j->m.received.tv_sec = BASE_SEC - 144;
        j->m.received.tv_usec = 940000;
        j->m.binding_group = "outbound-pool-east";
        j->m.binding = "vip-outbound-east-17";
        j->m.nrcpt = 1;
        j->m.esmtp = 1;
        j->d.name = "mail-in.dest-example-provider.example";
        j->d.mx_host = "mx1.dest-example-provider.example";
        j->d.mx_ip = "198.51.100.250";
        j->d.mx_port = 25;
        j->d.smtp_command = "DATA";
        j->a.peer_ip = "203.0.113.9";
        j->a.peer_name = "mail.client.example";
        j->a.peer_port = 51234;
        j->a.local_ip = "192.0.2.1";
        j->a.local_port = 25;
        j->a.conn_id = j->conn;
        j->a.helo = "mail.client.example";
        j->a.protocol = "ESMTP";
        j->v.code = 550;
        j->v.module = "scriptlet";
        j->v.pathway = "default";
        j->v.pathway_group = "default";
        j->v.ctx_conn = "pathway=default";
        j->v.ctx_mess = "mailfrom_localpart=bob";
        j->v.accept = &j->a;
    }
}

static inline void tv_of(long i, struct timeval *tv) {
    tv->tv_sec = (time_t)(BASE_SEC + (i >> 12));
    tv->tv_usec = (suseconds_t)((i * 977) % 1000000);
}

static inline void line_of(const struct job *j, const struct timeval *tv, struct peer_line *l) {
    int64_t us = ((int64_t)tv->tv_sec - j->m.received.tv_sec) * 1000000 +
                 ((int64_t)tv->tv_usec - j->m.received.tv_usec);
    uint64_t u = us > 0 ? (uint64_t)us : 0;
    l->sec = tv->tv_sec;
    l->id = j->m.id;
    l->batch = j->m.batch_id;
    l->conn = j->m.conn_id;
    l->domain = j->d.name;
    l->group = j->m.binding_group;
    l->binding = j->m.binding;
    l->mx_ip = j->d.mx_ip;
    l->size = j->m.size;
    l->retries = j->m.retries;
    l->centis = u / 10000 + (u % 10000 >= 5000);
}

#define D_FMT "%lld@%s@%s@%s@D@%s@%llu@%s@%s@%u@%llu.%02u@%s\n"
#define D_ARGS(l)                                                                          \
    (long long)(l).sec, (l).id, (l).batch, (l).conn, (l).domain,                           \
        (unsigned long long)(l).size, (l).group, (l).binding, (l).retries,                 \
        (unsigned long long)((l).centis / 100), (unsigned)((l).centis % 100), (l).mx_ip

/* ------------------------------------------------------------------ mtalog */

static logging_infrastructure *(*p_new)(const char *, const char *);
static void (*p_free)(logging_infrastructure *);
static const char *(*p_last_error)(const logging_infrastructure *);
static int (*p_stats)(const logging_infrastructure *, struct mtalog_stats *);
static logging_infrastructure *li;

static int load_lib(char *err, size_t cap) {
    void *h = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, cap, "dlopen: %s", dlerror());
        return -1;
    }
    *(void **)&p_new = dlsym(h, "mtalog_new");
    *(void **)&p_free = dlsym(h, "mtalog_free");
    *(void **)&p_last_error = dlsym(h, "mtalog_last_error");
    *(void **)&p_stats = dlsym(h, "mtalog_stats");
    if (!p_new || !p_free || !p_last_error || !p_stats) {
        snprintf(err, cap, "dlsym failed");
        return -1;
    }
    return 0;
}

static logging_infrastructure *mtalog_open(const char *kind, const char *dir, const char *extra,
                                           char *err, size_t cap) {
    char cfg[2048];
    char own[256] = "";
    if (strcmp(kind, "ec_logger") == 0)
        snprintf(own, sizeof own, "rejectlog = \"%s/reject.log\"\nheartbeat = 0\n", dir);
    else if (strcmp(kind, "postfix_logger") == 0)
        snprintf(own, sizeof own, "myhostname = mx.bench.example\npid = 4242\n");
    /* fsync = none: no peer fsyncs either. bounce_logger's one file is its bouncelog. A
     * key may be given once: `extra` naming the mainlog (a syslog destination) replaces
     * the file. */
    char main_file[1100] = "";
    if (!extra || strncmp(extra, "mainlog ", 8) != 0)
        snprintf(main_file, sizeof main_file, "mainlog = \"%s/main.log\"\n", dir);
    if (strcmp(kind, "bounce_logger") == 0)
        snprintf(cfg, sizeof cfg, "bouncelog = \"%s/main.log\"\nheartbeat = 0\nfsync = none\n%s",
                 dir, extra ? extra : "");
    else
        snprintf(cfg, sizeof cfg, "%spaniclog = \"%s/panic.log\"\n%sfsync = none\n%s", main_file,
                 dir, own, extra ? extra : "");
    logging_infrastructure *l = p_new(kind, "bench");
    if (!l) {
        snprintf(err, cap, "mtalog_new(%s) failed", kind);
        return NULL;
    }
    int rc = l->shared.log_init(l, cfg);
    if (rc != 0) {
        snprintf(err, cap, "log_init: %s", p_last_error(l));
        p_free(l);
        return NULL;
    }
    return l;
}

static void call_rejection(logging_infrastructure *l, struct timeval *tv, struct job *j,
                           const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    l->log_rejection(l, tv, (accept_construct *)&j->a, (validate_context *)&j->v, 6, fmt, ap);
    va_end(ap);
}

static inline void emit_mtalog(long i, struct job *j, struct timeval *tv, enum work w) {
    if (w == W_DELIVERY) {
        li->log_delivery(li, (abstract_message *)&j->m, (domain_record *)&j->d, tv, NOTE,
                         (int)sizeof NOTE - 1);
        return;
    }
    if (w == W_PERMANENT) {
        li->log_permanent_failure(li, (abstract_message *)&j->m, (domain_record *)&j->d, tv,
                                  BOUNCES[i & 15], bounce_len[i & 15]);
        return;
    }
    switch (i % 10) {
    case 0:
    case 1:
    case 2:
        li->log_reception(li, (accept_construct *)&j->a, (abstract_message *)&j->m, tv, NULL, 0);
        break;
    case 8:
        li->log_transient_failure(li, (abstract_message *)&j->m, (domain_record *)&j->d, tv,
                                  DEFER, (int)sizeof DEFER - 1);
        break;
    case 9:
        call_rejection(li, tv, j, "550 5.7.1 <%s>: relaying denied", j->rcpt);
        break;
    default:
        li->log_delivery(li, (abstract_message *)&j->m, (domain_record *)&j->d, tv, NOTE,
                         (int)sizeof NOTE - 1);
    }
}

/* ------------------------------------------------------------------ C peers */

static FILE *naive_f;
static pthread_mutex_t naive_mu = PTHREAD_MUTEX_INITIALIZER;
static int write_fd = -1;

/* The naive synchronous module: format and write under a mutex on the caller's thread. */
static inline void emit_naive(const struct job *j, const struct timeval *tv) {
    struct peer_line l;
    line_of(j, tv, &l);
    pthread_mutex_lock(&naive_mu);
    fprintf(naive_f, D_FMT, D_ARGS(l));
    pthread_mutex_unlock(&naive_mu);
}

/* One write(2) per line (O_APPEND keeps lines whole). */
static inline void emit_write(const struct job *j, const struct timeval *tv) {
    struct peer_line l;
    char buf[512];
    line_of(j, tv, &l);
    int n = snprintf(buf, sizeof buf, D_FMT, D_ARGS(l));
    if (write(write_fd, buf, (size_t)n) != n)
        abort();
}

/* The limit: hand-rolled formatting (with the escaping checks) into one buffer, 64 KiB
 * writes, one thread, no queue. */
static inline char *put_esc(char *p, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '@' || c == '\\' || c < 0x20 || c == 0x7f) {
            *p++ = '\\';
            *p++ = c < 0x20 ? 'x' : (char)c;
        } else {
            *p++ = (char)c;
        }
    }
    return p;
}

static inline char *put_u64(char *p, uint64_t v) {
    char tmp[20];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        *p++ = tmp[--k];
    return p;
}

/* The D line of call `i`, as mtalog writes it, at `p` (with its newline). */
static char *put_d_line(char *p, long i) {
    struct timeval tv;
    struct peer_line l;
    tv_of(i, &tv);
    line_of(&jobs[i & (NJOBS - 1)], &tv, &l);
    p = put_u64(p, (uint64_t)l.sec);
    *p++ = '@';
    p = put_esc(p, l.id);
    *p++ = '@';
    p = put_esc(p, l.batch);
    *p++ = '@';
    p = put_esc(p, l.conn);
    memcpy(p, "@D@", 3);
    p += 3;
    p = put_esc(p, l.domain);
    *p++ = '@';
    p = put_u64(p, l.size);
    *p++ = '@';
    p = put_esc(p, l.group);
    *p++ = '@';
    p = put_esc(p, l.binding);
    *p++ = '@';
    p = put_u64(p, l.retries);
    *p++ = '@';
    p = put_u64(p, l.centis / 100);
    *p++ = '.';
    *p++ = (char)('0' + l.centis % 100 / 10);
    *p++ = (char)('0' + l.centis % 10);
    *p++ = '@';
    p = put_esc(p, l.mx_ip);
    *p++ = '\n';
    return p;
}

static int run_limit(const char *path, long n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    enum { CHUNK = 64 * 1024 };
    char *buf = malloc(CHUNK + 4096), *p = buf;
    for (long i = 0; i < n; i++) {
        p = put_d_line(p, i);
        if (p - buf >= CHUNK) {
            if (write(fd, buf, (size_t)(p - buf)) != p - buf)
                return -1;
            p = buf;
        }
    }
    if (p > buf && write(fd, buf, (size_t)(p - buf)) != p - buf)
        return -1;
    free(buf);
    return close(fd);
}

/* ------------------------------------------------------------------ producers */

struct producer {
    pthread_t th;
    const struct run *r;
    long from, to;
    uint32_t *samples;
    long nsamples;
    pthread_barrier_t *start;
};

static inline void emit(const struct run *r, long i, struct job *j, struct timeval *tv) {
    switch (r->peer) {
    case P_MTALOG:
        emit_mtalog(i, j, tv, r->work);
        break;
    case P_NAIVE:
        emit_naive(j, tv);
        break;
    case P_WRITE:
        emit_write(j, tv);
        break;
#ifdef HAVE_SPDLOG
    case P_SPDLOG: {
        struct peer_line l;
        line_of(j, tv, &l);
        spdlog_peer_delivery(&l);
        break;
    }
#endif
    default:
        abort();
    }
}

static void *produce(void *arg) {
    struct producer *p = arg;
    const struct run *r = p->r;
    pthread_barrier_wait(p->start);
    if (r->mode == M_LOAD) {
        for (long i = p->from; i < p->to; i++) {
            struct timeval tv;
            struct job *j = &jobs[i & (NJOBS - 1)];
            tv_of(i, &tv);
            if (i % SAMPLE_EVERY == 0) {
                uint64_t t0 = now_ns();
                emit(r, i, j, &tv);
                uint64_t t1 = now_ns();
                p->samples[p->nsamples++] = (uint32_t)(t1 - t0 > UINT32_MAX ? UINT32_MAX : t1 - t0);
            } else {
                emit(r, i, j, &tv);
            }
        }
    } else {
        for (long i = p->from; i < p->to;) {
            for (int k = 0; k < BURST && i < p->to; k++, i++) {
                struct timeval tv;
                struct job *j = &jobs[i & (NJOBS - 1)];
                tv_of(i, &tv);
                uint64_t t0 = now_ns();
                emit(r, i, j, &tv);
                uint64_t t1 = now_ns();
                p->samples[p->nsamples++] = (uint32_t)(t1 - t0 > UINT32_MAX ? UINT32_MAX : t1 - t0);
            }
            struct timespec pause = {0, BURST_PAUSE_US * 1000};
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void percentiles(uint32_t *s, long n, struct result *res) {
    res->p50 = res->p99 = res->p999 = res->max = -1;
    if (n == 0)
        return;
    qsort(s, (size_t)n, sizeof *s, cmp_u32);
    res->p50 = s[n * 50 / 100];
    res->p99 = s[n * 99 / 100];
    res->p999 = s[n * 999 / 1000];
    res->max = s[n - 1];
}

/* ------------------------------------------------------------------ files */

static uint64_t count_lines(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static char buf[1 << 20];
    uint64_t n = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        const char *p = buf, *end = buf + r;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            n++;
            p++;
        }
    }
    close(fd);
    return n;
}

static void clean_dir(const char *dir) {
    static const char *names[] = {"main.log", "reject.log", "panic.log", "peer.log"};
    char path[1024];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
}

static uint64_t count_in(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return count_lines(path);
}

/* Lines one mtalog event of this kind writes to main.log (measured on 10 events). */
static int lines_per_event(const struct run *r, const char *dir, uint64_t *per10, char *err,
                           size_t cap) {
    char cal[1024];
    snprintf(cal, sizeof cal, "%s/calibrate", dir);
    mkdir(cal, 0755);
    clean_dir(cal);
    /* A small queue: the calibration must not raise the case's peak RSS. */
    logging_infrastructure *l = mtalog_open(r->kind, cal, "queue_size = 64\n", err, cap);
    if (!l)
        return -1;
    logging_infrastructure *keep = li;
    li = l;
    for (long i = 0; i < 10; i++) {
        struct timeval tv;
        tv_of(i, &tv);
        emit_mtalog(i, &jobs[i], &tv, r->work);
    }
    li->log_close(li);
    p_free(li);
    li = keep;
    *per10 = count_in(cal, "main.log") + count_in(cal, "reject.log");
    clean_dir(cal);
    rmdir(cal);
    return 0;
}

/* ------------------------------------------------------------------ syslog destinations */

/* The syslog rows: mtalog's syslog+tcp and syslog+relp destinations, and beside each the
 * receiver's ceiling: the same messages (the D line in the RFC 5424 header mtalog sends)
 * from a plain sender (one thread, 64 KiB writes; over RELP the same window of 128 with
 * the same low-water mark). The receiver is an rsyslogd of the case's own (configuration,
 * port on 127.0.0.1, work directory and pid file in the case's directory), stopped by its
 * pid; a case is timed from its first call until rsyslogd's file holds every line. */

static pid_t rsyslog_pid = -1;
static int rsyslog_port;
#define RELP_WINDOW 128

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int connect_port(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static const char *rsyslogd_path(void) {
    static const char *paths[] = {"/usr/sbin/rsyslogd", "/usr/bin/rsyslogd", "/sbin/rsyslogd"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/* Starts rsyslogd receiving `proto` ("tcp" or "relp") into DIR/recv.log; 1 = no rsyslogd. */
static int rsyslog_start(const char *dir, const char *proto, char *err, size_t cap) {
    const char *exe = rsyslogd_path();
    if (!exe) {
        snprintf(err, cap, "rsyslogd not installed (rsyslog, rsyslog-relp)");
        return 1;
    }
    char conf[1024], work[1024], pidf[1024], outf[1024];
    snprintf(conf, sizeof conf, "%s/rsyslog.conf", dir);
    snprintf(work, sizeof work, "%s/work", dir);
    snprintf(pidf, sizeof pidf, "%s/rsyslog.pid", dir);
    snprintf(outf, sizeof outf, "%s/rsyslogd.out", dir);
    mkdir(work, 0755);
    unlink(outf);
    char old[1100];
    snprintf(old, sizeof old, "%s/recv.log", dir);
    unlink(old);
    rsyslog_port = free_port();
    FILE *f = fopen(conf, "w");
    if (!f || rsyslog_port < 0) {
        snprintf(err, cap, "cannot write %s", conf);
        return -1;
    }
    fprintf(f,
            "global(workDirectory=\"%s\" maxMessageSize=\"64k\")\n"
            "module(load=\"im%s\")\n"
            "template(name=\"t\" type=\"string\" string=\"%%msg%%\\n\")\n"
            "ruleset(name=\"r\") { action(type=\"omfile\" file=\"%s/recv.log\" template=\"t\" "
            "ioBufferSize=\"64k\") }\n"
            "input(type=\"im%s\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"r\"%s)\n",
            work, proto, dir, proto, rsyslog_port,
            strcmp(proto, "relp") == 0 ? " maxDataSize=\"64k\"" : "");
    fclose(f);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(outf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(exe, exe, "-n", "-f", conf, "-i", pidf, (char *)NULL);
        _exit(127);
    }
    rsyslog_pid = pid;
    for (int k = 0; k < 2000; k++) {
        int fd = connect_port(rsyslog_port);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            rsyslog_pid = -1;
            snprintf(err, cap, "rsyslogd exited at start (see %s)", outf);
            return -1;
        }
        usleep(10000);
    }
    snprintf(err, cap, "rsyslogd does not listen");
    return -1;
}

/* Stops rsyslogd (by its pid) and removes its files from `dir`. */
static void rsyslog_stop(const char *dir) {
    if (rsyslog_pid > 0) {
        kill(rsyslog_pid, SIGTERM);
        waitpid(rsyslog_pid, NULL, 0);
    }
    rsyslog_pid = -1;
    static const char *names[] = {"recv.log", "rsyslog.conf", "rsyslog.pid", "rsyslogd.out"};
    char path[1024];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/work", dir);
    rmdir(path);
}

/* Waits until `path` holds `n` lines; returns the time it reached its final size (or -1
 * after `limit` seconds without growth). */
static double wait_lines(const char *path, uint64_t n, double limit) {
    off_t last = -1;
    double changed = now_s();
    for (;;) {
        struct stat st;
        off_t size = stat(path, &st) == 0 ? st.st_size : 0;
        double t = now_s();
        if (size != last) {
            last = size;
            changed = t;
        } else if (t - changed > 0.2 && count_lines(path) >= n) {
            return changed;
        } else if (t - changed > limit) {
            return -1;
        }
        usleep(2000);
    }
}

/* The RFC 5424 header mtalog puts before an ec_logger line (its time, host and pid
 * vary in length by a few bytes only). */
static char *put_5424(char *p) {
    static const char H[] = "<22>1 2026-11-23T11:08:57.602848+00:00 mx.bench.example ecelerity "
                            "4242 mainlog - ";
    memcpy(p, H, sizeof H - 1);
    return p + sizeof H - 1;
}

static int write_all(int fd, const char *b, size_t n) {
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads RELP frames until `*acked` counts `want` `rsp` frames (each ends in one LF); the
 * open's `rsp` (several LFs) is read by its length first. */
static int relp_read_acks(int fd, long *acked, long want, int *open_pending) {
    static char rx[65536];
    static size_t have;
    while (*open_pending || *acked < want) {
        int one = 1; /* as mtalog: acknowledge the server's small writes at once */
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        ssize_t k = read(fd, rx + have, sizeof rx - have);
        if (k <= 0)
            return -1;
        have += (size_t)k;
        size_t at = 0;
        if (*open_pending) {
            unsigned txnr, len;
            int head = 0;
            if (sscanf(rx, "%u rsp %u %n", &txnr, &len, &head) < 2 || head == 0)
                continue;
            if (have < (size_t)head + len + 1)
                continue;
            at = (size_t)head + len + 1;
            *open_pending = 0;
        }
        for (size_t i = at; i < have; i++)
            if (rx[i] == '\n') {
                (*acked)++;
                at = i + 1;
            }
        memmove(rx, rx + at, have - at);
        have -= at;
    }
    return 0;
}

/* The ceiling: `n` messages to rsyslog_port over `proto`, as fast as it takes them. */
static int plain_send(const char *proto, long n) {
    int fd = connect_port(rsyslog_port);
    if (fd < 0)
        return -1;
    int relp = strcmp(proto, "relp") == 0;
    enum { CHUNK = 64 * 1024 };
    char *buf = malloc(CHUNK + 8192), *p = buf, msg[1024];
    long acked = 0, sent = 0;
    int open_pending = 0;
    if (relp) {
        static const char OFFERS[] = "relp_version=0\nrelp_software=bench,1,-\ncommands=syslog";
        p += sprintf(p, "1 open %zu %s\n", sizeof OFFERS - 1, OFFERS);
        open_pending = 1;
        if (write_all(fd, buf, (size_t)(p - buf)) != 0 ||
            relp_read_acks(fd, &acked, 0, &open_pending) != 0)
            return -1;
        p = buf;
    }
    for (long i = 0; i < n; i++) {
        char *m = put_d_line(put_5424(msg), i) - 1; /* without the LF */
        size_t len = (size_t)(m - msg);
        if (relp)
            p += sprintf(p, "%ld syslog %zu ", i + 2, len);
        else
            p += sprintf(p, "%zu ", len);
        memcpy(p, msg, len);
        p += len;
        if (relp)
            *p++ = '\n';
        sent++;
        int window_full = relp && sent - acked >= RELP_WINDOW;
        if (p - buf >= CHUNK || window_full) {
            if (write_all(fd, buf, (size_t)(p - buf)) != 0)
                return -1;
            p = buf;
        }
        if (window_full && relp_read_acks(fd, &acked, sent - RELP_WINDOW / 2, &open_pending) != 0)
            return -1;
    }
    if (p > buf && write_all(fd, buf, (size_t)(p - buf)) != 0)
        return -1;
    if (relp && relp_read_acks(fd, &acked, sent, &open_pending) != 0)
        return -1;
    free(buf);
    close(fd);
    return 0;
}

/* The destination of a syslog row (`extra` = "@syslog+tcp" ...), or NULL. */
static const char *syslog_proto(const struct run *r) {
    if (!r->extra || strncmp(r->extra, "@syslog+", 8) != 0)
        return NULL;
    return r->extra + 8;
}

/* ------------------------------------------------------------------ one case */

static void run_case(const struct run *r, const char *dir, struct result *res) {
    long n = r->n ? r->n : N;
    if (r->mode == M_BURST && n > (long)BURST * MAX_BURSTS)
        n = (long)BURST * MAX_BURSTS;
    char path[1024];
    snprintf(path, sizeof path, "%s/peer.log", dir);
    uint64_t per10 = 10;
    res->ok = 0;
    res->calls = (uint64_t)n;

    const char *proto = syslog_proto(r);
    char recv_log[1024];
    snprintf(recv_log, sizeof recv_log, "%s/recv.log", dir);
    if (proto) {
        /* Syslog rows: at most 1,000,000 calls (rsyslogd's pace sets the time). */
        if (n > 1000000)
            n = 1000000;
        res->calls = (uint64_t)n;
        int st = rsyslog_start(dir, proto, res->note, sizeof res->note);
        if (st != 0) {
            res->ok = st > 0 ? 1 : -1;
            rsyslog_stop(dir);
            return;
        }
    }
    if (r->peer == P_SYSLOG) {
        double t0 = now_s();
        if (plain_send(proto, n) != 0) {
            res->ok = -1;
            snprintf(res->note, sizeof res->note, "plain sender: %s", strerror(errno));
        } else {
            double t1 = wait_lines(recv_log, (uint64_t)n, 30);
            res->secs = t1 - t0;
            if (t1 < 0)
                res->ok = -1;
        }
        res->lines = count_lines(recv_log);
        rsyslog_stop(dir);
        res->expect = (uint64_t)n;
        res->p50 = res->p99 = res->p999 = res->max = -1;
        return;
    }
    if (r->peer == P_LIMIT) {
        double t0 = now_s();
        if (run_limit(path, n) != 0) {
            res->ok = -1;
            snprintf(res->note, sizeof res->note, "limit: %s", strerror(errno));
            return;
        }
        res->secs = now_s() - t0;
        res->lines = count_lines(path);
        res->expect = (uint64_t)n;
        res->p50 = res->p99 = res->p999 = res->max = -1;
        return;
    }
    if (r->peer == P_MTALOG) {
        char dest[128];
        if (proto)
            snprintf(dest, sizeof dest, "mainlog = \"syslog+%s://127.0.0.1:%d\"\n", proto,
                     rsyslog_port);
        if (load_lib(res->note, sizeof res->note) != 0 ||
            lines_per_event(r, dir, &per10, res->note, sizeof res->note) != 0 ||
            !(li = mtalog_open(r->kind, dir, proto ? dest : r->extra, res->note,
                               sizeof res->note))) {
            res->ok = -1;
            rsyslog_stop(dir);
            return;
        }
    } else if (r->peer == P_NAIVE) {
        naive_f = fopen(path, "a");
    } else if (r->peer == P_WRITE) {
        write_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    } else if (r->peer == P_SPDLOG) {
#ifdef HAVE_SPDLOG
        if (spdlog_peer_open(path) != 0) {
            res->ok = -1;
            snprintf(res->note, sizeof res->note, "spdlog: cannot open %s", path);
            return;
        }
#endif
    }

    int nt = r->threads;
    struct producer ps[8];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)nt + 1);
    for (int t = 0; t < nt; t++) {
        ps[t].r = r;
        ps[t].from = n * t / nt;
        ps[t].to = n * (t + 1) / nt;
        long cap = r->mode == M_LOAD ? (ps[t].to - ps[t].from) / SAMPLE_EVERY + 2
                                     : ps[t].to - ps[t].from + 1;
        ps[t].samples = malloc((size_t)cap * sizeof(uint32_t));
        ps[t].nsamples = 0;
        ps[t].start = &start;
        pthread_create(&ps[t].th, NULL, produce, &ps[t]);
    }
    pthread_barrier_wait(&start);
    double t0 = now_s();
    for (int t = 0; t < nt; t++)
        pthread_join(ps[t].th, NULL);
    switch (r->peer) {
    case P_MTALOG: {
        int rc = li->log_close(li);
        if (rc != 0) {
            res->ok = -1;
            snprintf(res->note, sizeof res->note, "log_close: %d %s", rc, p_last_error(li));
        }
        break;
    }
    case P_NAIVE:
        fclose(naive_f);
        break;
    case P_WRITE:
        close(write_fd);
        break;
    case P_SPDLOG:
#ifdef HAVE_SPDLOG
        spdlog_peer_close();
#endif
        break;
    default:
        break;
    }
    res->secs = now_s() - t0;
    uint64_t received = 0;
    if (proto) {
        double t1 = wait_lines(recv_log, (uint64_t)n, 30);
        res->secs = t1 - t0;
        if (t1 < 0)
            res->ok = -1;
        received = count_lines(recv_log);
        rsyslog_stop(dir);
    }

    long total = 0;
    for (int t = 0; t < nt; t++)
        total += ps[t].nsamples;
    uint32_t *all = malloc((size_t)(total + 1) * sizeof(uint32_t));
    long k = 0;
    for (int t = 0; t < nt; t++) {
        memcpy(all + k, ps[t].samples, (size_t)ps[t].nsamples * sizeof(uint32_t));
        k += ps[t].nsamples;
        free(ps[t].samples);
    }
    percentiles(all, total, res);
    free(all);

    if (r->peer == P_MTALOG) {
        struct mtalog_stats st;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        p_stats(li, &st);
        res->dropped = st.dropped;
        p_free(li);
        res->lines = count_in(dir, "main.log") + count_in(dir, "reject.log");
        res->expect = ((uint64_t)n - st.dropped) * per10 / 10;
        if (proto) {
            res->lines = received;
            res->expect = (uint64_t)n - st.dropped;
        }
    } else {
        res->lines = count_lines(path);
        res->expect = (uint64_t)n;
    }
}

/* The tracing-appender peer is a Rust program: run it, read its figures, count its lines. */
static void run_tracing(const struct run *r, const char *dir, struct result *res, long *rss) {
    long n = r->n ? r->n : N;
    if (r->mode == M_BURST && n > (long)BURST * MAX_BURSTS)
        n = (long)BURST * MAX_BURSTS;
    char path[1024], ns[32], ts[8], bs[16];
    snprintf(path, sizeof path, "%s/peer.log", dir);
    if (access(tracing_bin, X_OK) != 0) {
        res->ok = 1;
        snprintf(res->note, sizeof res->note, "tracing peer not built (%s)", tracing_bin);
        return;
    }
    snprintf(ns, sizeof ns, "%ld", n);
    snprintf(ts, sizeof ts, "%d", r->threads);
    snprintf(bs, sizeof bs, "%s", r->mode == M_BURST ? "burst" : "load");
    int fds[2];
    if (pipe(fds) != 0) {
        res->ok = -1;
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl(tracing_bin, tracing_bin, ns, ts, bs, path, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[512] = {0};
    size_t got = 0;
    ssize_t k;
    while (got < sizeof buf - 1 && (k = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)k;
    close(fds[0]);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    *rss = ru.ru_maxrss;
    res->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    res->calls = (uint64_t)n;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        sscanf(buf, "%lf %lf %lf %lf %lf", &res->secs, &res->p50, &res->p99, &res->p999,
               &res->max) != 5) {
        res->ok = -1;
        snprintf(res->note, sizeof res->note, "tracing peer failed (status %d)", status);
        return;
    }
    res->ok = 0;
    res->lines = count_lines(path);
    res->expect = (uint64_t)n;
}

static void do_case(const struct run *r, int idx, struct result *res) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/case%02d", out_dir, idx);
    mkdir(out_dir, 0755);
    mkdir(dir, 0755);
    clean_dir(dir);
    memset(res, 0, sizeof *res);
    if (r->peer == P_SPDLOG) {
#ifndef HAVE_SPDLOG
        res->ok = 1;
        snprintf(res->note, sizeof res->note, "spdlog not installed (libspdlog-dev)");
        return;
#endif
    }
    if (r->peer == P_TRACING) {
        long rss = 0;
        run_tracing(r, dir, res, &rss);
        res->rss_kb = rss;
    } else {
        int fds[2];
        if (pipe(fds) != 0)
            exit(1);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            struct result cr;
            memset(&cr, 0, sizeof cr);
            run_case(r, dir, &cr);
            if (write(fds[1], &cr, sizeof cr) != (ssize_t)sizeof cr)
                _exit(2);
            _exit(0);
        }
        close(fds[1]);
        ssize_t got = read(fds[0], res, sizeof *res);
        close(fds[0]);
        int status;
        struct rusage ru;
        wait4(pid, &status, 0, &ru);
        if (got != (ssize_t)sizeof *res) {
            memset(res, 0, sizeof *res);
            res->ok = -1;
            snprintf(res->note, sizeof res->note, "case crashed (status %d)", status);
        }
        res->rss_kb = ru.ru_maxrss;
        res->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    }
    if (res->ok == 0 && res->lines != res->expect) {
        res->ok = -1;
        snprintf(res->note, sizeof res->note, "line count %llu, expected %llu",
                 (unsigned long long)res->lines, (unsigned long long)res->expect);
    }
    clean_dir(dir);
    rmdir(dir);
}

/* ------------------------------------------------------------------ the table */

static void fmt_rate(char *b, size_t cap, const struct result *r) {
    if (r->ok != 0 || r->secs <= 0)
        snprintf(b, cap, "-");
    else
        snprintf(b, cap, "%.2fM", (double)r->calls / r->secs / 1e6);
}

static void fmt_ns(char *b, size_t cap, double v) {
    if (v < 0)
        snprintf(b, cap, "-");
    else if (v >= 1e6)
        snprintf(b, cap, "%.1fms", v / 1e6);
    else if (v >= 1e4)
        snprintf(b, cap, "%.0fus", v / 1e3);
    else if (v >= 1e3)
        snprintf(b, cap, "%.1fus", v / 1e3);
    else
        snprintf(b, cap, "%.0fns", v);
}

static void fmt_ratio(char *b, size_t cap, double mine, double peer) {
    if (mine <= 0 || peer <= 0)
        snprintf(b, cap, "-");
    else
        snprintf(b, cap, "%.2fx", mine / peer);
}

/* The key a case's rounds are ranked by: events/s under load, p50 in bursts. */
static double rank_key(const struct run *r, const struct result *x) {
    if (x->ok != 0)
        return -1;
    if (r->mode == M_BURST)
        return -x->p50;
    return x->secs > 0 ? (double)x->calls / x->secs : 0;
}

/* The round with the median key (a failed round makes the case fail). */
static void pick_median(const struct run *r, struct result *reps, int n, struct result *out) {
    for (int k = 0; k < n; k++) {
        if (reps[k].ok != 0) {
            *out = reps[k];
            return;
        }
    }
    int order[MAX_ROUNDS];
    for (int k = 0; k < n; k++)
        order[k] = k;
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && rank_key(r, &reps[order[b]]) < rank_key(r, &reps[order[b - 1]]);
             b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    *out = reps[order[n / 2]];
}

static int usage(void) {
    fprintf(stderr, "usage: bench [-n N] [-r rounds] [-l libmtalog.so] [-o outdir] "
                    "[-t tracing_peer] [-f label-part]\n");
    return 2;
}

int main(int argc, char **argv) {
    int c;
    while ((c = getopt(argc, argv, "n:r:l:o:t:f:")) != -1) {
        switch (c) {
        case 'n':
            N = atol(optarg);
            break;
        case 'l':
            lib_path = optarg;
            break;
        case 'o':
            out_dir = optarg;
            break;
        case 't':
            tracing_bin = optarg;
            break;
        case 'f':
            only = optarg;
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        default:
            return usage();
        }
    }
    if (N < 1000 || rounds < 1 || rounds > MAX_ROUNDS)
        return usage();
    /* Absolute: the syslog rows give rsyslogd paths under it (its pid file, work
     * directory and output), and rsyslogd does not take relative ones. */
    static char out_abs[PATH_MAX];
    mkdir(out_dir, 0755);
    if (!realpath(out_dir, out_abs)) {
        fprintf(stderr, "bench: %s: %s\n", out_dir, strerror(errno));
        return 1;
    }
    out_dir = out_abs;
    make_jobs();
    const char *EC = "ec_logger";
    const char *Q4K = "queue_size = 4096\n";
    const char *Q64K_DROP = "overflow = drop\n";
    const char *Q1M_DROP = "overflow = drop\nqueue_size = 1048576\n";
    const char *Q1M = "queue_size = 1048576\n";
    struct run runs[] = {
        /* group 1: one producer under full load */
        {"mtalog ec_logger D", P_MTALOG, M_LOAD, W_DELIVERY, 1, EC, NULL, 0, 1},
        {"naive fprintf+mutex", P_NAIVE, M_LOAD, W_DELIVERY, 1, NULL, NULL, 0, 1},
        {"write(2) per line", P_WRITE, M_LOAD, W_DELIVERY, 1, NULL, NULL, 0, 1},
        {"spdlog async", P_SPDLOG, M_LOAD, W_DELIVERY, 1, NULL, NULL, 0, 1},
        {"tracing-appender", P_TRACING, M_LOAD, W_DELIVERY, 1, NULL, NULL, 0, 1},
        {"limit: format+64K writes", P_LIMIT, M_LIMIT, W_DELIVERY, 1, NULL, NULL, 0, 1},
        /* group 2: two producers under full load */
        {"mtalog ec_logger D", P_MTALOG, M_LOAD, W_DELIVERY, 2, EC, NULL, 0, 2},
        {"naive fprintf+mutex", P_NAIVE, M_LOAD, W_DELIVERY, 2, NULL, NULL, 0, 2},
        {"write(2) per line", P_WRITE, M_LOAD, W_DELIVERY, 2, NULL, NULL, 0, 2},
        {"spdlog async", P_SPDLOG, M_LOAD, W_DELIVERY, 2, NULL, NULL, 0, 2},
        {"tracing-appender", P_TRACING, M_LOAD, W_DELIVERY, 2, NULL, NULL, 0, 2},
        /* group 3/4: bursts of 100 calls with pauses (no back-pressure) */
        {"mtalog ec_logger D", P_MTALOG, M_BURST, W_DELIVERY, 1, EC, NULL, 0, 3},
        {"naive fprintf+mutex", P_NAIVE, M_BURST, W_DELIVERY, 1, NULL, NULL, 0, 3},
        {"spdlog async", P_SPDLOG, M_BURST, W_DELIVERY, 1, NULL, NULL, 0, 3},
        {"tracing-appender", P_TRACING, M_BURST, W_DELIVERY, 1, NULL, NULL, 0, 3},
        {"mtalog ec_logger D", P_MTALOG, M_BURST, W_DELIVERY, 2, EC, NULL, 0, 4},
        {"naive fprintf+mutex", P_NAIVE, M_BURST, W_DELIVERY, 2, NULL, NULL, 0, 4},
        {"spdlog async", P_SPDLOG, M_BURST, W_DELIVERY, 2, NULL, NULL, 0, 4},
        {"tracing-appender", P_TRACING, M_BURST, W_DELIVERY, 2, NULL, NULL, 0, 4},
        /* group 5: mtalog alone: mixed work, each kind */
        {"mtalog ec_logger mixed", P_MTALOG, M_LOAD, W_MIXED, 1, EC, NULL, 0, 5},
        {"mtalog ec_logger mixed", P_MTALOG, M_LOAD, W_MIXED, 2, EC, NULL, 0, 5},
        {"mtalog postfix_logger D", P_MTALOG, M_LOAD, W_DELIVERY, 1, "postfix_logger", NULL, 0,
         5},
        {"mtalog imta_logger D", P_MTALOG, M_LOAD, W_DELIVERY, 1, "imta_logger", NULL, 0, 5},
        {"mtalog json_logger D", P_MTALOG, M_LOAD, W_DELIVERY, 1, "json_logger", NULL, 0, 5},
        /* the same permanent failures: ec_logger's P line, bounce_logger's classified B */
        {"mtalog ec_logger P", P_MTALOG, M_LOAD, W_PERMANENT, 1, EC, NULL, 0, 5},
        {"mtalog bounce_logger P", P_MTALOG, M_LOAD, W_PERMANENT, 1, "bounce_logger", NULL, 0,
         5},
        /* group 6: memory bounded by queue_size, block and drop */
        {"mtalog q=4096 block", P_MTALOG, M_LOAD, W_DELIVERY, 1, EC, Q4K, 0, 6},
        {"mtalog q=65536 block", P_MTALOG, M_LOAD, W_DELIVERY, 1, EC, NULL, 0, 6},
        {"mtalog q=65536 drop", P_MTALOG, M_LOAD, W_DELIVERY, 1, EC, Q64K_DROP, 0, 6},
        {"mtalog q=1Mi block", P_MTALOG, M_LOAD, W_DELIVERY, 1, EC, Q1M, 0, 6},
        {"mtalog q=1Mi drop", P_MTALOG, M_LOAD, W_DELIVERY, 1, EC, Q1M_DROP, 0, 6},
        /* group 7/8: syslog destinations into rsyslogd, beside its ceiling */
        {"mtalog syslog+tcp", P_MTALOG, M_LOAD, W_DELIVERY, 1, EC, "@syslog+tcp", 0, 7},
        {"syslog plain sender tcp", P_SYSLOG, M_LIMIT, W_DELIVERY, 1, NULL, "@syslog+tcp", 0, 7},
        {"mtalog syslog+relp", P_MTALOG, M_LOAD, W_DELIVERY, 1, EC, "@syslog+relp", 0, 8},
        {"syslog plain sender relp", P_SYSLOG, M_LIMIT, W_DELIVERY, 1, NULL, "@syslog+relp", 0,
         8},
    };
    const int nruns = (int)(sizeof runs / sizeof *runs);
    static const char *titles[] = {
        "",
        "one producer, full load (first call to log_close returned, every line checked)",
        "two producers, full load",
        "one producer, bursts of 100 calls with 200 us pauses (every call timed)",
        "two producers, bursts of 100 calls with 200 us pauses",
        "mtalog alone: mixed work (30% R, 50% D, 10% T, 10% rejections), other kinds, "
        "permanent failures (P) with real reply texts",
        "memory: one producer outrunning the writer; RSS bounded by queue_size, not N",
        "syslog+tcp into rsyslogd on loopback (at most 1,000,000 calls; timed until rsyslogd's "
        "file holds every line; the ceiling: the same messages from a plain sender)",
        "syslog+relp into rsyslogd on loopback (window 128; the ceiling: a plain RELP sender "
        "with the same window)",
    };

    /* What timing a call costs by itself: the median of timing nothing. */
    uint32_t empty[1001];
    for (int i = 0; i < 1001; i++) {
        uint64_t t0 = now_ns();
        empty[i] = (uint32_t)(now_ns() - t0);
    }
    qsort(empty, 1001, sizeof *empty, cmp_u32);
    printf("mtalog benchmark: N = %ld calls per run, %d-byte D lines, latency from 1 call in %d "
           "(load) or every call (bursts),\nincluding the timer's own cost (median %u ns); "
           "events/s = calls / (first call .. log_close returned); CPU/ev = user+system CPU of "
           "all the case's threads per call\n",
           N, 184, SAMPLE_EVERY, empty[500]);
    printf("%-26s %4s %9s %7s %7s %7s %7s %8s %7s %8s | %s\n", "run", "thr", "events/s", "p50",
           "p99", "p99.9", "max", "RSS MiB", "CPU/ev", "dropped", "mtalog/peer: events/s, p99.9");
    static struct result res[64], reps[64][MAX_ROUNDS];
    int fails = 0;
    /* Rounds run every case in turn, so that a noisy spell of the machine hits mtalog and
     * its peers alike; each case reports its median round. */
    for (int k = 0; k < rounds; k++) {
        if (rounds > 1)
            fprintf(stderr, "round %d of %d\n", k + 1, rounds);
        for (int i = 0; i < nruns; i++) {
            if (only && !strstr(runs[i].label, only))
                continue;
            do_case(&runs[i], i, &reps[i][k]);
        }
    }
    for (int i = 0; i < nruns; i++) {
        const struct run *r = &runs[i];
        if (only && !strstr(r->label, only)) {
            res[i].ok = 1;
            continue;
        }
        pick_median(r, reps[i], rounds, &res[i]);
        if (i == 0 || runs[i - 1].group != r->group)
            printf("-- %s\n", titles[r->group]);
        const struct result *x = &res[i];
        if (x->ok == 1) {
            printf("%-26s %4d  skipped: %s\n", r->label, r->threads, x->note);
            continue;
        }
        if (x->ok < 0) {
            fails++;
            printf("%-26s %4d  FAILED: %s\n", r->label, r->threads, x->note);
            continue;
        }
        char rate[16], a[16], b[16], cc[16], d[16], ra[16] = "", rb[16] = "", drop[24], cpu[16];
        fmt_rate(rate, sizeof rate, x);
        if (r->mode == M_BURST)
            snprintf(rate, sizeof rate, "-");
        fmt_ns(a, sizeof a, x->p50);
        fmt_ns(b, sizeof b, x->p99);
        fmt_ns(cc, sizeof cc, x->p999);
        fmt_ns(d, sizeof d, x->max);
        fmt_ns(cpu, sizeof cpu, x->calls ? x->cpu_s * 1e9 / (double)x->calls : -1);
        snprintf(drop, sizeof drop, "%llu", (unsigned long long)x->dropped);
        /* The group's mtalog row is its first row. */
        int m = i;
        while (m > 0 && runs[m - 1].group == r->group)
            m--;
        const struct result *me = &res[m];
        if (m != i && (r->group <= 4 || r->group >= 7) && me->ok == 0) {
            if (r->mode == M_LOAD || r->mode == M_LIMIT)
                fmt_ratio(ra, sizeof ra, (double)me->calls / me->secs,
                          (double)x->calls / x->secs);
            else
                snprintf(ra, sizeof ra, "-");
            fmt_ratio(rb, sizeof rb, me->p999, x->p999);
        }
        printf("%-26s %4d %9s %7s %7s %7s %7s %8.1f %7s %8s | %s %s\n", r->label, r->threads,
               rate, a, b, cc, d, (double)x->rss_kb / 1024.0, cpu, drop, ra, rb);
    }
    return fails ? 1 : 0;
}
