/* A log path that is not a regular file is used as it is, never altered (root only, as
 * log_owner needs; skipped with a note otherwise, a failure when CI=true): a character
 * device made in the scratch directory (the same device as /dev/null, which itself is
 * never touched) and a FIFO keep their mode and owner whatever mainlog_mode and
 * log_owner/log_group say, are written to, and are never rotated (max_file_size and
 * rollover_time apply to regular files only), not by a reopen either; the regular files
 * of the same logger do get the configured mode and owner. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "check.h"
#include "common.h"
#include "stuck.h"

/* `path` is still the special file it was: same type, device, mode and owner. */
static void unchanged(const char *path, const struct stat *was) {
    struct stat st;
    CHECK_EQ_INT(lstat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode, was->st_mode);
    CHECK_EQ_INT(st.st_uid, was->st_uid);
    CHECK_EQ_INT(st.st_gid, was->st_gid);
    CHECK_EQ_INT(st.st_rdev, was->st_rdev);
}

/* Files in the scratch directory named `name` followed by a dot (rotated names). */
static long rotated_names(const char *name) {
    DIR *d = opendir(test_dir());
    struct dirent *e;
    size_t len = strlen(name);
    long n = 0;
    if (!d) return -1;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, name, len) == 0 && e->d_name[len] == '.') n++;
    closedir(d);
    return n;
}

/* Logs to `name` (already made in the scratch dir, mode 0666 or 0622, owned by root)
 * with a mode, an owner and rotation configured; `reader` is an open read end for a FIFO
 * (drained as it goes), or -1. */
static void used_as_is(const char *name, int reader, uid_t uid, gid_t gid) {
    char cfg[8192], path[4096], buf[65536];
    logging_infrastructure *li = mtalog_new("ec_logger", name);
    struct stat was, st;
    struct mtalog_stats s;
    long i, n = 200;

    snprintf(path, sizeof path, "%s", test_path(name));
    CHECK_EQ_INT(lstat(path, &was), 0);
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s\"\nrejectlog = \"%s/%s-reject\"\npaniclog = \"%s/%s-panic\"\n"
             "heartbeat = 0\nmainlog_mode = 0640\nrejectlog_mode = 0640\n"
             "log_owner = %u\nlog_group = %u\nmax_file_size = 1K\nrollover_time = 1s\n",
             path, test_dir(), name, test_dir(), name, (unsigned)uid, (unsigned)gid);
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    unchanged(path, &was);
    for (i = 0; i < n; i++) {
        deliver_numbered(li, "S", i);
        if (reader >= 0)
            while (read(reader, buf, sizeof buf) > 0) {
            }
        if (i == n / 2) sleep_ms(1200); /* due by time: still not rotated */
    }
    /* A reopen (the path still names the same file) leaves it alone too. */
    CHECK_EQ_INT(li->log_reopen(li), 0);
    unchanged(path, &was);
    CHECK_EQ_INT(li->log_close(li), 0);
    s = get_stats(li);
    CHECK_EQ_INT(s.written, n);
    CHECK_EQ_INT(s.write_errors, 0);
    CHECK_EQ_INT(s.rotations, 0);
    unchanged(path, &was);
    CHECK_EQ_INT(rotated_names(name), 0);
    /* The logger's regular files got the configured mode and owner. */
    snprintf(path, sizeof path, "%s/%s-reject", test_dir(), name);
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0640);
    CHECK_EQ_INT(st.st_uid, uid);
    CHECK_EQ_INT(st.st_gid, gid);
    mtalog_free(li);
}

int main(void) {
    const char *ci = getenv("CI");
    struct passwd *pw;
    uid_t uid;
    gid_t gid;
    int rfd;

    if (geteuid() != 0) {
        printf("note: not root: skipping (mknod and log_owner need root)\n");
        CHECK(!(ci && strcmp(ci, "true") == 0));
        return check_summary();
    }
    pw = getpwnam("nobody");
    uid = pw ? pw->pw_uid : 65534;
    gid = pw ? pw->pw_gid : 65534;

    /* A device node like /dev/null, made here. */
    CHECK_EQ_INT(mknod(test_path("null"), S_IFCHR | 0666, makedev(1, 3)), 0);
    CHECK_EQ_INT(chmod(test_path("null"), 0666), 0);
    used_as_is("null", -1, uid, gid);

    /* A FIFO with a reader. */
    CHECK_EQ_INT(mkfifo(test_path("fifo"), 0622), 0);
    CHECK_EQ_INT(chmod(test_path("fifo"), 0622), 0);
    rfd = open(test_path("fifo"), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    CHECK(rfd >= 0);
    used_as_is("fifo", rfd, uid, gid);
    close(rfd);
    return check_summary();
}
