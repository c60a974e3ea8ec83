/* Disk trouble, on a small tmpfs the test mounts (root only; skipped with a note otherwise,
 * and a failure when CI=true):
 *   A. ENOSPC in overflow = drop: the fault is counted once and reported once to the
 *      paniclog (on another filesystem); the queue stays within queue_size, the overflow is
 *      dropped and counted; when space returns the writer resumes by itself, says so, and
 *      every accepted event is in the mainlog exactly once, no line torn.
 *   B. overflow = block with block_timeout: with the writer stuck on the full disk, a hook
 *      returns after about block_timeout and its event is counted dropped.
 *   C. log_close while the disk stays full returns -ETIMEDOUT, bounded by close_timeout, and
 *      what was not written is counted dropped.
 *   E. The same when the disk fills in the middle of a line: after log_close, whatever it
 *      returns, the file ends in a whole line (the part of the cut line is cut off again),
 *      written is the number of whole lines in it, and accepted = written + dropped.
 *   D. Permission loss on reopen (EACCES; run as an unprivileged user, in a child process
 *      when the test runs as root): the error is returned and reported, logging goes on to
 *      the old file, and a later reopen picks up the new one. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "common.h"
#include "stuck.h"

#define QUEUE 256

/* Fills the filesystem of `dir` with `dir`/filler until ENOSPC; returns its fd (open). */
static int fill(const char *dir) {
    char path[4096], block[4096];
    int fd;
    snprintf(path, sizeof path, "%s/filler", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    memset(block, 'x', sizeof block);
    while (write(fd, block, sizeof block) > 0) {
    }
    return fd;
}

static void unfill(const char *dir, int fd) {
    char path[4096];
    snprintf(path, sizeof path, "%s/filler", dir);
    if (fd >= 0) close(fd);
    unlink(path);
}

/* Checks every line of a mainlog: a D line of 12 fields whose id is <prefix><n>, n < max,
 * each n at most once. Returns the number of good lines; *bad counts the others; *torn is
 * set when the file does not end in '\n'. */
static long check_mainlog(const char *path, const char *prefix, long max, long *bad, int *torn) {
    size_t len, i, start = 0, pl = strlen(prefix);
    char *text = read_file(path, &len);
    unsigned char *seen = calloc((size_t)max + 1, 1);
    long good = 0;
    *bad = 0;
    *torn = 0;
    if (!text || !seen) {
        free(text);
        free(seen);
        return 0;
    }
    *torn = len > 0 && text[len - 1] != '\n';
    for (i = 0; i < len; i++) {
        if (text[i] != '\n') continue;
        {
            char *line = text + start, *p;
            long ats = 0, n = -1;
            int used = 0;
            text[i] = 0;
            start = i + 1;
            for (p = line; *p; p++) ats += *p == '@';
            p = strchr(line, '@');
            if (ats == 11 && p && strncmp(p + 1, prefix, pl) == 0 &&
                sscanf(p + 1 + pl, "%ld@%n", &n, &used) == 1 && used > 0 && n >= 0 && n < max &&
                !seen[n]++) {
                good++;
            } else if ((*bad)++ < 5) {
                fprintf(stderr, "bad line in %s: %.200s\n", path, line);
            }
        }
    }
    free(text);
    free(seen);
    return good;
}

/* Waits up to `secs` for cond(li) to hold. */
static int wait_for(logging_infrastructure *li, int (*cond)(const struct mtalog_stats *), double secs) {
    double end = now_s() + secs;
    do {
        struct mtalog_stats s = get_stats(li);
        if (cond(&s)) return 1;
        sleep_ms(20);
    } while (now_s() < end);
    return 0;
}
static int has_write_error(const struct mtalog_stats *s) { return s->write_errors > 0; }
static int all_written(const struct mtalog_stats *s) { return s->written == s->accepted; }

static void phase_a(const char *fs) {
    char cfg[8192];
    logging_infrastructure *li = mtalog_new("ec_logger", "diskfull");
    struct mtalog_stats s;
    long n = 0, i, bad, max_depth = 0, total;
    int fd, torn;
    double t0, slowest = 0;

    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s/mainlog\"\nrejectlog = \"%s\"\npaniclog = \"%s\"\nheartbeat = 0\n"
             "overflow = drop\nqueue_size = %d\nflush_interval = 50ms\nclose_timeout = 20s\n",
             fs, test_path("rejectlog"), test_path("paniclog"), QUEUE);
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    /* Leave about 32 KiB free, then log until the writer hits ENOSPC. */
    fd = fill(fs);
    CHECK(fd >= 0);
    CHECK_EQ_INT(ftruncate(fd, lseek(fd, 0, SEEK_END) - 32768), 0);
    t0 = now_s();
    while (get_stats(li).write_errors == 0 && now_s() - t0 < 30) {
        for (i = 0; i < 20; i++) deliver_numbered(li, "F", n++);
        sleep_ms(1);
    }
    CHECK(wait_for(li, has_write_error, 5));
    printf("A: ENOSPC after %ld events\n", n);
    /* The writer is stuck: the queue fills up to its bound, the rest is dropped. */
    for (i = 0; i < 20 * QUEUE; i++) {
        double a = now_s();
        deliver_numbered(li, "F", n++);
        if (now_s() - a > slowest) slowest = now_s() - a;
        if (i % 64 == 0) {
            s = get_stats(li);
            if ((long)s.queue_depth > max_depth) max_depth = (long)s.queue_depth;
        }
    }
    sleep_ms(1500); /* several retries with back-off */
    s = get_stats(li);
    CHECK_EQ_INT(s.write_errors, 1);
    CHECK(s.dropped > 0);
    CHECK_EQ_INT(s.dropped, s.dropped_delivery);
    CHECK(max_depth <= QUEUE);
    printf("A: slowest hook while the disk was full: %.6f s\n", slowest);
    CHECK(slowest < 0.5); /* overflow = drop never waits (generous bound for valgrind) */
    CHECK((long)s.queue_depth <= QUEUE);
    CHECK(s.written < s.accepted);
    /* Reported once, to the paniclog on another filesystem, while the fault lasts. */
    CHECK_EQ_INT(count_matching(test_path("paniclog"), "No space left on device"), 1);

    /* Space returns: the writer resumes by itself. */
    unfill(fs, fd);
    CHECK(wait_for(li, all_written, 10));
    for (i = 0; i < 100; i++) deliver_numbered(li, "F", n++);
    total = n;
    CHECK_EQ_INT(li->log_close(li), 0);
    s = get_stats(li);
    printf("A: accepted %llu written %llu dropped %llu\n", (unsigned long long)s.accepted,
           (unsigned long long)s.written, (unsigned long long)s.dropped);
    CHECK_EQ_INT(s.accepted + s.dropped, total);
    CHECK_EQ_INT(s.written, s.accepted);
    CHECK_EQ_INT(s.write_errors, 1);
    CHECK_EQ_INT(check_mainlog(strcat(strcpy(cfg, fs), "/mainlog"), "F", total, &bad, &torn),
                 s.accepted);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(torn, 0);
    CHECK_EQ_INT(count_matching(test_path("paniclog"), "No space left on device"), 2);
    CHECK_EQ_INT(count_matching(test_path("paniclog"), "writing resumed"), 1);
    CHECK(count_matching(test_path("paniclog"), "events dropped") >= 1);
    mtalog_free(li);
}

