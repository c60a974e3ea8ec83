/* log_close waits for events, not for gzip (any user; reads .gz files with gzip -dc):
 *   A. With compress = true and a backlog of big rotated files to compress (left by an
 *      earlier run, found by the start-up sweep, plus those of this run), a close with a
 *      short close_timeout returns 0 at once: every event written, none dropped, nothing
 *      reported lost.
 *   B. The next start compresses what was left; every rotated file ends up compressed,
 *      its contents whole, with the mode of the file it replaced although the umask is
 *      077 all along.
 * The events are counted across the current, rotated and compressed files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "common.h"
#include "stuck.h"

#define PLANTED 4

/* Bytes of the planted files. */
static long planted_size(void) { return scale(3 << 20); }

/* Lines of `path` containing "@E" (an event of this test), gunzipped when it ends ".gz";
 * *bytes gets its (uncompressed) size. */
static long events_in(const char *path, long *bytes) {
    char cmd[8192], line[4096];
    long n = 0;
    FILE *f;
    size_t len = strlen(path);
    int gz = len > 3 && strcmp(path + len - 3, ".gz") == 0;
    *bytes = 0;
    if (gz) {
        snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
        f = popen(cmd, "r");
    } else {
        f = fopen(path, "r");
    }
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        *bytes += (long)strlen(line);
        if (strstr(line, "@E")) n++;
    }
    if (gz)
        CHECK_EQ_INT(pclose(f), 0);
    else
        fclose(f);
    return n;
}

typedef struct {
    long events;     /* events found in all the files */
    long plain;      /* rotated files not compressed */
    long gz;         /* compressed ones */
    long wrong_mode; /* compressed files whose mode is not 0644 */
    long tmp;        /* .tmp files left */
    long planted_ok; /* planted files (compressed or not) whose contents are whole */
} census_t;

static census_t census(void) {
    census_t c;
    DIR *d = opendir(test_dir());
    struct dirent *e;
    memset(&c, 0, sizeof c);
    if (!d) return c;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        char path[4096];
        long bytes = 0, events;
        struct stat st;
        if (strncmp(n, "mainlog", 7) != 0) continue;
        snprintf(path, sizeof path, "%s/%s", test_dir(), n);
        if (strstr(n, ".tmp")) {
            c.tmp++;
            continue;
        }
        events = events_in(path, &bytes);
        c.events += events;
        if (strcmp(n, "mainlog") == 0) continue;
        if (strstr(n, ".gz")) {
            c.gz++;
            if (stat(path, &st) != 0 || (st.st_mode & 07777) != 0644) {
                fprintf(stderr, "%s: mode %o\n", n, (unsigned)(st.st_mode & 07777));
                c.wrong_mode++;
            }
        } else {
            c.plain++;
        }
        if (strstr(n, ".1700000000") && events == 0 && bytes == planted_size()) c.planted_ok++;
    }
    closedir(d);
    return c;
}

/* Rotated files not compressed yet, and .tmp files (names only). */
static long uncompressed_left(void) {
    DIR *d = opendir(test_dir());
    struct dirent *e;
    long n = 0;
    if (!d) return -1;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "mainlog.", 8) == 0 &&
            (!strstr(e->d_name, ".gz") || strstr(e->d_name, ".tmp")))
            n++;
    closedir(d);
    return n;
}

/* The uncompressed leftovers of an earlier run: PLANTED files of mode 0644 and
 * planted_size() bytes each, of lines that compress slowly. */
static void plant(void) {
    unsigned long x = 12345;
    long size = planted_size();
    char *buf = malloc((size_t)size);
    CHECK(buf != NULL);
    if (!buf) return;
    for (long i = 0; i < size; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        buf[i] = (i % 100 == 99) ? '\n' : "0123456789abcdef"[(x >> 33) & 15];
    }
    for (int k = 1; k <= PLANTED; k++) {
        char name[64];
        int fd;
        snprintf(name, sizeof name, "mainlog.%d.1700000000", k);
        fd = open(test_path(name), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        CHECK(fd >= 0);
        if (fd < 0) continue;
        CHECK_EQ_INT(fchmod(fd, 0644), 0);
        CHECK_EQ_INT(write(fd, buf, (size_t)size), size);
        close(fd);
    }
    free(buf);
}

int main(void) {
    long n = 3000, i;
    char cfg[8192], extra[512];
    logging_infrastructure *li;
    struct mtalog_stats s;
    census_t c;
    double t0, took;
    int rc;

    umask(077);
    plant();

    /* A: a close with a compression backlog, and a short close_timeout (1 s; 20 s in the
     * scaled-down pass under valgrind, where one 64 KiB step of gzip takes seconds). */
    snprintf(extra, sizeof extra,
             "mainlog_mode = 0644\ncompress = true\nmax_file_size = 64K\nclose_timeout = %s\n",
             scale(1000) < 1000 ? "20s" : "1s");
    snprintf(cfg, sizeof cfg, "%s", ec_config(extra));
    li = mtalog_new("ec_logger", "gz");
    CHECK(li != NULL);
    if (!li) return check_summary();
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    for (i = 0; i < n; i++) deliver_numbered(li, "E", i);
    t0 = now_s();
    rc = li->log_close(li);
    took = now_s() - t0;
    printf("log_close with a compression backlog returned %d after %.3f s\n", rc, took);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(mtalog_last_error(li), "");
    s = get_stats(li);
    CHECK_EQ_INT(s.accepted, n);
    CHECK_EQ_INT(s.written, n);
    CHECK_EQ_INT(s.dropped, 0);
    CHECK(s.rotations >= 3);
    CHECK_EQ_INT(count_matching(test_path("paniclog"), "dropped"), 0);
    mtalog_free(li);
    c = census();
    printf("after the first run: %ld rotated files left uncompressed, %ld compressed\n",
           c.plain, c.gz);
    CHECK_EQ_INT(c.events, n);
    CHECK_EQ_INT(c.tmp, 0);
    CHECK_EQ_INT(c.planted_ok, PLANTED);

    /* B: the next start compresses what was left. */
    snprintf(cfg, sizeof cfg, "%s",
             ec_config("mainlog_mode = 0644\ncompress = true\nmax_file_size = 64K\n"));
    li = mtalog_new("ec_logger", "gz2");
    CHECK(li != NULL);
    if (!li) return check_summary();
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    t0 = now_s();
    while (uncompressed_left() > 0 && now_s() - t0 < 300) sleep_ms(50);
    printf("the next start compressed the rest in %.1f s\n", now_s() - t0);
    CHECK_EQ_INT(li->log_close(li), 0);
    mtalog_free(li);
    c = census();
    CHECK_EQ_INT(c.plain, 0);
    CHECK_EQ_INT(c.tmp, 0);
    CHECK(c.gz >= PLANTED + 3);
    CHECK_EQ_INT(c.wrong_mode, 0);
    CHECK_EQ_INT(c.planted_ok, PLANTED);
    CHECK_EQ_INT(c.events, n);
    return check_summary();
}
