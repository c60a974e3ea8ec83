/* mtalog_ctl: sends one console command to an mtalog control socket and prints the reply.
 *
 *   mtalog_ctl [-t SECONDS] SOCKET COMMAND...   e.g.  mtalog_ctl /run/mta/mtalog.sock reopen logs
 *
 * The words of COMMAND are joined by spaces and sent as one line; the reply is copied to
 * stdout. It waits at most SECONDS (default 60) for each part of the reply. Exit status: 0
 * on success, 1 when the reply starts with "error: ", 2 when the socket cannot be reached
 * or does not answer in time. Meant for logrotate's postrotate (see docs/rotation.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
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

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [-t SECONDS] SOCKET COMMAND...\n", argv0);
    return 2;
}

int main(int argc, char **argv) {
    long timeout = 60;
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-t") == 0) {
        char *end = NULL;
        if (argc < 3) return usage(argv[0]);
        errno = 0;
        timeout = strtol(argv[2], &end, 10);
        if (errno != 0 || *argv[2] == 0 || *end != 0 || timeout < 1) return usage(argv[0]);
        first = 3;
    }
    if (argc - first < 2) return usage(argv[0]);
    const char *path = argv[first];
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "%s: socket path too long\n", path);
        return 2;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 2;
    }
    struct timeval limit = {(time_t)timeout, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 2;
    }
    for (int i = first + 1; i < argc; i++) {
        if (write_all(fd, argv[i], strlen(argv[i])) != 0 ||
            write_all(fd, i + 1 < argc ? " " : "\n", 1) != 0) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            return 2;
        }
    }
    char buf[4096];
    size_t total = 0;
    int failed = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            fprintf(stderr, "%s: no reply within %ld s\n", path, timeout);
            return 2;
        }
        if (n < 0) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
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
