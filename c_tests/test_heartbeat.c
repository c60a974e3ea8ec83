/* heartbeat = 1 writes M1 markers to mainlog and rejectlog; heartbeat = 0 none. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>
#include "check.h"

static long count_pattern(const char *path, const char *suffix) {
    char *s = read_file(path, NULL), *line, *save = NULL;
    long n = 0;
    if (!s) return 0;
    for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t d = strspn(line, "0123456789");
        if (d > 0 && strcmp(line + d, suffix) == 0) n++;
    }
    free(s);
    return n;
}

/* The times of the first two mainlog markers, or -1. */
static void first_two_marker_times(const char *path, long t[2]) {
    char *s = read_file(path, NULL), *line, *save = NULL;
    int n = 0;
    t[0] = t[1] = -1;
    if (!s) return;
    for (line = strtok_r(s, "\n", &save); line && n < 2; line = strtok_r(NULL, "\n", &save)) {
        size_t d = strspn(line, "0123456789");
        if (d > 0 && strcmp(line + d, "@@@@M1") == 0) t[n++] = strtol(line, NULL, 10);
    }
    free(s);
}

/* Two markers in each file (about 2 s at heartbeat = 1), waited for up to 10 s: a busy
 * machine may wake the writer late. A line read half written matches no pattern. */
static int two_markers(void) {
    return count_pattern(test_path("mainlog"), "@@@@M1") >= 2 &&
           count_pattern(test_path("rejectlog"), ": Marker 1") >= 2;
}

int main(void) {
    struct timespec ts = {0, 100000000};
    logging_infrastructure *li = mtalog_new("ec_logger", "hb");
    char cfg[8192];
    int waits = 0;
    CHECK(li != NULL);
    if (!li) return check_summary();
    snprintf(cfg, sizeof cfg, "%s", ec_config(NULL));
    strcpy(strstr(cfg, "heartbeat = 0"), "heartbeat = 1\n");
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    while (!two_markers() && ++waits < 100) nanosleep(&ts, NULL);
    CHECK_EQ_INT(li->log_close(li), 0);
    {
        /* One second apart: whole seconds, and a late wake-up (valgrind) may add some. */
        long t[2];
        first_two_marker_times(test_path("mainlog"), t);
        CHECK(t[0] > 0 && t[1] - t[0] >= 1 && t[1] - t[0] <= 3);
    }
    CHECK(count_pattern(test_path("mainlog"), "@@@@M1") >= 2);
    CHECK(count_pattern(test_path("rejectlog"), ": Marker 1") >= 2);
    CHECK_EQ_INT(count_pattern(test_path("mainlog"), "@@@@M1"), count_lines(test_path("mainlog")));
    mtalog_free(li);

    remove(test_path("mainlog"));
    remove(test_path("rejectlog"));
    li = mtalog_new("ec_logger", "hb0");
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), 0);
    ts.tv_sec = 1;
    ts.tv_nsec = 200000000;
    nanosleep(&ts, NULL);
    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(count_lines(test_path("mainlog")), 0);
    CHECK_EQ_INT(count_lines(test_path("rejectlog")), 0);
    mtalog_free(li);
    return check_summary();
}
