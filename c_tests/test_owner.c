/* log_owner / log_group (root only; skipped with a note otherwise, a failure when CI=true):
 * every file a logger creates or reopens gets the configured owner, group and mode whatever
 * the umask, for each logger kind, with names or numbers; an existing file is taken over;
 * an unknown user or group is a configuration error naming the key. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "common.h"

static uid_t uid;
static gid_t gid;
static char user[256], group[256];

/* Checks owner, group and mode of `path`. */
static void check_file(const char *path, mode_t mode) {
    struct stat st;
    int ok = stat(path, &st) == 0;
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "  missing: %s\n", path);
        return;
    }
    CHECK_EQ_INT(st.st_uid, uid);
    CHECK_EQ_INT(st.st_gid, gid);
    CHECK_EQ_INT(st.st_mode & 07777, mode);
}

static void log_some(logging_infrastructure *li) {
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    struct timeval tv = {1700000042, 0};
    li->log_delivery(li, MSG(m), DOM(d), &tv, "250 ok", 6);
    call_log_error(li, &tv, "error: something");
}

/* One logger of `kind`, its files under `sub` in the scratch dir, owner by name or number. */
static void owned(const char *kind, const char *sub, mode_t mask, int by_number) {
    char dir[2048], cfg[8192], who[600], p[4096], q[4096];
    logging_infrastructure *li = mtalog_new(kind, "owned");
    snprintf(dir, sizeof dir, "%s", test_path(sub));
    CHECK_EQ_INT(mkdir(dir, 0755), 0);
    if (by_number)
        snprintf(who, sizeof who, "log_owner = %u\nlog_group = %u\n", (unsigned)uid, (unsigned)gid);
    else
        snprintf(who, sizeof who, "log_owner = \"%s\"\nlog_group = \"%s\"\n", user, group);
    if (strcmp(kind, "ec_logger") == 0)
        snprintf(cfg, sizeof cfg,
                 "mainlog = \"%s/main\"\nrejectlog = \"%s/reject\"\npaniclog = \"%s/panic\"\n"
                 "mainlog_mode = 0640\nrejectlog_mode = 0604\npaniclog_mode = 0600\n"
                 "heartbeat = 0\n%s",
                 dir, dir, dir, who);
    else if (strcmp(kind, "postfix_logger") == 0)
        snprintf(cfg, sizeof cfg,
                 "mainlog = \"%s/main\"\npaniclog = \"%s/panic\"\nmainlog_mode = 0640\n"
                 "paniclog_mode = 0600\n%s",
                 dir, dir, who);
    else
        snprintf(cfg, sizeof cfg,
                 "logdir = \"%s\"\nmainlog = \"%s/main\"\npaniclog = \"%s/panic\"\n"
                 "mainlog_mode = 0640\npaniclog_mode = 0600\n%s",
                 dir, dir, dir, who);
    CHECK(li != NULL);
    if (!li) return;
    umask(mask);
    /* An existing file of root's is taken over too. */
    snprintf(p, sizeof p, "%s/main", dir);
    {
        FILE *f = fopen(p, "w");
        CHECK(f != NULL);
        if (f) fclose(f);
    }
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    log_some(li);
    check_file(p, 0640);
    snprintf(q, sizeof q, "%s/panic", dir);
    check_file(q, 0600);
    if (strcmp(kind, "ec_logger") == 0) {
        snprintf(q, sizeof q, "%s/reject", dir);
        check_file(q, 0604);
    }
    /* Rotation: the new file gets the same owner and mode. */
    snprintf(q, sizeof q, "%s/main.1", dir);
    CHECK_EQ_INT(rename(p, q), 0);
    CHECK_EQ_INT(li->log_reopen(li), 0);
    log_some(li);
    CHECK_EQ_INT(li->log_close(li), 0);
    check_file(p, 0640);
    CHECK(count_lines(p) >= 1);
    mtalog_free(li);
    umask(022);
}

static void unknown(const char *key) {
    char cfg[8192];
    logging_infrastructure *li = mtalog_new("ec_logger", "unknown");
    snprintf(cfg, sizeof cfg, "%s%s = \"no-such-name-mtalog\"\n", ec_config(NULL), key);
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(li->shared.log_init(li, cfg), -EINVAL);
    CHECK_CONTAINS(mtalog_last_error(li), key);
    mtalog_free(li);
}

int main(void) {
    const char *ci = getenv("CI");
    struct passwd *pw;
    struct group *gr;
    if (geteuid() != 0) {
        printf("note: not root: skipping log_owner/log_group (chown needs root)\n");
        CHECK(!(ci && strcmp(ci, "true") == 0));
        return check_summary();
    }
    pw = getpwnam("nobody");
    uid = pw ? pw->pw_uid : 65534;
    gid = pw ? pw->pw_gid : 65534;
    gr = getgrgid(gid);
    snprintf(user, sizeof user, "%s", pw ? pw->pw_name : "65534");
    snprintf(group, sizeof group, "%s", gr ? gr->gr_name : "65534");
    owned("ec_logger", "ec-by-name", 077, 0);
    owned("ec_logger", "ec-by-number", 0, 1);
    owned("postfix_logger", "pf", 0777, 0);
    owned("imta_logger", "im", 027, 1);
    unknown("log_owner");
    unknown("log_group");
    return check_summary();
}
