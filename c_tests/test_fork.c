/* fork(): the child gets a working logger of its own; the parent's queued events are
 * written once, by the parent only. Counted line by line from parent and child, with a
 * second parent thread logging while the fork happens. And a fork while another thread is
 * stuck inside log_init leaves the child a logger that answers (root only). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "common.h"

/* GCC's AddressSanitizer (before GCC 13) does not hold its allocator's lock across fork():
 * a child forked while another thread is inside malloc deadlocks in its first malloc.
 * That is the sanitizer's limit, not mtalog's (glibc's malloc is fork-safe). So under
 * ASan the second thread finishes and the writer goes idle before the fork; the valgrind
 * pass, which runs one thread at a time, forks in the middle of both. */
#if defined(__SANITIZE_ADDRESS__)
#define QUIET_FORK 1
#else
#define QUIET_FORK 0
#endif

static logging_infrastructure *li;

/* Under ASan (QUIET_FORK): waits until `l` has written all it took and its writer has
 * gone idle, so that no thread is inside malloc when a child that allocates is forked. */
static void quiet(logging_infrastructure *l) {
    struct timespec idle = {0, 200 * 1000 * 1000}, tick = {0, 10 * 1000 * 1000};
    int waits;
    if (!QUIET_FORK) return;
    for (waits = 0; waits < 6000; waits++) {
        struct mtalog_stats s = get_stats(l);
        if (s.written == s.accepted && s.queue_depth == 0) break;
        nanosleep(&tick, NULL);
    }
    nanosleep(&idle, NULL);
}

/* Entries of directory `dir` whose names are numbers below `below` (threads in
 * /proc/self/task; descriptors in /proc/self/fd, below a memory checker's own). */
static int count_entries(const char *dir, long below) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (e->d_name[0] != '.' && *end == '\0' && v < below) n++;
    }
    closedir(d);
    return n;
}

static void log_ids(const char *prefix, long from, long n) {
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    struct timeval tv = {1700000042, 0};
    char id[64];
    long i;
    m.id = id;
    for (i = from; i < from + n; i++) {
        snprintf(id, sizeof id, "%s-%ld", prefix, i);
        li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
    }
}

/* Threads of a forked child whose first hooks come at once: one of them builds the
 * child's logger, the others wait for it (FIRST_THREADS threads, first_n events each). */
#define FIRST_THREADS 4
static long first_n;
static pthread_barrier_t first_barrier;

static void *first_hooks(void *arg) {
    char prefix[16];
    snprintf(prefix, sizeof prefix, "S%ld", (long)(intptr_t)arg);
    pthread_barrier_wait(&first_barrier);
    log_ids(prefix, 0, first_n);
    return NULL;
}

static void *background(void *arg) {
    log_ids("T", 0, *(long *)arg);
    return NULL;
}

/* Lines of the mainlog whose message id is exactly PREFIX-i, for every i < n: returns the
 * number of ids seen exactly once; *dups counts ids seen more than once. */
static long ids_once(const char *text, const char *prefix, long n, long *dups) {
    unsigned char *seen = calloc((size_t)n, 1);
    const char *p = text;
    size_t plen = strlen(prefix);
    long once = 0, i;
    *dups = 0;
    while (p && *p) {
        /* mainlog: TIME@ID@... */
        const char *at = strchr(p, '@');
        const char *nl = strchr(p, '\n');
        if (at && (!nl || at < nl) && strncmp(at + 1, prefix, plen) == 0 && at[1 + plen] == '-') {
            long k = strtol(at + 2 + plen, NULL, 10);
            if (k >= 0 && k < n && seen[k] < 255) seen[k]++;
        }
        p = nl ? nl + 1 : NULL;
    }
    for (i = 0; i < n; i++) {
        if (seen[i] == 1) once++;
        if (seen[i] > 1) (*dups)++;
    }
    free(seen);
    return once;
}

/* A forked child's verdict goes through a pipe (its exit status may be a memory
 * checker's, see tests/c_tests.rs): 'A' plus the bits of the checks that failed. */
