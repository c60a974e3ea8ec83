/* mtalog_ctl: sends one console command to an mtalog control socket and prints the reply.
 *
 *   mtalog_ctl SOCKET COMMAND...      e.g.  mtalog_ctl /run/mta/mtalog.sock reopen logs
 *
 * The words of COMMAND are joined by spaces and sent as one line; the reply is copied to
 * stdout. Exit status: 0 on success, 1 when the reply starts with "error: ", 2 when the
 * socket cannot be reached. Meant for logrotate's postrotate (see README, Rotation).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET COMMAND...\n", argv[0]);
        return 2;
    }
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "%s: socket path too long\n", argv[1]);
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (write_all(fd, argv[i], strlen(argv[i])) != 0 ||
            write_all(fd, i + 1 < argc ? " " : "\n", 1) != 0) {
            fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
            return 2;
        }
    }
    char buf[4096];
    size_t total = 0;
    int failed = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
            return 2;
        }
        if (n == 0) break;
        if (total == 0 && n >= 7 && memcmp(buf, "error: ", 7) == 0) failed = 1;
        fwrite(buf, 1, (size_t)n, stdout);
        total += (size_t)n;
    }
    close(fd);
    return failed ? 1 : 0;
}
