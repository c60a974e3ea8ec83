/* A writer that cannot write: the mainlog is a FIFO nobody reads, so the writer blocks in
 * write() (as on a hung network filesystem). With overflow = block, a tiny queue and
 * block_timeout, a hook returns after about block_timeout and its event is counted dropped;
 * fork() returns after about a second and the child's logger is closed;
 * log_close returns -ETIMEDOUT within close_timeout; once the FIFO is drained the logger is
 * freed, and what came through is whole lines, none twice. Timings are checked against
 * generous upper bounds only. Runs as any user. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "common.h"
#include "stuck.h"

/* The FIFO is drained DRAIN_AFTER seconds after log_close starts: log_close must return
 * long before, bounded by close_timeout although the writer is stuck inside write(2). */
#define DRAIN_AFTER 6

typedef struct {
    int fd;
    char *buf;
    size_t len, cap;
} drain_t;

/* Waits DRAIN_AFTER seconds, then reads the FIFO until every writer has closed it. */
static void *drain(void *arg) {
    drain_t *d = arg;
    int flags = fcntl(d->fd, F_GETFL);
    struct timespec wait = {DRAIN_AFTER, 0};
    nanosleep(&wait, NULL);
    fcntl(d->fd, F_SETFL, flags & ~O_NONBLOCK);
    for (;;) {
        ssize_t n;
        if (d->len == d->cap) {
            char *nb = realloc(d->buf, d->cap * 2 + 4096);
            if (!nb) break;
            d->buf = nb;
            d->cap = d->cap * 2 + 4096;
        }
        n = read(d->fd, d->buf + d->len, d->cap - d->len);
        if (n <= 0) break;
        d->len += (size_t)n;
    }
    return NULL;
}

int main(void) {
    char cfg[8192], fifo[4096];
    logging_infrastructure *li = mtalog_new("ec_logger", "blocked");
    struct mtalog_stats s;
    long n = 0, lines = 0, bad = 0, dup = 0;
    double t0, took;
    drain_t d = {-1, NULL, 0, 0};
    pthread_t th;
    unsigned char *seen;
    size_t i, start = 0;
    int rc;

    CHECK(li != NULL);
    if (!li) return check_summary();
    snprintf(fifo, sizeof fifo, "%s", test_path("mainlog"));
    CHECK_EQ_INT(mkfifo(fifo, 0644), 0);
    d.fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a reader that does not read */
    CHECK(d.fd >= 0);
    snprintf(cfg, sizeof cfg, "%s",
             ec_config("overflow = block\nqueue_size = 16\nblock_timeout = 200ms\n"
                       "close_timeout = 1s\nflush_interval = 10ms\n"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);

    /* Fill the pipe, the writer's buffer and the queue: then a hook has to wait. */
    check_block_timeout(li, "B", &n);

    /* fork() while the writer is stuck inside write(2) returns after about a second: it
     * does not wait for the write. In the child this logger is closed (the stuck write's
     * file lock stays locked there): hooks are refused and counted, and it says why. */
    {
        int report[2], status = -1;
        char verdict = 0;
        pid_t pid;
        CHECK_EQ_INT(pipe(report), 0);
        t0 = now_s();
        pid = fork();
        if (pid == 0) {
            char v = 0;
            deliver_numbered(li, "X", 0);
            if (get_stats(li).input_errors != 1) v |= 1;
            if (!strstr(mtalog_last_error(li), "forked")) v |= 2;
            if (li->log_close(li) != -ECANCELED) v |= 4;
            v = (char)('A' + v);
            if (write(report[1], &v, 1) != 1) _exit(3);
            _exit(0);
        }
        took = now_s() - t0;
        printf("fork() with the writer stuck in write() took %.3f s\n", took);
        CHECK(pid > 0);
        CHECK(took < 4.0);
        close(report[1]);
        CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
        CHECK_EQ_INT(read(report[0], &verdict, 1), 1);
        CHECK_EQ_INT(verdict, 'A');
        close(report[0]);
    }

    /* The writer is stuck in write(): log_close gives up after close_timeout. */
    CHECK_EQ_INT(pthread_create(&th, NULL, drain, &d), 0);
    t0 = now_s();
    rc = li->log_close(li);
    took = now_s() - t0;
    printf("log_close with the writer stuck took %.3f s (close_timeout 1 s)\n", took);
    CHECK_EQ_INT(rc, -ETIMEDOUT);
    CHECK(took < DRAIN_AFTER - 1);
    CHECK(strlen(mtalog_last_error(li)) > 0);
    CHECK_EQ_INT(li->log_close(li), -ECANCELED);
    s = get_stats(li);
    printf("accepted %llu written %llu dropped %llu\n", (unsigned long long)s.accepted,
           (unsigned long long)s.written, (unsigned long long)s.dropped);

    /* Once the FIFO is read the writer's write() returns; free joins it. */
    mtalog_free(li);
    pthread_join(th, NULL);
    close(d.fd);

    /* What came through: whole D lines, none twice. */
    seen = calloc((size_t)n + 1, 1);
    CHECK(seen != NULL);
    for (i = 0; seen && i < d.len; i++) {
        long id = -1, ats = 0;
        char *line, *p;
        int used = 0;
        if (d.buf[i] != '\n') continue;
        d.buf[i] = 0;
        line = d.buf + start;
        start = i + 1;
        lines++;
        for (p = line; *p; p++) ats += *p == '@';
        if (ats != 11 || sscanf(line, "1700000042@B%ld@%n", &id, &used) != 1 || used == 0 ||
            id < 0 || id >= n) {
            if (bad++ < 5) fprintf(stderr, "bad line: %.200s\n", line);
            continue;
        }
        if (seen[id]++) dup++;
    }
    printf("%ld events logged, %ld lines came through, %zu bytes after the last newline\n", n,
           lines, d.len - start);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(dup, 0);
    CHECK_EQ_INT(start, d.len); /* no torn line */
    CHECK(lines > 0);
    /* The counters were read when log_close gave up: the writer, still stuck then, may
     * have written more lines once the FIFO was read, never more than were logged. */
    CHECK(lines >= (long)s.written);
    CHECK(lines <= n - (long)s.dropped);
    free(seen);
    free(d.buf);
    return check_summary();
}