static void send_verdict(int report[2], char failed) {
    char verdict = (char)('A' + failed);
    if (write(report[1], &verdict, 1) != 1) _exit(3);
    _exit(0);
}

/* Waits for child `pid` and checks that its verdict says every check held. */
static void expect_verdict(pid_t pid, int report[2]) {
    int status = -1;
    char verdict = 0;
    close(report[1]);
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(read(report[0], &verdict, 1), 1);
    CHECK_EQ_INT(verdict, 'A');
    close(report[0]);
}

static logging_infrastructure *slow;
static char slow_cfg[8192];

static _Atomic pid_t slow_tid;

static void *slow_init(void *arg) {
    (void)arg;
    slow_tid = gettid();
    return (void *)(intptr_t)slow->shared.log_init(slow, slow_cfg);
}

/* Whether thread `tid` of this process waits in open() for the other end of a FIFO. */
static int waits_for_fifo(pid_t tid) {
    char path[64], wchan[64] = "";
    FILE *f;
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)tid);
    f = fopen(path, "r");
    if (!f) return 0;
    if (!fgets(wchan, sizeof wchan, f)) wchan[0] = 0;
    fclose(f);
    return strstr(wchan, "wait_for_partner") || strstr(wchan, "fifo_open");
}

/* fork() while another thread is inside log_init, stuck: fork returns (after its bounded
 * wait), and in the child that logger answers at once (its locks are the child's own) and
 * refuses to start, as does one created there. mtalog's own opens never wait (a FIFO with
 * no reader is refused at once), so log_init is held up where a host's system can hold
 * it: in the user lookup of log_owner, reading a user database that hangs (a FIFO
 * mounted over /etc/passwd, in a mount namespace of this test's own). Root only. */
static int stuck_log_init(void) {
    char fifo[4096];
    int report[2], wfd;
    void *rc = NULL;
    pthread_t th;
    pid_t pid;
    struct timespec settle = {0, 10 * 1000 * 1000};

    snprintf(fifo, sizeof fifo, "%s", test_path("passwd-fifo"));
    remove(fifo);
    CHECK_EQ_INT(mkfifo(fifo, 0644), 0);
    CHECK_EQ_INT(unshare(CLONE_NEWNS), 0);
    /* (Source and type are ignored here; given, so that valgrind sees no null pointer.) */
    CHECK_EQ_INT(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL), 0);
    CHECK_EQ_INT(mount(fifo, "/etc/passwd", "none", MS_BIND, NULL), 0);
    snprintf(slow_cfg, sizeof slow_cfg,
             "mainlog = \"%s\"\nrejectlog = \"%s\"\npaniclog = \"%s\"\nheartbeat = 0\n"
             "log_owner = \"mtalog-fifo-user\"\n",
             test_path("init-main"), test_path("init-reject"), test_path("init-panic"));
    slow = mtalog_new("ec_logger", "slowinit");
    CHECK(slow != NULL);
    if (!slow) return check_summary();
    CHECK_EQ_INT(pipe(report), 0);
    CHECK_EQ_INT(pthread_create(&th, NULL, slow_init, NULL), 0);
    /* Until log_init is blocked opening the user database (as the kernel reports it; 10 s
     * at most, for a kernel that does not). */
    for (int i = 0; i < 1000; i++) {
        pid_t tid = slow_tid;
        if (tid && waits_for_fifo(tid)) break;
        nanosleep(&settle, NULL);
    }
    pid = fork();
    if (pid == 0) {
        char v = 0;
        logging_infrastructure *fresh = mtalog_new("ec_logger", "fresh");
        if (!strstr(mtalog_last_error(slow), "forked")) v |= 4;
        if (slow->log_close(slow) != -ECANCELED) v |= 1;
        if (slow->shared.log_init(slow, ec_config(NULL)) != -ECANCELED) v |= 2;
        /* Nor does a logger created in the child start (the stuck log_init holds its
         * logger's lock here): it answers at once, and says why. */
        if (!fresh || fresh->shared.log_init(fresh, ec_config(NULL)) != -ECANCELED) v |= 8;
        if (fresh && !strstr(mtalog_last_error(fresh), "forked")) v |= 16;
        mtalog_free(fresh);
        send_verdict(report, v);
    }
    CHECK(pid > 0);
    expect_verdict(pid, report);
    /* The user database answers (at its end, without the user; glibc cannot read a
     * FIFO's lines anyway): the parent's log_init finishes, with the error that names the
     * key. */
    wfd = open(fifo, O_WRONLY);
    CHECK(wfd >= 0);
    close(wfd);
    CHECK_EQ_INT(pthread_join(th, &rc), 0);
    CHECK_EQ_INT((int)(intptr_t)rc, -EINVAL);
    CHECK_CONTAINS(mtalog_last_error(slow), "log_owner");
    mtalog_free(slow);
    return check_summary();
}

