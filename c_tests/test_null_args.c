/* NULL and bad arguments everywhere: documented codes, no crash, counted input errors. */
#include <errno.h>
#include <stddef.h>
#include "check.h"
#include "common.h"

static const char *host_id(const struct abstract_message *msg, size_t *len) {
    (void)msg;
    *len = 2;
    return "H1";
}

int main(void) {
    logging_infrastructure *li = mtalog_new("ec_logger", "nul");
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    mtalog_accept a = ref_accept();
    mtalog_validate v = ref_validate();
    struct timeval tv = {1700000042, 0};
    char raw[10];
    struct mtalog_stats s;
    uint64_t e0;
    char *text;

    CHECK(li != NULL);
    if (!li) return check_summary();
    /* Before log_init: ignored, counted. */
    li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
    CHECK_EQ_INT(get_stats(li).input_errors, 1);
    CHECK_EQ_INT(li->shared.log_init(NULL, ec_config(NULL)), -EINVAL);
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), 0);

    /* self NULL: nothing happens. */
    li->log_delivery(NULL, MSG(m), DOM(d), &tv, NULL, 0);
    li->log_reception(NULL, ACC(a), MSG(m), &tv, NULL, 0);
    li->log_attempt(NULL, MSG(m), DOM(d), &tv, NULL, 0);
    li->log_transient_failure(NULL, MSG(m), DOM(d), &tv, NULL, 0);
    li->log_permanent_failure(NULL, MSG(m), DOM(d), &tv, NULL, 0);
    call_log_error_as(li, NULL, &tv, "x");
    call_log_rejection_as(li, NULL, &tv, ACC(a), VAL(v), 6, "x");
    CHECK_EQ_INT(li->log_close(NULL), -EINVAL);
    CHECK_EQ_INT(li->log_reopen(NULL), -EINVAL);
    CHECK_EQ_INT(mtalog_stats(NULL, &s), -EINVAL);
    CHECK_EQ_INT(mtalog_stats(li, NULL), -EINVAL);
    s.struct_size = 2;
    CHECK_EQ_INT(mtalog_stats(li, &s), -EINVAL);
    CHECK_EQ_INT(mtalog_acct_log(NULL, &tv, 'N', "a", "b", "c", 1, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(mtalog_import_log(NULL, &tv, "x", NULL, 1, "/d"), -EINVAL);
    CHECK_EQ_INT(mtalog_acct_log(li, &tv, 'N', "a", "b", "c", 1, NULL, NULL), -ENOENT);
    CHECK_EQ_INT(mtalog_import_log(li, &tv, "x", NULL, 1, "/d"), -ENOENT);
    CHECK_EQ_INT(mtalog_bounce_log(NULL, &tv, MSG(m), DOM(d), "550 x", 5), -EINVAL);
    CHECK_EQ_INT(mtalog_bounce_log(li, &tv, NULL, DOM(d), "550 x", 5), -EINVAL);
    /* ec_logger has no bounce record. */
    CHECK_EQ_INT(mtalog_bounce_log(li, &tv, MSG(m), DOM(d), "550 x", 5), -ENOTSUP);
    CHECK_EQ_INT(mtalog_set_host_api(NULL, NULL), -EINVAL);
    CHECK_EQ_INT(mtalog_set_host_api(li, NULL), 0);
    CHECK(mtalog_last_error(NULL) != NULL);

    e0 = get_stats(li).input_errors;
    /* message NULL: ignored, counted. */
    li->log_delivery(li, NULL, DOM(d), &tv, NULL, 0);
    li->log_reception(li, ACC(a), NULL, &tv, NULL, 0);
    li->log_transient_failure(li, NULL, DOM(d), &tv, "x", 1);
    CHECK_EQ_INT(get_stats(li).input_errors, e0 + 3);
    /* Import with bad arguments. */
    CHECK_EQ_INT(mtalog_import_log(li, &tv, NULL, NULL, 1, "/d"), -EINVAL);
    CHECK_EQ_INT(mtalog_import_log(li, &tv, "x", NULL, 5, "/d"), -EINVAL);
    CHECK_EQ_INT(get_stats(li).input_errors, e0 + 5);

    /* domain NULL, now NULL, accept NULL: logged with empty fields / current time. */
    li->log_delivery(li, MSG(m), NULL, &tv, NULL, 0);
    li->log_reception(li, NULL, MSG(m), &tv, NULL, 0);
    li->log_delivery(li, MSG(m), DOM(d), NULL, NULL, 0);
    /* Bad notes: logged without the note, counted. */
    e0 = get_stats(li).input_errors;
    li->log_transient_failure(li, MSG(m), DOM(d), &tv, NULL, 5);
    li->log_transient_failure(li, MSG(m), DOM(d), &tv, "abc", -1);
    li->log_transient_failure(li, MSG(m), DOM(d), &tv, "abc", 2000000000);
    CHECK_EQ_INT(get_stats(li).input_errors, e0 + 3);
    /* A note that is not NUL-terminated. */
    memcpy(raw, "250 okXXXX", 10);
    li->log_permanent_failure(li, MSG(m), DOM(d), &tv, raw, 6);
    /* Rejection: NULL ac/ctx, unknown phases, NULL format. */
    call_log_rejection(li, &tv, NULL, NULL, 99, "550 %s", "no");
    call_log_rejection(li, &tv, ACC(a), VAL(v), -5, "550 x");
    call_log_rejection(li, NULL, ACC(a), VAL(v), 6, NULL);
    call_log_error(li, NULL, NULL);
    /* A host table whose struct_size ends inside a member: that member is absent (a pointer
     * made of half its bytes is never called); whole, it is used. */
    {
        mtalog_host_api api;
        memset(&api, 0, sizeof api);
        api.message_id = host_id;
        api.struct_size = offsetof(mtalog_host_api, message_id) + sizeof(void *) / 2;
        CHECK_EQ_INT(mtalog_set_host_api(li, &api), 0);
        li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
        api.struct_size = offsetof(mtalog_host_api, message_id) + sizeof(void *);
        CHECK_EQ_INT(mtalog_set_host_api(li, &api), 0);
        li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
        CHECK_EQ_INT(mtalog_set_host_api(li, NULL), 0);
    }
    CHECK_EQ_INT(li->log_close(li), 0);

    text = read_file(test_path("mainlog"), NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK_CONTAINS(text, "1700000042@" IDS "@D@@4821@group-a@vip-1@0@44.06@\n");
        CHECK_CONTAINS(text, "1700000042@" IDS "@R@alice@dest.example@news@sender.example@unknown@4821@esmtp@group-a@vip-1\n");
        CHECK_CONTAINS(text, "@T@dest.example@0@group-a@vip-1@0@0@44.06@198.51.100.25@\n");
        CHECK_CONTAINS(text, "@P@dest.example@0@group-a@vip-1@0@0@44.06@198.51.100.25@250 ok\n");
        CHECK(strstr(text, "XXXX") == NULL);
        CHECK_CONTAINS(text, "1700000042@00/00-00000-00000000@00/00-00000-00000000@00/00-00000-00000000@D@@0@@@0@0.00@\n");
        CHECK_CONTAINS(text, "1700000042@H1@H1@00/00-00000-00000000@D@@0@@@0@0.00@\n");
    }
    free(text);
    text = read_file(test_path("rejectlog"), NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK_CONTAINS(text, "1700000042: R=\"\" L=\"\" C=\"\" PATH=\"\" PATH_GRP=\"\" P=\"unknown\" E=550 M= CTXCONN=[] CTXMESS=[] 550 no\n");
        CHECK_CONTAINS(text, "P=\"unknown\" E=550 M=scriptlet");
    }
    free(text);
    CHECK_EQ_INT(count_lines(test_path("mainlog")), 9);
    mtalog_free(li);
    return check_summary();
}
