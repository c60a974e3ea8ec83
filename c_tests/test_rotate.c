/* Built-in rotation and the control socket through the C ABI. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "common.h"

/* A connection to the control socket at `path`, or -1. */
static int connect_to(const char *path) {
    struct sockaddr_un a;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

/* Sends one command line to the control socket at `path`; the reply goes to `out`. */
static int ctl(const char *path, const char *cmd, char *out, size_t cap) {
    size_t len = 0;
    ssize_t n;
    int fd = connect_to(path);
    if (fd < 0) return -1;
    if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || write(fd, "\n", 1) != 1) {
        close(fd);
        return -1;
    }
    while (len + 1 < cap && (n = read(fd, out + len, cap - 1 - len)) > 0) len += (size_t)n;
    out[len] = 0;
    close(fd);
    return (int)len;
}

/* How many descriptors of this process are the server side of the socket at `path`: its
 * listener and the connections it accepted (/proc/net/unix names them by that path). */
static int fds_on_socket(const char *path) {
    unsigned long inodes[64];
    int ninodes = 0, count = 0;
    char line[4608], name[4096], link[128];
    FILE *f = fopen("/proc/net/unix", "r");
    DIR *dir;
    struct dirent *e;
    if (!f) return -1;
    while (fgets(line, sizeof line, f) && ninodes < 64) {
        unsigned long ino;
        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %4095s", &ino, name) == 2 &&
            strcmp(name, path) == 0)
            inodes[ninodes++] = ino;
    }
    fclose(f);
    dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    while ((e = readdir(dir)) != NULL) {
        char p[300];
        unsigned long ino;
        ssize_t n;
        int k;
        snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
        n = readlink(p, link, sizeof link - 1);
        if (n <= 0) continue;
        link[n] = 0;
        if (sscanf(link, "socket:[%lu]", &ino) != 1) continue;
        for (k = 0; k < ninodes; k++)
            if (inodes[k] == ino) count++;
    }
    closedir(dir);
    return count;
}

int main(void) {
    logging_infrastructure *li = mtalog_new("ec_logger", "rot");
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    struct timeval tv = {1700000042, 0};
    char cfg[8192], sock[4096], out[4096];
    long n = scale(500), i, lines = 0, rotated = 0;
    struct mtalog_stats s;
    struct stat st;
    DIR *dir;
    struct dirent *e;

    CHECK(li != NULL);
    if (!li) return check_summary();

    /* A bad value is refused, naming the key. */
    CHECK_EQ_INT(li->shared.log_init(li, ec_config("rollover_time = 25:00\n")), -EINVAL);
    CHECK_CONTAINS(mtalog_last_error(li), "rollover_time");

    snprintf(sock, sizeof sock, "%s", test_path("ctl.sock"));
    snprintf(cfg, sizeof cfg, "%s", ec_config(""));
    snprintf(cfg + strlen(cfg), sizeof cfg - strlen(cfg),
             "max_file_size = 2K\ncontrol_socket = \"%s\"\n", sock);
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    CHECK_EQ_INT(stat(sock, &st), 0);
    CHECK_EQ_INT((int)(st.st_mode & 0777), 0600);

    for (i = 0; i < n; i++) li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
    CHECK(ctl(sock, "reopen logs", out, sizeof out) > 0);
    CHECK_EQ_STR(out, "Log files reopened\n");
    CHECK(ctl(sock, "stats", out, sizeof out) > 0);
    CHECK_CONTAINS(out, "rotations: ");
    CHECK(ctl(sock, "nonsense", out, sizeof out) > 0);
    CHECK(strncmp(out, "error: ", 7) == 0);

    /* A client that stops reading before its reply: sending the reply fails (EPIPE)
     * without raising SIGPIPE in this process. The next client is served after that. */
    {
        int fd = connect_to(sock);
        CHECK(fd >= 0);
        if (fd >= 0) {
            CHECK_EQ_INT(shutdown(fd, SHUT_RD), 0);
            CHECK_EQ_INT(write(fd, "stats\n", 6), 6);
            CHECK(ctl(sock, "help", out, sizeof out) > 0);
            CHECK(strncmp(out, "reopen logs", 11) == 0);
            close(fd);
        }
    }

    /* A forked child logs and closes on its own; the socket stays its parent's, and the
     * child keeps no descriptor of it (neither the listener nor a client's connection).
     * The child reports through a pipe (under valgrind its exit status is valgrind's). */
    {
        int status = 0, report[2];
        int waiting = connect_to(sock);
        char verdict = 0;
        pid_t pid;
        CHECK(waiting >= 0);
        for (i = 0; i < 500 && fds_on_socket(sock) < 2; i++) usleep(10 * 1000);
        CHECK(fds_on_socket(sock) >= 2); /* the listener and the accepted connection */
        CHECK_EQ_INT(pipe(report), 0);
        pid = fork();
        if (pid == 0) {
            int leaked = fds_on_socket(sock);
            close(report[0]);
            for (i = 0; i < 10; i++) li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
            verdict = li->log_close(li) == 0 && access(sock, F_OK) == 0 && leaked == 0 ? 'y' : 'n';
            if (verdict != 'y') fprintf(stderr, "child: %d descriptor(s) of the socket\n", leaked);
            if (write(report[1], &verdict, 1) != 1) _exit(3);
            _exit(0);
        }
        close(report[1]);
        CHECK(pid > 0);
        CHECK_EQ_INT(read(report[0], &verdict, 1), 1);
        CHECK(verdict == 'y');
        close(report[0]);
        CHECK(waitpid(pid, &status, 0) == pid);
        if (waiting >= 0) close(waiting);
        n += 10;
    }
    CHECK(ctl(sock, "reopen logs", out, sizeof out) > 0);
    CHECK_EQ_STR(out, "Log files reopened\n");

    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK(access(sock, F_OK) != 0);
    s = get_stats(li);
    CHECK(s.rotations > 0);

    /* Every line is in mainlog or one of its mainlog.SEQ.TIMESTAMP files. */
    lines = count_lines(test_path("mainlog"));
    dir = opendir(test_dir());
    CHECK(dir != NULL);
    while (dir && (e = readdir(dir)) != NULL) {
        unsigned long seq, ts;
        char tail;
        if (sscanf(e->d_name, "mainlog.%lu.%lu%c", &seq, &ts, &tail) == 2) {
            char p[4096];
            snprintf(p, sizeof p, "%s", test_path(e->d_name));
            lines += count_lines(p);
            rotated++;
        }
    }
    if (dir) closedir(dir);
    /* The child may have rotated too (it counts in its own stats). */
    CHECK(rotated >= (long)s.rotations);
    CHECK_EQ_INT(lines, n);

    mtalog_free(li);
    return check_summary();
}
