/* log_* filters, file modes under any umask, symlinks and missing directories. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "common.h"

static void filters(void) {
    static const char *keys[] = {"log_receptions", "log_deliveries", "log_transient_failures",
                                 "log_permanent_failures", "log_rejections", "log_errors"};
    size_t k;
    for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        char extra[256];
        logging_infrastructure *li = mtalog_new("ec_logger", "flt");
        mtalog_message m = ref_message();
        mtalog_domain d = ref_domain();
        mtalog_accept a = ref_accept();
        mtalog_validate v = ref_validate();
        struct timeval tv = {1700000042, 0};
        remove(test_path("mainlog"));
        remove(test_path("rejectlog"));
        remove(test_path("paniclog"));
        snprintf(extra, sizeof extra, "%s = false\n", keys[k]);
        CHECK_EQ_INT(li->shared.log_init(li, ec_config(extra)), 0);
        li->log_reception(li, ACC(a), MSG(m), &tv, NULL, 0);
        li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
        li->log_transient_failure(li, MSG(m), DOM(d), &tv, "4", 1);
        li->log_permanent_failure(li, MSG(m), DOM(d), &tv, "5", 1);
        call_log_rejection(li, &tv, ACC(a), VAL(v), 6, "550 no");
        call_log_error(li, &tv, "err");
        CHECK_EQ_INT(li->log_close(li), 0);
        CHECK_EQ_INT(count_matching(test_path("mainlog"), "@R@"), k == 0 ? 0 : 1);
        CHECK_EQ_INT(count_matching(test_path("mainlog"), "@D@"), k == 1 ? 0 : 1);
        CHECK_EQ_INT(count_matching(test_path("mainlog"), "@T@"), k == 2 ? 0 : 1);
        CHECK_EQ_INT(count_matching(test_path("mainlog"), "@P@"), k == 3 ? 0 : 1);
        CHECK_EQ_INT(count_lines(test_path("rejectlog")), k == 4 ? 0 : 1);
        CHECK_EQ_INT(count_lines(test_path("paniclog")), k == 5 ? 0 : 1);
        CHECK_EQ_INT(get_stats(li).filtered, 1);
        mtalog_free(li);
    }
}

static mode_t mode_of(const char *p) {
    struct stat st;
    if (stat(p, &st) != 0) return (mode_t)-1;
    return st.st_mode & 07777;
}

static void modes(mode_t mask) {
    char extra[1024];
    logging_infrastructure *li = mtalog_new("ec_logger", "modes");
    remove(test_path("mainlog"));
    remove(test_path("rejectlog"));
    remove(test_path("paniclog"));
    remove(test_path("acctlog"));
    umask(mask);
    snprintf(extra, sizeof extra,
             "mainlog_mode = 0600\nrejectlog_mode = 0640\npaniclog_mode = 0604\n"
             "acctlog = \"%s\"\nacctlog_log_mode = 0660\n",
             test_path("acctlog"));
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(extra)), 0);
    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(mode_of(test_path("mainlog")), 0600);
    CHECK_EQ_INT(mode_of(test_path("rejectlog")), 0640);
    CHECK_EQ_INT(mode_of(test_path("paniclog")), 0604);
    CHECK_EQ_INT(mode_of(test_path("acctlog")), 0660);
    mtalog_free(li);
    umask(022);
}

static void paths(void) {
    logging_infrastructure *li;
    char cfg[8192];
    remove(test_path("mainlog"));
    remove(test_path("target"));
    CHECK_EQ_INT(symlink(test_path("target"), test_path("mainlog")), 0);
    li = mtalog_new("ec_logger", "sym");
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), -ELOOP);
    CHECK_CONTAINS(mtalog_last_error(li), "symlink");
    mtalog_free(li);
    li = mtalog_new("ec_logger", "sym2");
    CHECK_EQ_INT(li->shared.log_init(li, ec_config("follow_symlinks = true\n")), 0);
    CHECK_EQ_INT(li->log_close(li), 0);
    mtalog_free(li);
    remove(test_path("mainlog"));

    snprintf(cfg, sizeof cfg, "mainlog = \"%s\"\nheartbeat = 0\nrejectlog = \"%s\"\npaniclog = \"%s\"\n",
             test_path("no/such/dir/mainlog"), test_path("r"), test_path("p"));
    li = mtalog_new("ec_logger", "missing");
    CHECK_EQ_INT(li->shared.log_init(li, cfg), -ENOENT);
    CHECK_CONTAINS(mtalog_last_error(li), "no/such/dir");
    mtalog_free(li);
}

int main(void) {
    filters();
    modes(077);
    modes(0);
    paths();
    return check_summary();
}