/* Runs stuck_log_init in a child process of its own (single-threaded, so that it may
 * enter a mount namespace of its own). */
static void fork_during_log_init(void) {
    const char *ci = getenv("CI");
    int status = -1;
    pid_t pid;
    if (geteuid() != 0) {
        printf("note: not root: skipping the fork during a stuck log_init (it mounts)\n");
        CHECK(!(ci && strcmp(ci, "true") == 0));
        return;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) _exit(stuck_log_init());
    CHECK(pid > 0);
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* log_reopen in a child before its first event reopens by name: a file renamed away in
 * the child (a rotation) is not written again, the new one is. */
static void reopen_in_child(void) {
    char cfg[8192], moved[4096], verdict = 0;
    logging_infrastructure *l3 = mtalog_new("ec_logger", "fork3"), *keep = li;
    int report[2];
    pid_t pid;
    char *text;
    size_t len;
    snprintf(moved, sizeof moved, "%s", test_path("mainlog3.moved"));
    remove(test_path("mainlog3"));
    remove(moved);
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s\"\nrejectlog = \"%s\"\npaniclog = \"%s\"\nheartbeat = 0\n",
             test_path("mainlog3"), test_path("rejectlog3"), test_path("paniclog3"));
    CHECK(l3 != NULL);
    if (!l3) return;
    CHECK_EQ_INT(l3->shared.log_init(l3, cfg), 0);
    quiet(l3);
    CHECK_EQ_INT(pipe(report), 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (rename(test_path("mainlog3"), moved) != 0) verdict |= 1;
        if (l3->log_reopen(l3) != 0) verdict |= 2;
        li = l3;
        log_ids("K", 0, 1);
        li = keep;
        if (l3->log_close(l3) != 0) verdict |= 4;
        send_verdict(report, verdict);
    }
    expect_verdict(pid, report);
    CHECK_EQ_INT(l3->log_close(l3), 0);
    mtalog_free(l3);
    CHECK_EQ_INT(count_lines(moved), 0);
    CHECK_EQ_INT(count_lines(test_path("mainlog3")), 1);
    text = read_file(test_path("mainlog3"), &len);
    CHECK(text != NULL && strstr(text, "@K-0@") != NULL);
    free(text);
}

/* A child whose logger cannot be prepared at the fork (its log directory was renamed
 * away after log_init) closes it there: hooks are refused and counted, and
 * mtalog_last_error keeps saying why, hook after hook and after log_close. */
