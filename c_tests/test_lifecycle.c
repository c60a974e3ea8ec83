/* The whole life of an ec_logger loaded with dlopen: every hook gives its exact line. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include "check.h"
#include "common.h"

typedef logging_infrastructure *(*new_fn_t)(const char *, const char *);
typedef void (*free_fn_t)(logging_infrastructure *);
typedef int (*stats_fn_t)(const logging_infrastructure *, struct mtalog_stats *);
typedef int (*acct_fn_t)(logging_infrastructure *, const struct timeval *, int, const char *,
                         const char *, const char *, int, const char *, const char *);
typedef int (*import_fn_t)(logging_infrastructure *, const struct timeval *, const char *,
                           const char *, int, const char *);
typedef const char *(*last_error_fn_t)(const logging_infrastructure *);

static new_fn_t new_fn;
static free_fn_t free_fn;
static stats_fn_t stats_fn;
static acct_fn_t acct_fn;
static import_fn_t import_fn;
static last_error_fn_t last_error_fn;

static uint64_t input_errors(logging_infrastructure *li) {
    struct mtalog_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    CHECK_EQ_INT(stats_fn(li, &s), 0);
    return s.input_errors;
}

static void all_hooks(void) {
    logging_infrastructure *li = new_fn("ec_logger", "life");
    struct timeval tv = {1700000042, 0};
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    mtalog_accept a = ref_accept();
    mtalog_validate v = ref_validate();
    char extra[2048], *text;
    size_t len;
    uint64_t before;

    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_STR(li->shared.module_name, "ec_logger");
    CHECK(li->shared.module_description != NULL);
    CHECK(li->shared.log_init != NULL);
    CHECK(li->log_error && li->log_reception && li->log_attempt && li->log_transient_failure &&
          li->log_permanent_failure && li->log_delivery && li->log_close && li->log_reopen &&
          li->log_rejection);
    snprintf(extra, sizeof extra,
             "acctlog = \"%s\"\nimportlog = \"%s\"\nlog_attempts = true\n",
             test_path("acctlog"), test_path("importlog"));
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(extra)), 0);
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(extra)), -EALREADY);

    a.peer_ip = "192.0.2.10";
    li->log_reception(li, ACC(a), MSG(m), &tv, NULL, 0);
    li->log_attempt(li, MSG(m), DOM(d), &tv, NULL, 0);
    li->log_delivery(li, MSG(m), DOM(d), &tv, "250 ok", 6);
    m.is_transfer = 1;
    li->log_delivery(li, MSG(m), DOM(d), &tv, "250 ok", 6);
    m.is_transfer = 0;
    m.stage = 4;
    li->log_transient_failure(li, MSG(m), DOM(d), &tv, "421 4.7.0 try again later", 25);
    m.stage = 9;
    m.retries = 2;
    m.bytes_sent = 4821;
    li->log_permanent_failure(li, MSG(m), DOM(d), &tv, "550 5.1.1 user@unknown\r\n", 24);
    a = ref_accept();
    call_log_rejection(li, &tv, ACC(a), VAL(v), 6, "550 5.7.1 %s", "relaying denied");
    call_log_error(li, &tv, "disk %s at %d%%\n", "full", 91);
    CHECK_EQ_INT(acct_fn(li, &tv, 'Z', "*:2025", "198.51.100.77:40112", "admin", 1, "summary",
                         "operators"),
                 0);
    CHECK_EQ_INT(acct_fn(li, &tv, 'N', "*:2025", "198.51.100.77:40112", "admin", 0, NULL, NULL),
                 0);
    CHECK_EQ_INT(import_fn(li, &tv, "32/10-04242-0001E5F5", NULL, 1, "/var/spool/restore"), 0);
    CHECK_EQ_INT(import_fn(li, &tv, "32/10-04242-0001E5F5", "33/10-04242-0001E5F6", 3, "/r"), 0);

    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(li->log_close(li), -ECANCELED);
    /* A closed logger is not started again (the documented -ECANCELED). */
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(extra)), -ECANCELED);

    text = read_file(test_path("mainlog"), &len);
    CHECK_EQ_STR(text,
                 "1700000042@" IDS "@R@alice@dest.example@news@sender.example@192.0.2.10@4821@esmtp@group-a@vip-1\n"
                 "1700000042@" IDS "@A@dest.example@4821@group-a@vip-1@0@44.06@198.51.100.25\n"
                 "1700000042@" IDS "@D@dest.example@4821@group-a@vip-1@0@44.06@198.51.100.25\n"
                 "1700000042@" IDS "@X@dest.example@4821@group-a@vip-1@0@44.06@198.51.100.25\n"
                 "1700000042@" IDS "@T@dest.example@0@group-a@vip-1@4@0@44.06@198.51.100.25@421 4.7.0 try again later\n"
                 "1700000042@" IDS "@P@dest.example@4821@group-a@vip-1@9@2@44.06@198.51.100.25@550 5.1.1 user@unknown\n");
    free(text);
    text = read_file(test_path("rejectlog"), NULL);
    CHECK_EQ_STR(text,
                 "1700000042: R=\"203.0.113.9:51234\" L=\"192.0.2.1:25\" C=\"E0/00-31337-F51F3556\" "
                 "PATH=\"default\" PATH_GRP=\"default\" P=\"awaiting rcptto\" E=550 M=scriptlet "
                 "CTXCONN=[pathway=default] CTXMESS=[mailfrom_localpart=bob] 550 5.7.1 relaying denied\n");
    free(text);
    text = read_file(test_path("paniclog"), NULL);
    CHECK_EQ_STR(text, "1700000042:disk full at 91%\n");
    free(text);
    text = read_file(test_path("acctlog"), NULL);
    CHECK_EQ_STR(text, "1700000042@Z@*:2025@198.51.100.77:40112@admin@1@summary@operators\n"
                       "1700000042@N@*:2025@198.51.100.77:40112@admin@0\n");
    free(text);
    text = read_file(test_path("importlog"), NULL);
    CHECK_EQ_STR(text, "1700000042@32/10-04242-0001E5F5@I@32/10-04242-0001E5F5@1@/var/spool/restore\n"
                       "1700000042@32/10-04242-0001E5F5@I@33/10-04242-0001E5F6@3@/r\n");
    free(text);

    /* After close: hooks are ignored and counted as input errors. */
    before = input_errors(li);
    li->log_delivery(li, MSG(m), DOM(d), &tv, "250 ok", 6);
    li->log_reception(li, ACC(a), MSG(m), &tv, NULL, 0);
    call_log_error(li, &tv, "late %d", 1);
    CHECK_EQ_INT(acct_fn(li, &tv, 'N', "x", "y", "z", 1, NULL, NULL), -ECANCELED);
    CHECK_EQ_INT(input_errors(li), before + 4);
    CHECK_EQ_INT(count_lines(test_path("mainlog")), 6);
    CHECK_EQ_INT(count_lines(test_path("paniclog")), 1);
    CHECK_EQ_INT(li->log_reopen(li), -ECANCELED);
    free_fn(li);
    free_fn(NULL);
}