static void phase_bc(const char *fs) {
    char cfg[8192], path[4096];
    logging_infrastructure *li = mtalog_new("ec_logger", "blocked");
    struct mtalog_stats before, s;
    long n = 0, bad, good;
    int fd, torn, rc;
    double t0, took;

    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s/mainlog2\"\nrejectlog = \"%s\"\npaniclog = \"%s\"\nheartbeat = 0\n"
             "overflow = block\nqueue_size = 16\nblock_timeout = 200ms\nclose_timeout = 1s\n"
             "flush_interval = 50ms\n",
             fs, test_path("rejectlog2"), test_path("paniclog2"));
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    fd = fill(fs);
    CHECK(fd >= 0);
    /* B: the writer is stuck on the full disk: a hook waits at most block_timeout. */
    before = check_block_timeout(li, "B", &n);
    CHECK(get_stats(li).write_errors >= 1);

    /* C: close with the disk still full: bounded, -ETIMEDOUT, the rest counted dropped. */
    t0 = now_s();
    rc = li->log_close(li);
    took = now_s() - t0;
    printf("C: log_close on a full disk took %.3f s (close_timeout 1 s)\n", took);
    CHECK_EQ_INT(rc, -ETIMEDOUT);
    CHECK(took < 10.0);
    s = get_stats(li);
    CHECK_EQ_INT(s.accepted + before.dropped + 1, n); /* hook drops stopped with the close */
    CHECK(s.written < s.accepted);
    CHECK_EQ_INT(s.written + s.dropped, (unsigned long long)n);
    CHECK(strlen(mtalog_last_error(li)) > 0);
    unfill(fs, fd);
    snprintf(path, sizeof path, "%s/mainlog2", fs);
    good = check_mainlog(path, "B", n, &bad, &torn);
    printf("C: %ld whole lines, %ld other, last line %s\n", good, bad, torn ? "torn" : "whole");
    CHECK_EQ_INT(good, s.written);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(torn, 0);
    mtalog_free(li);
}

