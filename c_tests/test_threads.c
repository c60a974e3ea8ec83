/* 4 threads log deliveries concurrently: every line intact, every event exactly once.
 * And mtalog_last_error's text belongs to the thread that asked: failing calls on another
 * thread (which replace the logger's own text) never change or free it. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include "check.h"
#include "common.h"

#define THREADS 4
static logging_infrastructure *li;
static long per_thread;

static void *worker(void *arg) {
    long t = (long)(intptr_t)arg, n;
    char id[64];
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    struct timeval tv = {1700000042, 0};
    m.batch_id = NULL;
    for (n = 0; n < per_thread; n++) {
        snprintf(id, sizeof id, "T%ld-%ld", t, n);
        m.id = id;
        li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
    }
    return NULL;
}

static logging_infrastructure *err_li;
static long err_rounds;
static volatile int err_done;

static void *failing_calls(void *arg) {
    long n;
    (void)arg;
    /* No acctlog is configured: each call fails and sets the logger's last error. */
    for (n = 0; n < err_rounds; n++)
        if (mtalog_acct_log(err_li, NULL, 'N', "*:25", "192.0.2.1:1", "u", 1, NULL, NULL) !=
            -ENOENT)
            return (void *)1;
    err_done = 1;
    return NULL;
}

static void last_error_is_the_callers_copy(void) {
    pthread_t th;
    void *failed = NULL;
    long reads = 0, wrong = 0, k;
    const char *want = "acctlog is not configured for ec_logger 'lasterr'";
    err_rounds = scale(200000);
    err_li = mtalog_new("ec_logger", "lasterr");
    CHECK(err_li != NULL);
    if (!err_li) return;
    CHECK_EQ_INT(err_li->shared.log_init(err_li, ec_config(NULL)), 0);
    CHECK_EQ_INT(mtalog_acct_log(err_li, NULL, 'N', "*:25", NULL, "u", 1, NULL, NULL), -ENOENT);
    CHECK_EQ_INT(pthread_create(&th, NULL, failing_calls, NULL), 0);
    while (!err_done) {
        const char *e = mtalog_last_error(err_li);
        /* Read the text again and again while the other thread replaces the logger's. */
        for (k = 0; k < 20; k++) wrong += strcmp(e, want) != 0;
        reads++;
    }
    pthread_join(th, &failed);
    CHECK(failed == NULL);
    CHECK(reads > 0);
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(err_li->log_close(err_li), 0);
    mtalog_free(err_li);
}

int main(void) {
    pthread_t th[THREADS];
    long t, total, lines = 0, bad = 0, dup = 0, missing = 0;
    unsigned char *seen;
    char *text, *line, *save = NULL;
    size_t len;
    struct mtalog_stats s;

    per_thread = scale(100000);
    total = per_thread * THREADS;
    li = mtalog_new("ec_logger", "threads");
    CHECK(li != NULL);
    if (!li) return check_summary();
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), 0);
    for (t = 0; t < THREADS; t++) CHECK_EQ_INT(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t), 0);
    for (t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    CHECK_EQ_INT(li->log_close(li), 0);

    seen = calloc((size_t)total, 1);
    text = read_file(test_path("mainlog"), &len);
    CHECK(text != NULL && seen != NULL);
    if (text && seen) {
        CHECK(len > 0 && text[len - 1] == '\n');
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            long ats = 0, tt = -1, nn = -1;
            char *p;
            lines++;
            for (p = line; *p; p++) ats += *p == '@';
            if (ats != 11 || sscanf(line, "1700000042@T%ld-%ld@", &tt, &nn) != 2 || tt < 0 ||
                tt >= THREADS || nn < 0 || nn >= per_thread) {
                if (bad++ < 5) fprintf(stderr, "bad line: %s\n", line);
                continue;
            }
            if (seen[tt * per_thread + nn]++) dup++;
        }
        for (t = 0; t < total; t++) missing += !seen[t];
    }
    CHECK_EQ_INT(lines, total);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(dup, 0);
    CHECK_EQ_INT(missing, 0);
    CHECK_EQ_INT(count_lines(test_path("mainlog")), total);
    s = get_stats(li);
    CHECK_EQ_INT(s.accepted, total);
    CHECK_EQ_INT(s.written, total);
    CHECK_EQ_INT(s.dropped, 0);
    CHECK_EQ_INT(s.bytes_written, len);
    free(text);
    free(seen);
    mtalog_free(li);
    last_error_is_the_callers_copy();
    return check_summary();
}