static void closed_at_fork(void) {
    char dir[2048], moved[2048], cfg[8192], verdict = 0;
    logging_infrastructure *l4 = mtalog_new("ec_logger", "fork4"), *keep = li;
    int report[2];
    pid_t pid;
    snprintf(dir, sizeof dir, "%s", test_path("sub"));
    snprintf(moved, sizeof moved, "%s", test_path("sub.moved"));
    mkdir(dir, 0755);
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s/mainlog\"\nrejectlog = \"%s/rejectlog\"\n"
             "paniclog = \"%s/paniclog\"\nheartbeat = 0\n",
             dir, dir, dir);
    CHECK(l4 != NULL);
    if (!l4) return;
    CHECK_EQ_INT(l4->shared.log_init(l4, cfg), 0);
    CHECK_EQ_INT(rename(dir, moved), 0);
    quiet(l4);
    CHECK_EQ_INT(pipe(report), 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct mtalog_stats s;
        li = l4;
        log_ids("F", 0, 2);
        li = keep;
        if (!strstr(mtalog_last_error(l4), "cannot restart after fork")) verdict |= 1;
        if (l4->log_close(l4) == 0) verdict |= 2;
        if (!strstr(mtalog_last_error(l4), "cannot restart after fork")) verdict |= 4;
        s = get_stats(l4);
        if (s.accepted != 0 || s.input_errors != 3) verdict |= 8;
        send_verdict(report, verdict);
    }
    expect_verdict(pid, report);
    CHECK_EQ_INT(l4->log_close(l4), 0);
    mtalog_free(l4);
    CHECK_EQ_INT(count_lines(test_path("sub.moved/mainlog")), 0);
}

