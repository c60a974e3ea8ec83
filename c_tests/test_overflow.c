/* overflow = drop with a tiny queue: every event is either written or counted dropped. */
#include "check.h"
#include "common.h"

int main(void) {
    logging_infrastructure *li = mtalog_new("ec_logger", "ovf");
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    struct timeval tv = {1700000042, 0};
    long n = scale(200000), i;
    struct mtalog_stats s;
    CHECK(li != NULL);
    if (!li) return check_summary();
    CHECK_EQ_INT(li->shared.log_init(li, ec_config("overflow = drop\nqueue_size = 16\n")), 0);
    for (i = 0; i < n; i++) li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
    CHECK_EQ_INT(li->log_close(li), 0);
    s = get_stats(li);
    printf("accepted %llu dropped %llu\n", (unsigned long long)s.accepted,
           (unsigned long long)s.dropped);
    CHECK_EQ_INT(s.accepted + s.dropped, n);
    CHECK_EQ_INT(count_lines(test_path("mainlog")), s.accepted);
    CHECK_EQ_INT(s.written, s.accepted);
    CHECK_EQ_INT(s.dropped_delivery, s.dropped);
    if (s.dropped > 0) CHECK(count_matching(test_path("paniclog"), "events dropped") >= 1);
    mtalog_free(li);
    return check_summary();
}