static void whole_stanza(void) {
    char cfg[8192];
    logging_infrastructure *li = new_fn("ec_logger", "main1");
    struct timeval tv = {1700000001, 0};
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    char *text;
    CHECK(li != NULL);
    if (!li) return;
    snprintf(cfg, sizeof cfg,
             "ec_logger \"main1\" {\n  mainlog = \"%s\"\n  rejectlog = \"%s\"\n  paniclog = \"%s\"\n"
             "  heartbeat = 0\n}\n",
             test_path("stanza.main"), test_path("stanza.reject"), test_path("stanza.panic"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
    CHECK_EQ_INT(li->log_close(li), 0);
    text = read_file(test_path("stanza.main"), NULL);
    CHECK_EQ_STR(text, "1700000001@" IDS "@D@dest.example@4821@group-a@vip-1@0@3.06@198.51.100.25\n");
    free(text);
    free_fn(li);

    li = new_fn("ec_logger", "other");
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(li->shared.log_init(li, cfg), -EINVAL);
    CHECK(last_error_fn(li)[0] != 0);
    free_fn(li);
}

int main(void) {
    const char *lib = getenv("MTALOG_LIB");
    void *h;
    CHECK(lib != NULL);
    if (!lib) return check_summary();
    h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    CHECK(h != NULL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return check_summary();
    }
    *(void **)&new_fn = dlsym(h, "mtalog_new");
    *(void **)&free_fn = dlsym(h, "mtalog_free");
    *(void **)&stats_fn = dlsym(h, "mtalog_stats");
    *(void **)&acct_fn = dlsym(h, "mtalog_acct_log");
    *(void **)&import_fn = dlsym(h, "mtalog_import_log");
    *(void **)&last_error_fn = dlsym(h, "mtalog_last_error");
    CHECK(new_fn && free_fn && stats_fn && acct_fn && import_fn && last_error_fn);
    if (new_fn && free_fn && stats_fn && acct_fn && import_fn && last_error_fn) {
        all_hooks();
        whole_stanza();
    }
    dlclose(h);
    return check_summary();
}
