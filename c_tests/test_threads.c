/* 4 threads log deliveries concurrently: every line intact, every event exactly once. */
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
    return check_summary();
}
