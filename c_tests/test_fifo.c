/* FIFOs as log paths (any user):
 *   A. log_init with a FIFO that no process reads returns -ENXIO at once, saying why (it
 *      does not wait for a reader); a reopen onto such a FIFO returns -ENXIO at once too,
 *      and logging goes on in the old file.
 *   B. A host with SIGPIPE at its default disposition (which would end the process) logs
 *      to a FIFO whose reader goes away: the host survives; the write fault (EPIPE) is
 *      counted once in write_errors and reported to the paniclog; when a reader comes back
 *      writing resumes by itself, and every event arrives once.
 * Each part runs in a child process, so that a hang or a signal fails the part instead of
 * the whole program. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "common.h"
#include "stuck.h"

/* Runs `part` in a child; fails when it does not exit with 0 within `limit` seconds. */
static void in_child(const char *name, int (*part)(void), double limit) {
    double t0 = now_s();
    int status = 0;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid == 0) _exit(part());
    CHECK(pid > 0);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_s() - t0 > limit) {
            fprintf(stderr, "%s: still running after %.0f s; killed\n", name, limit);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        sleep_ms(10);
    }
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: the host was killed by signal %d (%s)\n", name, WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Number of '\n' in `text` (0 for NULL). */
static long count_lines_in(const char *text) {
    long n = 0;
    for (; text && *text; text++) n += *text == '\n';
    return n;
}

/* Reads `fd` (non-blocking) until `want` lines came, 20 s at most; returns the text. */
static char *read_lines(int fd, long want) {
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    long lines = 0;
    double t0 = now_s();
    while (buf && lines < want && now_s() - t0 < 20) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++) lines += buf[len + i] == '\n';
            len += (size_t)n;
            if (len == cap) break;
        } else {
            sleep_ms(5);
        }
    }
    if (buf) buf[len] = 0;
    return buf;
}

static int readerless_fifo(void) {
    char cfg[8192], fifo[4096], old[4096];
    logging_infrastructure *li = mtalog_new("ec_logger", "nofifo");
    double t0;
    int rc;

    snprintf(fifo, sizeof fifo, "%s", test_path("unread"));
    CHECK_EQ_INT(mkfifo(fifo, 0644), 0);
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s\"\nrejectlog = \"%s\"\npaniclog = \"%s\"\nheartbeat = 0\n", fifo,
             test_path("A-reject"), test_path("A-panic"));
    t0 = now_s();
    rc = li->shared.log_init(li, cfg);
    printf("log_init on a FIFO nobody reads returned %d after %.3f s\n", rc, now_s() - t0);
    CHECK_EQ_INT(rc, -ENXIO);
    CHECK(now_s() - t0 < 2.0);
    CHECK_CONTAINS(mtalog_last_error(li), "no process reads");
    mtalog_free(li);

    /* A reopen onto such a FIFO: refused at once, the old file stays in use. */
    li = mtalog_new("ec_logger", "nofifo2");
    snprintf(cfg, sizeof cfg, "%s", ec_config("close_timeout = 5s\n"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    deliver_numbered(li, "A", 0);
    snprintf(old, sizeof old, "%s", test_path("mainlog.old"));
    CHECK_EQ_INT(rename(test_path("mainlog"), old), 0);
    CHECK_EQ_INT(mkfifo(test_path("mainlog"), 0644), 0);
    t0 = now_s();
    rc = li->log_reopen(li);
    printf("log_reopen onto a FIFO nobody reads returned %d after %.3f s\n", rc, now_s() - t0);
    CHECK_EQ_INT(rc, -ENXIO);
    CHECK(now_s() - t0 < 2.0);
    deliver_numbered(li, "A", 1);
    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(count_matching(old, "@A0@"), 1);
    CHECK_EQ_INT(count_matching(old, "@A1@"), 1);
    CHECK(count_matching(test_path("paniclog"), "no process reads") >= 1);
    mtalog_free(li);
    return check_summary();
}

static int reader_goes_away(void) {
    char cfg[8192], fifo[4096], id[32], *text;
    logging_infrastructure *li;
    struct mtalog_stats s;
    sigset_t set;
    double t0;
    long i;
    int rfd;

    /* The host's SIGPIPE: default disposition, not blocked (mtalog's threads inherit the
     * mask of the thread that starts them). */
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    CHECK_EQ_INT(pthread_sigmask(SIG_UNBLOCK, &set, NULL), 0);

    snprintf(fifo, sizeof fifo, "%s", test_path("piped"));
    CHECK_EQ_INT(mkfifo(fifo, 0644), 0);
    rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    CHECK(rfd >= 0);
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s\"\nrejectlog = \"%s\"\npaniclog = \"%s\"\nheartbeat = 0\n"
             "flush_interval = 10ms\nclose_timeout = 10s\n",
             fifo, test_path("B-reject"), test_path("B-panic"));
    li = mtalog_new("ec_logger", "piped");
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    for (i = 0; i < 10; i++) deliver_numbered(li, "A", i);
    text = read_lines(rfd, 10);
    CHECK_EQ_INT(count_lines_in(text), 10);
    free(text);

    /* The reader goes away: the next write fails with EPIPE (and raises SIGPIPE in the
     * thread that makes it). */
    close(rfd);
    for (i = 0; i < 10; i++) deliver_numbered(li, "B", i);
    t0 = now_s();
    while (get_stats(li).write_errors == 0 && now_s() - t0 < 20) sleep_ms(10);
    sleep_ms(1500); /* a few retries, still counted once */
    s = get_stats(li);
    CHECK_EQ_INT(s.write_errors, 1);
    CHECK_EQ_INT(s.written, 10);
    CHECK_EQ_INT(count_matching(test_path("B-panic"), "Broken pipe"), 1);

    /* A reader comes back: the writer's retry goes through, nothing lost or doubled. */
    rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    CHECK(rfd >= 0);
    text = read_lines(rfd, 10);
    CHECK_EQ_INT(count_lines_in(text), 10);
    for (i = 0; text && i < 10; i++) {
        snprintf(id, sizeof id, "@B%ld@", i);
        CHECK(strstr(text, id) != NULL);
    }
    free(text);
    CHECK_EQ_INT(li->log_close(li), 0);
    s = get_stats(li);
    CHECK_EQ_INT(s.accepted, 20);
    CHECK_EQ_INT(s.written, 20);
    CHECK_EQ_INT(s.dropped, 0);
    CHECK_EQ_INT(s.write_errors, 1);
    CHECK_EQ_INT(count_matching(test_path("B-panic"), "writing resumed"), 1);
    close(rfd);
    mtalog_free(li);
    return check_summary();
}

int main(void) {
    in_child("A (a FIFO nobody reads)", readerless_fifo, 30);
    in_child("B (the reader goes away)", reader_goes_away, 60);
    return check_summary();
}
