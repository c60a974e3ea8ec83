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

/* Sends one command line to the control socket at `path`; the reply goes to `out`. */
static int ctl(const char *path, const char *cmd, char *out, size_t cap) {
    struct sockaddr_un a;
    size_t len = 0;
    ssize_t n;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || write(fd, "\n", 1) != 1) {
        close(fd);
        return -1;
    }
    while (len + 1 < cap && (n = read(fd, out + len, cap - 1 - len)) > 0) len += (size_t)n;
    out[len] = 0;
    close(fd);
    return (int)len;
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

    /* A forked child logs and closes on its own; the socket stays its parent's. The child
     * reports through a pipe (under valgrind its exit status is valgrind's). */
    {
        int status = 0, report[2];
        char verdict = 0;
        pid_t pid;
        CHECK_EQ_INT(pipe(report), 0);
        pid = fork();
        if (pid == 0) {
            close(report[0]);
            for (i = 0; i < 10; i++) li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
            verdict = li->log_close(li) == 0 && access(sock, F_OK) == 0 ? 'y' : 'n';
            if (write(report[1], &verdict, 1) != 1) _exit(3);
            _exit(0);
        }
        close(report[1]);
        CHECK(pid > 0);
        CHECK_EQ_INT(read(report[0], &verdict, 1), 1);
        CHECK(verdict == 'y');
        close(report[0]);
        CHECK(waitpid(pid, &status, 0) == pid);
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