int main(void) {
    long n1 = scale(20000), n2 = scale(5000), n3 = scale(10000), nt = scale(30000), dups;
    long jailed = 0;
    first_n = scale(500);
    pthread_t th;
    pid_t pid;
    int status = -1, report[2];
    char *text;
    size_t len;
    struct mtalog_stats s;

    remove(test_path("mainlog"));
    li = mtalog_new("ec_logger", "fork");
    CHECK(li != NULL);
    if (!li) return check_summary();
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), 0);

    CHECK_EQ_INT(pthread_create(&th, NULL, background, &nt), 0);
    /* A burst right before the fork, so the parent's queue is likely not empty. */
    log_ids("P", 0, n1);
    fflush(NULL);
    if (QUIET_FORK) {
        /* Everything written first (the writer may run far behind on a busy machine),
         * then long enough for the writer to stop polling and park. */
        struct timespec idle = {0, 200 * 1000 * 1000}, tick = {0, 10 * 1000 * 1000};
        int waits = 0;
        CHECK_EQ_INT(pthread_join(th, NULL), 0);
        for (;;) {
            s = get_stats(li);
            if ((s.written == (unsigned long long)(n1 + nt) && s.queue_depth == 0) ||
                ++waits > 6000)
                break;
            nanosleep(&tick, NULL);
        }
        CHECK(s.written == (unsigned long long)(n1 + nt) && s.queue_depth == 0);
        nanosleep(&idle, NULL);
    }
    CHECK_EQ_INT(pipe(report), 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char verdict = 0;
        log_ids("C", 0, n2);
        if (li->log_reopen(li) != 0) verdict |= 1;
        if (li->log_close(li) != 0) verdict |= 2;
        s = get_stats(li);
        /* The child counts its own events only. */
        if (s.accepted != (unsigned long long)n2 || s.written != (unsigned long long)n2)
            verdict |= 4;
        mtalog_free(li);
        send_verdict(report, verdict);
    }
    log_ids("Q", 0, n3);
    if (!QUIET_FORK) CHECK_EQ_INT(pthread_join(th, NULL), 0);
    expect_verdict(pid, report);
    CHECK_EQ_INT(li->log_close(li), 0);
    s = get_stats(li);
    CHECK_EQ_INT(s.written, n1 + n3 + nt);
    mtalog_free(li);

    text = read_file(test_path("mainlog"), &len);
    CHECK(text != NULL);
    if (!text) return check_summary();
    CHECK(len > 0 && text[len - 1] == '\n');
    CHECK_EQ_INT(count_lines(test_path("mainlog")), n1 + n2 + n3 + nt);
    CHECK_EQ_INT(ids_once(text, "P", n1, &dups), n1);
    CHECK_EQ_INT(dups, 0);
    CHECK_EQ_INT(ids_once(text, "C", n2, &dups), n2);
    CHECK_EQ_INT(dups, 0);
    CHECK_EQ_INT(ids_once(text, "Q", n3, &dups), n3);
    CHECK_EQ_INT(dups, 0);
    CHECK_EQ_INT(ids_once(text, "T", nt, &dups), nt);
    CHECK_EQ_INT(dups, 0);
    free(text);

    /* A child that only execs (or exits at once) costs nothing and writes nothing: fork()
     * starts no thread and opens no file in it. Its first event does, and is written. */
    li = mtalog_new("ec_logger", "fork2");
    remove(test_path("mainlog"));
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), 0);
    log_ids("R", 0, n3);
    pid = fork();
    if (pid == 0) _exit(0);
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK_EQ_INT(pipe(report), 0);
    quiet(li);
    {
        int fds_before = count_entries("/proc/self/fd", 1000);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            char verdict = 0;
            if (count_entries("/proc/self/task", 1 << 30) != 1) verdict |= 1;
            if (count_entries("/proc/self/fd", 1000) != fds_before) verdict |= 2;
            s = get_stats(li);
            if (s.accepted != 0 || s.written != 0) verdict |= 4;
            {
                pthread_t ft[FIRST_THREADS];
                long t, made = 0;
                pthread_barrier_init(&first_barrier, NULL, FIRST_THREADS);
                for (t = 0; t < FIRST_THREADS; t++)
                    made += pthread_create(&ft[t], NULL, first_hooks, (void *)(intptr_t)t) == 0;
                if (made != FIRST_THREADS) _exit(4);
                for (t = 0; t < FIRST_THREADS; t++) pthread_join(ft[t], NULL);
            }
            /* This thread and one writer: started once. */
            if (count_entries("/proc/self/task", 1 << 30) != 2) verdict |= 8;
            if (li->log_close(li) != 0) verdict |= 16;
            s = get_stats(li);
            if (s.accepted != (unsigned long long)(FIRST_THREADS * first_n) ||
                s.written != (unsigned long long)(FIRST_THREADS * first_n))
                verdict |= 32;
            send_verdict(report, verdict);
        }
    }
    expect_verdict(pid, report);
    /* A child that gives up its view of the file system before it logs (chroot into an
     * empty directory; root only) still writes to the same file: its logger was prepared
     * inside fork(), where the parent's paths were. */
    if (geteuid() == 0) {
        const char *jail = test_path("jail");
        mkdir(jail, 0700);
        CHECK_EQ_INT(pipe(report), 0);
        quiet(li);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            char verdict = 0;
            if (chroot(jail) != 0 || chdir("/") != 0) verdict |= 1;
            log_ids("J", 0, 3);
            if (li->log_close(li) != 0) verdict |= 2;
            s = get_stats(li);
            if (s.accepted != 3 || s.written != 3) verdict |= 4;
            send_verdict(report, verdict);
        }
        expect_verdict(pid, report);
        rmdir(jail);
        jailed = 3;
    }
    /* A child that closes its loggers without logging closes cleanly. */
    CHECK_EQ_INT(pipe(report), 0);
    quiet(li);
    pid = fork();
    if (pid == 0) {
        send_verdict(report, (char)((li->log_close(li) != 0) + 2 * (li->log_reopen(li) == 0)));
    }
    expect_verdict(pid, report);
    CHECK_EQ_INT(li->log_close(li), 0);
    mtalog_free(li);
    CHECK_EQ_INT(count_lines(test_path("mainlog")), n3 + FIRST_THREADS * first_n + jailed);
    text = read_file(test_path("mainlog"), &len);
    CHECK(text != NULL);
    if (!text) return check_summary();
    for (long t = 0; t < FIRST_THREADS; t++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "S%ld", t);
        CHECK_EQ_INT(ids_once(text, prefix, first_n, &dups), first_n);
        CHECK_EQ_INT(dups, 0);
    }
    CHECK_EQ_INT(ids_once(text, "J", jailed, &dups), jailed);
    CHECK_EQ_INT(dups, 0);
    free(text);
    reopen_in_child();
    closed_at_fork();
    fork_during_log_init();
    return check_summary();
}
