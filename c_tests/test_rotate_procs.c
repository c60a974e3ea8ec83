/* Built-in rotation with many processes appending to one file: a parent and the children
 * it forks right after log_init each log numbered events under a max_file_size that
 * rotates the mainlog many times, first without, then with compress; then fewer processes
 * log for about three seconds under rollover_time = 1. Afterwards every event is in
 * exactly one of the current, rotated and compressed files (no rename replaced a rotated
 * file, no process kept appending to a file that was compressed or removed), no line is
 * torn, and no sequence number was given to two rotated files; by time, the file rotated
 * about once a second, not once per process. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "common.h"
#include "stuck.h"

#define CHILDREN 30
#define PROCS (CHILDREN + 1)

/* Counts the lines of `text` (from deliver_numbered with prefix "pK-"): seen[k * n + i]
 * for event i of process k; *other counts lines that are not such an event. Each line is
 * cut at its end (sscanf would measure the whole rest of the text each time). */
static void tally(char *text, size_t len, long n, unsigned char *seen, long *other) {
    size_t start = 0, i;
    for (i = 0; i < len; i++) {
        int k, used = 0;
        long e;
        const char *at;
        if (text[i] != '\n') continue;
        text[i] = 0;
        at = memchr(text + start, '@', i - start);
        if (at && sscanf(at + 1, "p%d-%ld@%n", &k, &e, &used) == 2 && used > 0 && k >= 0 &&
            k < PROCS && e >= 0 && e < n) {
            if (seen[k * n + e] < 255) seen[k * n + e]++;
        } else {
            (*other)++;
        }
        start = i + 1;
    }
    if (start < len) (*other)++; /* a torn last line */
}

/* The decompressed text of every `dir`/mainlog.*.gz (malloc'd, NUL-terminated), through
 * gzip -dc. */
static char *gunzip(const char *dir, size_t *len_out) {
    char cmd[4700], *buf;
    size_t cap = 1 << 16, len = 0, got;
    FILE *p;
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'/mainlog.*.gz", dir);
    p = popen(cmd, "r");
    if (!p) return NULL;
    buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - 1 - len, p)) > 0) {
        len += got;
        if (len == cap - 1) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    if (pclose(p) != 0 || !buf) {
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    *len_out = len;
    return buf;
}

/* The rotated files of `dir`/mainlog that are not compressed. */
static long uncompressed(const char *dir) {
    long n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        unsigned long seq, ts;
        int used = 0;
        if (sscanf(e->d_name, "mainlog.%lu.%lu%n", &seq, &ts, &used) == 2 && used > 0 &&
            e->d_name[used] == 0)
            n++;
    }
    if (d) closedir(d);
    return n;
}

/* One run in the directory `sub`: `children` forked children and the parent log `n` events
 * each, `pause_us` apart, with the rotation options `opts`. */
