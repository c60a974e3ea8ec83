/* bounce_logger loaded with dlopen: out-of-band bounces through mtalog_bounce_log, in-band
 * bounces through log_permanent_failure, transient failures through log_transient_failure;
 * every record checked exactly; the refusals (NULL arguments, before log_init, after
 * log_close, a kind without a bounce record, a full queue in drop mode) with their codes
 * and reasons. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "common.h"

typedef logging_infrastructure *(*new_fn_t)(const char *, const char *);
typedef void (*free_fn_t)(logging_infrastructure *);
typedef int (*stats_fn_t)(const logging_infrastructure *, struct mtalog_stats *);
typedef int (*bounce_fn_t)(logging_infrastructure *, const struct timeval *, abstract_message *,
                           domain_record *, const char *, int);
typedef const char *(*last_error_fn_t)(const logging_infrastructure *);

static new_fn_t new_fn;
static free_fn_t free_fn;
static stats_fn_t stats_fn;
static bounce_fn_t bounce_fn;
static last_error_fn_t last_error_fn;

#define ENV "alice@dest.example@news@sender.example@group-a@vip-1"

static struct mtalog_stats stats_of(logging_infrastructure *li) {
    struct mtalog_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    CHECK_EQ_INT(stats_fn(li, &s), 0);
    return s;
}

/* mtalog_bounce_log with a NUL-terminated text. */
static int bounce(logging_infrastructure *li, struct timeval *tv, mtalog_message *m,
                  mtalog_domain *d, const char *text) {
    return bounce_fn(li, tv, (abstract_message *)m, (domain_record *)d, text,
                     text ? (int)strlen(text) : 0);
}

