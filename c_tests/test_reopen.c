/* Reopen after rename (console and hook), console replies and truncation. */
#include <errno.h>
#include <stdio.h>
#include "check.h"
#include "common.h"

static void log_n(logging_infrastructure *li, long n) {
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    struct timeval tv = {1700000042, 0};
    long i;
    for (i = 0; i < n; i++) li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
}

int main(void) {
    logging_infrastructure *li = mtalog_new("ec_logger", "rot");
    char out[4096], main1[4096], main2[4096];
    unsigned char buf[64];
    long n = scale(1000), m = scale(700), i;
    int r, ok;
    struct mtalog_stats s;

    CHECK(li != NULL);
    if (!li) return check_summary();
    CHECK_EQ_INT(mtalog_console(li, "reopen logs", out, sizeof out), -ECANCELED);
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), 0);
    snprintf(main1, sizeof main1, "%s", test_path("mainlog.1"));
    snprintf(main2, sizeof main2, "%s", test_path("mainlog.2"));

    /* Console "reopen logs". */
    log_n(li, n);
    CHECK_EQ_INT(rename(test_path("mainlog"), main1), 0);
    r = mtalog_console(li, "reopen logs", out, sizeof out);
    CHECK(r > 0);
    CHECK_EQ_INT(r, (int)strlen(out));
    log_n(li, m);

    /* The hook. */
    /* Events queued before the reopen are ordered before it; flush via a second reopen. */
    CHECK_EQ_INT(rename(test_path("mainlog"), main2), 0);
    CHECK_EQ_INT(li->log_reopen(li), 0);
    log_n(li, n + 1);

    /* Momentum's qualified form. */
    r = mtalog_console(li, "ec_logger:rot reopen logs", out, sizeof out);
    CHECK(r > 0);

    /* help */
    r = mtalog_console(li, "help", out, sizeof out);
    CHECK_EQ_INT(r, (int)strlen(out));
    CHECK(strncmp(out, "reopen logs\n\tClose and reopen log files\n", 40) == 0);
    CHECK_CONTAINS(out, "stats\n");

    /* stats */
    r = mtalog_console(li, "stats", out, sizeof out);
    CHECK(r > 0);
    CHECK_CONTAINS(out, "accepted: ");
    CHECK_CONTAINS(out, "reopens: ");

    /* unknown command: negative, with a reply */
    out[0] = 0;
    r = mtalog_console(li, "frobnicate", out, sizeof out);
    CHECK_EQ_INT(r, -EINVAL);
    CHECK_CONTAINS(out, "unknown command");
    CHECK_CONTAINS(mtalog_last_error(li), "frobnicate");
    CHECK_EQ_INT(mtalog_console(li, NULL, out, sizeof out), -EINVAL);
    CHECK_EQ_INT(mtalog_console(NULL, "help", out, sizeof out), -EINVAL);

    /* Sentinel buffer: truncated reply, NUL at out[7], nothing written past it. */
    memset(buf, 0xAA, sizeof buf);
    r = mtalog_console(li, "help", (char *)buf, 8);
    CHECK_EQ_INT(r, (int)strlen("reopen logs\n\tClose and reopen log files\nstats\n\tShow logger statistics\n"));
    CHECK(memcmp(buf, "reopen ", 7) == 0);
    CHECK_EQ_INT(buf[7], 0);
    ok = 1;
    for (i = 8; i < (long)sizeof buf; i++) ok &= buf[i] == 0xAA;
    CHECK(ok);
    /* out_len 0: nothing written, full length returned. */
    memset(buf, 0xAA, sizeof buf);
    r = mtalog_console(li, "help", (char *)buf, 0);
    CHECK(r > 8);
    CHECK_EQ_INT(buf[0], 0xAA);
    CHECK(mtalog_console(li, "help", NULL, 0) > 8);

    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(count_lines(main1), n);
    CHECK_EQ_INT(count_lines(main2), m);
    CHECK_EQ_INT(count_lines(test_path("mainlog")), n + 1);
    s = get_stats(li);
    CHECK_EQ_INT(s.reopens, 3);
    CHECK_EQ_INT(s.written, 2 * n + m + 1);
    CHECK_EQ_INT(mtalog_console(li, "reopen logs", out, sizeof out), -ECANCELED);
    mtalog_free(li);
    return check_summary();
}