static void run(const char *sub, const char *opts, int children, long n, long pause_us) {
    char dir[4096], cfg[16384], path[4600];
    long i, other = 0, once = 0, twice = 0, missing = 0, rotated = 0, gz = 0, dup_seqs = 0;
    long seqs[4096];
    int nseqs = 0, report[2], k, status;
    unsigned char *seen;
    logging_infrastructure *li;
    pid_t pids[CHILDREN];
    double t0;
    DIR *d;
    struct dirent *e;

    snprintf(dir, sizeof dir, "%s", test_path(sub));
    CHECK_EQ_INT(mkdir(dir, 0755), 0);
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s/mainlog\"\nrejectlog = \"%s/rejectlog\"\npaniclog = \"%s/paniclog\"\n"
             "heartbeat = 0\n%s\n",
             dir, dir, dir, opts);
    li = mtalog_new("ec_logger", "procs");
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    /* The writer (and the helper that sweeps at start) settle before the forks: under
     * ASan a fork must not meet another thread inside malloc (see test_fork.c). */
    sleep_ms(300);
    fflush(NULL);
    CHECK_EQ_INT(pipe(report), 0);
    t0 = now_s();
    for (k = 0; k < children; k++) {
        pids[k] = fork();
        if (pids[k] == 0) {
            char verdict = 0, prefix[16];
            struct mtalog_stats s;
            close(report[0]);
            snprintf(prefix, sizeof prefix, "p%d-", k + 1);
            for (i = 0; i < n; i++) {
                deliver_numbered(li, prefix, i);
                if (pause_us) usleep((useconds_t)pause_us);
            }
            if (li->log_close(li) != 0) verdict |= 1;
            s = get_stats(li);
            if (s.accepted != (unsigned long long)n || s.written != (unsigned long long)n)
                verdict |= 2;
            verdict = (char)('A' + verdict);
            if (write(report[1], &verdict, 1) != 1) _exit(3);
            _exit(0);
        }
        CHECK(pids[k] > 0);
    }
    close(report[1]);
    for (i = 0; i < n; i++) {
        deliver_numbered(li, "p0-", i);
        if (pause_us) usleep((useconds_t)pause_us);
    }
    for (k = 0; k < children; k++) {
        char verdict = 0;
        CHECK_EQ_INT(read(report[0], &verdict, 1), 1);
        CHECK_EQ_INT(verdict, 'A');
    }
    close(report[0]);
    for (k = 0; k < children; k++) {
        CHECK_EQ_INT(waitpid(pids[k], &status, 0), pids[k]);
        /* The verdict came through the pipe: under valgrind the exit status is its own. */
        CHECK(WIFEXITED(status));
    }
    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(get_stats(li).written, n);
    mtalog_free(li);
    t0 = now_s() - t0;
    if (strstr(opts, "compress")) {
        /* What a process could not compress before it closed (another one still appended)
         * is compressed by the next one's sweep. */
        double end = now_s() + 60;
        li = mtalog_new("ec_logger", "sweep");
        CHECK(li != NULL);
        if (!li) return;
        CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
        while (uncompressed(dir) > 0 && now_s() < end) sleep_ms(20);
        CHECK_EQ_INT(uncompressed(dir), 0);
        CHECK_EQ_INT(li->log_close(li), 0);
        mtalog_free(li);
    }

    /* Every event of every process, in whichever file it went to. */
    seen = calloc((size_t)(PROCS * n), 1);
    CHECK(seen != NULL);
    if (!seen) return;
    d = opendir(dir);
    CHECK(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        unsigned long seq, ts;
        int used = 0;
        size_t len = 0;
        char *text = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, "mainlog") == 0) {
            text = read_file(path, &len);
        } else if (sscanf(e->d_name, "mainlog.%lu.%lu%n", &seq, &ts, &used) == 2 && used > 0) {
            const char *rest = e->d_name + used;
            rotated++;
            if (nseqs < (int)(sizeof seqs / sizeof seqs[0])) seqs[nseqs++] = (long)seq;
            if (strcmp(rest, ".gz") == 0) {
                gz++; /* read below, all at once */
            } else {
                CHECK_EQ_STR(rest, ""); /* no .gz.tmp left over */
                text = read_file(path, &len);
            }
        } else {
            continue;
        }
        if (text) tally(text, len, n, seen, &other);
        free(text);
    }
    if (d) closedir(d);
    if (gz > 0) {
        size_t len = 0;
        char *text = gunzip(dir, &len);
        CHECK(text != NULL);
        if (text) tally(text, len, n, seen, &other);
        free(text);
    }
    for (i = 0; i < (children + 1) * n; i++) {
        if (seen[i] == 1) once++;
        else if (seen[i] == 0) missing++;
        else twice++;
    }
    free(seen);
    printf("%s: %.1f s, %ld rotated files (%ld compressed); events once %ld, missing %ld, "
           "more than once %ld, other lines %ld\n",
           sub, t0, rotated, gz, once, missing, twice, other);
    CHECK_EQ_INT(once, (children + 1) * n);
    CHECK_EQ_INT(missing, 0);
    CHECK_EQ_INT(twice, 0);
    CHECK_EQ_INT(other, 0);
    if (strstr(opts, "max_file_size")) {
        /* Rotated many times (lines are about 200 bytes). */
        CHECK(rotated >= (children + 1) * n * 200 / (32 * 1024) / 2);
    } else {
        /* By time: about once a second, by one process for all. */
        CHECK(rotated >= 1);
        CHECK(rotated <= (long)t0 + 2);
    }
    /* Each rotated file under its own number. */
    for (k = 0; k < nseqs; k++)
        for (i = k + 1; i < nseqs; i++)
            if (seqs[k] == seqs[i] && dup_seqs++ < 5)
                fprintf(stderr, "sequence number %ld used twice\n", seqs[k]);
    CHECK_EQ_INT(dup_seqs, 0);
    if (strstr(opts, "compress")) CHECK_EQ_INT(gz, rotated);
    /* Nothing went wrong that mtalog noticed. */
    snprintf(path, sizeof path, "%s/paniclog", dir);
    CHECK_EQ_INT(count_matching(path, "mtalog:"), 0);
}

int main(void) {
    long n = scale(1000);
    /* Fewer processes at a small scale (the valgrind pass, where 31 processes sharing two
     * cores hold the file's lock for seconds, past what a process waits for it). */
    int children = n < 500 ? 6 : CHILDREN;
    run("plain", "max_file_size = 32K", children, n, 0);
    run("gz", "max_file_size = 32K\ncompress = true", children, n, 0);
    /* About three seconds, whatever the scale (fewer events under valgrind). */
    run("time", "rollover_time = 1", 8, scale(300), 3000000 / scale(300));
    return check_summary();
}