static void records(void) {
    logging_infrastructure *li = new_fn("bounce_logger", "bounces");
    struct timeval tv = {1700000042, 0};
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    mtalog_accept a = ref_accept();
    char cfg[4096], *text;
    uint64_t errors;

    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_STR(li->shared.module_name, "bounce_logger");
    CHECK(li->shared.module_description != NULL && li->shared.module_description[0] != 0);

    /* Before log_init. */
    CHECK_EQ_INT(bounce(li, &tv, &m, &d, "550 5.1.1 user unknown"), -ECANCELED);
    CHECK_CONTAINS(last_error_fn(li), "before log_init");
    CHECK_EQ_INT(stats_of(li).input_errors, 1);

    snprintf(cfg, sizeof cfg, "bouncelog = \"%s\"\nheartbeat = 0\n", test_path("bouncelog"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);

    /* Bad arguments: NULL li, NULL original, bad text_len. */
    CHECK_EQ_INT(bounce(NULL, &tv, &m, &d, "550 x"), -EINVAL);
    CHECK_EQ_INT(bounce_fn(li, &tv, NULL, DOM(d), "550 x", 5), -EINVAL);
    CHECK_CONTAINS(last_error_fn(li), "mtalog_bounce_log: original is NULL");
    CHECK_EQ_INT(bounce_fn(li, &tv, MSG(m), DOM(d), "550 x", -1), -EINVAL);
    CHECK_CONTAINS(last_error_fn(li), "text_len -1");
    CHECK_EQ_INT(bounce_fn(li, &tv, MSG(m), DOM(d), NULL, 5), -EINVAL);
    CHECK_EQ_INT(bounce_fn(li, &tv, MSG(m), DOM(d), "550 x", (1 << 20) + 1), -EINVAL);
    CHECK_EQ_INT(stats_of(li).input_errors, 5);

    /* Out-of-band bounces: stage 21 whatever the message says; no domain; no text. */
    m.stage = 9;
    CHECK_EQ_INT(bounce(li, &tv, &m, &d,
                        "550 5.1.1 <alice@dest.example>: Recipient address rejected: User "
                        "unknown in virtual mailbox table"),
                 0);
    CHECK_EQ_INT(bounce_fn(li, &tv, MSG(m), NULL, "Automatic reply: Out of the office", 34), 0);
    CHECK_EQ_INT(bounce_fn(li, &tv, MSG(m), DOM(d), NULL, 0), 0);
    /* The text is read as long as text_len says: not NUL-terminated. */
    CHECK_EQ_INT(bounce_fn(li, &tv, MSG(m), DOM(d), "552 5.3.4 message too big; garbage", 25), 0);

    /* In-band: the hooks. */
    li->log_permanent_failure(li, MSG(m), DOM(d), &tv,
                              "552 5.2.2 <alice@dest.example>: user is over quota", 50);
    m.stage = 4;
    li->log_transient_failure(li, MSG(m), DOM(d), &tv,
                              "451 4.7.1 Greylisted, please try again in 300 seconds", 53);
    /* The other events are not bounce_logger's: filtered at the hook. */
    li->log_reception(li, ACC(a), MSG(m), &tv, NULL, 0);
    li->log_delivery(li, MSG(m), DOM(d), &tv, "250 ok", 6);
    li->log_attempt(li, MSG(m), DOM(d), &tv, NULL, 0);

    CHECK_EQ_INT(li->log_close(li), 0);
    text = read_file(test_path("bouncelog"), NULL);
    CHECK_EQ_STR(text,
                 "1700000042@" IDS "@B@" ENV "@21@10@4821@198.51.100.25@550 5.1.1 "
                 "<alice@dest.example>: Recipient address rejected: User unknown in virtual "
                 "mailbox table\n"
                 "1700000042@" IDS "@B@" ENV "@21@60@4821@@Automatic reply: Out of the office\n"
                 "1700000042@" IDS "@B@" ENV "@21@1@4821@198.51.100.25@\n"
                 "1700000042@" IDS "@B@" ENV "@21@23@4821@198.51.100.25@552 5.3.4 message too big\n"
                 "1700000042@" IDS "@B@" ENV "@9@22@4821@198.51.100.25@552 5.2.2 "
                 "<alice@dest.example>: user is over quota\n"
                 "1700000042@" IDS "@T@" ENV "@4@70@4821@198.51.100.25@451 4.7.1 Greylisted, "
                 "please try again in 300 seconds\n");
    free(text);
    {
        struct mtalog_stats s = stats_of(li);
        CHECK_EQ_INT(s.accepted, 6);
        CHECK_EQ_INT(s.written, 6);
        CHECK_EQ_INT(s.filtered, 3);
    }

    /* After log_close. */
    errors = stats_of(li).input_errors;
    CHECK_EQ_INT(bounce(li, &tv, &m, &d, "550 5.1.1 user unknown"), -ECANCELED);
    CHECK_CONTAINS(last_error_fn(li), "after log_close");
    CHECK_EQ_INT(stats_of(li).input_errors, errors + 1);
    CHECK_EQ_INT(count_lines(test_path("bouncelog")), 6);
    free_fn(li);
}

/* log_outofband_bounces = false: accepted (0), counted as filtered, not written. */
static void out_of_band_off(void) {
    logging_infrastructure *li = new_fn("bounce_logger", "inband-only");
    struct timeval tv = {1700000042, 0};
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    char cfg[4096], *text;
    CHECK(li != NULL);
    if (!li) return;
    snprintf(cfg, sizeof cfg,
             "bouncelog = \"%s\"\nheartbeat = 0\nlog_outofband_bounces = false\n",
             test_path("inband-only"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    CHECK_EQ_INT(bounce(li, &tv, &m, &d, "550 5.1.1 user unknown"), 0);
    m.stage = 9;
    li->log_permanent_failure(li, MSG(m), DOM(d), &tv, "550 5.1.1 user unknown", 22);
    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(stats_of(li).filtered, 1);
    text = read_file(test_path("inband-only"), NULL);
    CHECK_EQ_STR(text,
                 "1700000042@" IDS "@B@" ENV "@9@10@4821@198.51.100.25@550 5.1.1 user unknown\n");
    free(text);
    free_fn(li);
}

/* ec_logger has no bounce record: -ENOTSUP, and its mainlog keeps the in-band P line. */
static void other_kinds(void) {
    logging_infrastructure *li = new_fn("ec_logger", "main");
    struct timeval tv = {1700000042, 0};
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    char cfg[4096], *text;
    CHECK(li != NULL);
    if (!li) return;
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s\"\nrejectlog = \"%s\"\npaniclog = \"%s\"\nheartbeat = 0\n",
             test_path("ec.main"), test_path("ec.reject"), test_path("ec.panic"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    CHECK_EQ_INT(bounce(li, &tv, &m, &d, "550 5.1.1 user unknown"), -ENOTSUP);
    CHECK_CONTAINS(last_error_fn(li), "ec_logger 'main' writes no bounce records");
    m.stage = 9;
    li->log_permanent_failure(li, MSG(m), DOM(d), &tv, "550 5.1.1 user unknown", 22);
    CHECK_EQ_INT(li->log_close(li), 0);
    text = read_file(test_path("ec.main"), NULL);
    CHECK_EQ_STR(text, "1700000042@" IDS "@P@dest.example@0@group-a@vip-1@9@0@44.06@"
                       "198.51.100.25@550 5.1.1 user unknown\n");
    free(text);
    free_fn(li);

    li = new_fn("postfix_logger", "pf");
    CHECK(li != NULL);
    if (!li) return;
    snprintf(cfg, sizeof cfg, "mainlog = \"%s\"\npaniclog = \"%s\"\n", test_path("pf.main"),
             test_path("pf.panic"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    CHECK_EQ_INT(bounce(li, &tv, &m, &d, "550 5.1.1 user unknown"), -ENOTSUP);
    CHECK_EQ_INT(li->log_close(li), 0);
    free_fn(li);

    /* json_logger writes a bounce's class in its permanent_failure records, but has no
     * out-of-band record either. */
    li = new_fn("json_logger", "js");
    CHECK(li != NULL);
    if (!li) return;
    snprintf(cfg, sizeof cfg, "mainlog = \"%s\"\n", test_path("js.main"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    CHECK_EQ_INT(bounce(li, &tv, &m, &d, "550 5.1.1 user unknown"), -ENOTSUP);
    CHECK_CONTAINS(last_error_fn(li), "json_logger 'js' writes no bounce records");
    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(count_lines(test_path("js.main")), 0);
    free_fn(li);
}

typedef struct {
    int fd;
    size_t len;
} drain_t;

/* Reads the FIFO until every writer has closed it. */
static void *drain(void *arg) {
    drain_t *dr = arg;
    char buf[65536];
    ssize_t n;
    fcntl(dr->fd, F_SETFL, fcntl(dr->fd, F_GETFL) & ~O_NONBLOCK);
    while ((n = read(dr->fd, buf, sizeof buf)) > 0)
        dr->len += (size_t)n;
    return NULL;
}

/* A bouncelog that nobody reads (a FIFO) and overflow = drop: once the queue is full,
 * mtalog_bounce_log returns -EAGAIN and the record is counted dropped. */
static void full_queue(void) {
    logging_infrastructure *li = new_fn("bounce_logger", "full");
    struct timeval tv = {1700000042, 0};
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    char cfg[8192], fifo[4096], text[1000];
    drain_t dr = {-1, 0};
    pthread_t th;
    struct timespec t0, t;
    long again = 0, calls = 0;
    struct mtalog_stats s;
    CHECK(li != NULL);
    if (!li) return;
    snprintf(fifo, sizeof fifo, "%s", test_path("full.fifo"));
    CHECK_EQ_INT(mkfifo(fifo, 0644), 0);
    dr.fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a reader that does not read yet */
    CHECK(dr.fd >= 0);
    snprintf(cfg, sizeof cfg,
             "bouncelog = \"%s\"\nheartbeat = 0\noverflow = drop\nqueue_size = 16\n"
             "flush_interval = 10ms\n",
             fifo);
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    memset(text, 'x', sizeof text);
    memcpy(text, "550 5.1.1 ", 10);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        int rc = bounce_fn(li, &tv, MSG(m), DOM(d), text, (int)sizeof text);
        calls++;
        if (rc == -EAGAIN) again++;
        else CHECK_EQ_INT(rc, 0);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (again == 0 && t.tv_sec - t0.tv_sec < 60);
    CHECK_EQ_INT(again, 1);
    s = stats_of(li);
    CHECK_EQ_INT(s.dropped_permanent_failure, 1);
    CHECK_EQ_INT(s.accepted, calls - 1);
    pthread_create(&th, NULL, drain, &dr);
    CHECK_EQ_INT(li->log_close(li), 0);
    free_fn(li);
    pthread_join(th, NULL);
    close(dr.fd);
    /* Every accepted record came through, whole. */
    CHECK_EQ_INT((long)dr.len, (calls - 1) * (long)(strlen("1700000042@" IDS "@B@" ENV
                                                           "@21@10@4821@198.51.100.25@\n") +
                                                    sizeof text));
}

int main(void) {
    const char *lib = getenv("MTALOG_LIB");
    void *h;
    CHECK(lib != NULL);
    if (!lib) return check_summary();
    h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    CHECK(h != NULL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return check_summary();
    }
    *(void **)&new_fn = dlsym(h, "mtalog_new");
    *(void **)&free_fn = dlsym(h, "mtalog_free");
    *(void **)&stats_fn = dlsym(h, "mtalog_stats");
    *(void **)&bounce_fn = dlsym(h, "mtalog_bounce_log");
    *(void **)&last_error_fn = dlsym(h, "mtalog_last_error");
    CHECK(new_fn && free_fn && stats_fn && bounce_fn && last_error_fn);
    if (new_fn && free_fn && stats_fn && bounce_fn && last_error_fn) {
        records();
        out_of_band_off();
        other_kinds();
        full_queue();
    }
    dlclose(h);
    return check_summary();
}