static void phase_e(const char *fs) {
    char cfg[8192], path[4096];
    logging_infrastructure *li = mtalog_new("ec_logger", "cut");
    struct mtalog_stats s;
    long n = 400, i, bad, good;
    int fd, torn, rc;
    double t0;

    snprintf(path, sizeof path, "%s/mainlog3", fs);
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s\"\nrejectlog = \"%s\"\npaniclog = \"%s\"\nheartbeat = 0\n"
             "queue_size = 4096\nclose_timeout = 1s\nflush_interval = 50ms\n",
             path, test_path("rejectlog3"), test_path("paniclog3"));
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    /* Room for about 80 lines of about 200 bytes: the disk fills inside a line. */
    fd = fill(fs);
    CHECK(fd >= 0);
    CHECK_EQ_INT(ftruncate(fd, lseek(fd, 0, SEEK_END) - 16384), 0);
    for (i = 0; i < n; i++) deliver_numbered(li, "E", i);
    CHECK(wait_for(li, has_write_error, 10));
    t0 = now_s();
    rc = li->log_close(li);
    printf("E: log_close returned %d after %.3f s\n", rc, now_s() - t0);
    CHECK_EQ_INT(rc, -ETIMEDOUT);
    s = get_stats(li);
    good = check_mainlog(path, "E", n, &bad, &torn);
    printf("E: accepted %llu written %llu dropped %llu; %ld whole lines, %ld other, last line %s\n",
           (unsigned long long)s.accepted, (unsigned long long)s.written,
           (unsigned long long)s.dropped, good, bad, torn ? "torn" : "whole");
    CHECK(good > 0 && good < n);
    CHECK_EQ_INT(torn, 0);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(good, s.written);
    CHECK_EQ_INT(s.accepted, n);
    CHECK_EQ_INT(s.accepted, s.written + s.dropped);
    unfill(fs, fd);
    mtalog_free(li);
}

