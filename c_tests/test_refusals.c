/* Every refused call leaves a reason in mtalog_last_error; a successful log_init clears an
 * old failure; a key given twice is an error naming both lines; the MC_STATE_* names of the
 * header are the phases the rejectlog prints. */
#include <errno.h>
#include "check.h"
#include "common.h"

int main(void) {
    logging_infrastructure *li = mtalog_new("ec_logger", "refusals");
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    mtalog_accept a = ref_accept();
    mtalog_validate v = ref_validate();
    struct timeval tv = {1700000042, 0};
    struct mtalog_stats s;
    char *text;

    CHECK(li != NULL);
    if (!li) return check_summary();

    /* A hook before log_init: refused, counted, and said. */
    CHECK_EQ_STR(mtalog_last_error(li), "");
    li->log_delivery(li, MSG(m), DOM(d), &tv, "250 ok", 6);
    s = get_stats(li);
    CHECK_EQ_INT(s.input_errors, 1);
    CHECK_CONTAINS(mtalog_last_error(li), "delivery");
    CHECK_CONTAINS(mtalog_last_error(li), "before log_init");

    /* A key given twice: an error naming both lines. */
    CHECK_EQ_INT(li->shared.log_init(li, "heartbeat = 1\nheartbeat = 0\n"), -EINVAL);
    CHECK_CONTAINS(mtalog_last_error(li), "config line 2, key 'heartbeat'");
    CHECK_CONTAINS(mtalog_last_error(li), "first at line 1");

    /* A successful log_init clears the old failure. */
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), 0);
    CHECK_EQ_STR(mtalog_last_error(li), "");

    /* A NULL message: refused and said. */
    li->log_delivery(li, NULL, DOM(d), &tv, "250 ok", 6);
    CHECK_CONTAINS(mtalog_last_error(li), "NULL message");
    /* A bad note length. */
    li->log_transient_failure(li, MSG(m), DOM(d), &tv, "451 later", -5);
    CHECK_CONTAINS(mtalog_last_error(li), "note_len");

    /* The phase names of the header. */
    CHECK_EQ_INT(MC_STATE_MAILFROM, 4);
    CHECK_EQ_INT(MC_STATE_SETUP, 21);
    CHECK_EQ_INT(MC_STATE_COUNT, 23);
    call_log_rejection(li, &tv, ACC(a), VAL(v), MC_STATE_MAILFROM, "550 %s", "no");
    call_log_rejection(li, &tv, ACC(a), VAL(v), MC_STATE_RELAYING_DENIED, "550 %s", "relay");
    CHECK_EQ_INT(li->log_close(li), 0);
    text = read_file(test_path("rejectlog"), NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK_CONTAINS(text, "P=\"awaiting mailfrom\" E=550");
        CHECK_CONTAINS(text, "P=\"relaying denied\" E=550");
    }
    free(text);

    /* After log_close: refused, and said. */
    li->log_reception(li, ACC(a), MSG(m), &tv, NULL, 0);
    CHECK_CONTAINS(mtalog_last_error(li), "after log_close");
    s = get_stats(li);
    CHECK_EQ_INT(s.input_errors, 4);
    mtalog_free(li);
    return check_summary();
}