/* D: runs as an unprivileged user (root ignores directory permissions). */
static int phase_d(const char *dir) {
    char cfg[8192], mainlog[4096], old[4096], out[256];
    logging_infrastructure *li = mtalog_new("ec_logger", "perm");
    struct mtalog_stats s;
    long i;
    snprintf(mainlog, sizeof mainlog, "%s/mainlog", dir);
    snprintf(old, sizeof old, "%s/mainlog.old", dir);
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s\"\nrejectlog = \"%s/rejectlog\"\npaniclog = \"%s/paniclog\"\n"
             "heartbeat = 0\n",
             mainlog, dir, dir);
    CHECK(li != NULL);
    if (!li) return check_summary();
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    for (i = 0; i < 10; i++) deliver_numbered(li, "P", i);
    CHECK_EQ_INT(rename(mainlog, old), 0);
    CHECK_EQ_INT(chmod(dir, 0555), 0);
    CHECK_EQ_INT(li->log_reopen(li), -EACCES);
    CHECK_CONTAINS(mtalog_last_error(li), "mainlog");
    CHECK(mtalog_console(li, "reopen logs", out, sizeof out) < 0);
    CHECK_CONTAINS(out, "reopen failed");
    for (i = 10; i < 20; i++) deliver_numbered(li, "P", i); /* still to the old file */
    CHECK_EQ_INT(chmod(dir, 0755), 0);
    CHECK_EQ_INT(li->log_reopen(li), 0);
    for (i = 20; i < 25; i++) deliver_numbered(li, "P", i);
    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(count_lines(old), 20);
    CHECK_EQ_INT(count_lines(mainlog), 5);
    {
        char pl[4096];
        snprintf(pl, sizeof pl, "%s/paniclog", dir);
        CHECK(count_matching(pl, "Permission denied") >= 1);
        CHECK(count_matching(pl, "still writing to the old file") >= 1);
    }
    s = get_stats(li);
    CHECK_EQ_INT(s.written, 25);
    CHECK_EQ_INT(s.dropped, 0);
    mtalog_free(li);
    return check_summary();
}

static void remove_tree(const char *dir) {
    static const char *const names[] = {"mainlog", "mainlog.old", "rejectlog", "paniclog"};
    char p[4096];
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    CHECK_EQ_INT(rmdir(dir), 0);
}

static void run_phase_d(void) {
    char dir[4096];
    if (geteuid() != 0) {
        snprintf(dir, sizeof dir, "%s", test_path("perm"));
        CHECK_EQ_INT(mkdir(dir, 0755), 0);
        phase_d(dir);
        return;
    }
    /* Somewhere an unprivileged user can reach whatever the scratch directory's parents. */
    snprintf(dir, sizeof dir, "/tmp/mtalog-perm-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(chmod(dir, 0755), 0);
    {
        struct passwd *pw = getpwnam("nobody");
        uid_t uid = pw ? pw->pw_uid : 65534;
        gid_t gid = pw ? pw->pw_gid : 65534;
        pid_t pid;
        int status = -1;
        CHECK_EQ_INT(chown(dir, uid, gid), 0);
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
            if (setgid(gid) != 0 || setuid(uid) != 0) _exit(3);
            _exit(phase_d(dir));
        }
        CHECK(pid > 0);
        CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    remove_tree(dir);
}

int main(void) {
    char fs[4096];
    const char *ci = getenv("CI");
    int in_ci = ci && strcmp(ci, "true") == 0;

    run_phase_d();
    if (geteuid() != 0) {
        printf("note: not root: skipping the full-disk parts (they need a tmpfs mount)\n");
        CHECK(!in_ci);
        return check_summary();
    }
    snprintf(fs, sizeof fs, "%s", test_path("fs"));
    CHECK_EQ_INT(mkdir(fs, 0755), 0);
    if (mount("mtalog-test", fs, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0) {
        printf("note: cannot mount a tmpfs (%s): skipping the full-disk parts\n", strerror(errno));
        CHECK(!in_ci);
        return check_summary();
    }
    phase_a(fs);
    phase_bc(fs);
    phase_e(fs);
    CHECK_EQ_INT(umount2(fs, MNT_DETACH), 0);
    return check_summary();
}
