/* Configuration errors: codes and texts naming key and line; mtalog_load. */
#include <errno.h>
#include "check.h"

static void bad(const char *cfg, int code, const char *want1, const char *want2) {
    logging_infrastructure *li = mtalog_new("ec_logger", "cfg");
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(li->shared.log_init(li, cfg), code);
    if (want1) CHECK_CONTAINS(mtalog_last_error(li), want1);
    if (want2) CHECK_CONTAINS(mtalog_last_error(li), want2);
    CHECK_EQ_INT(li->log_close(li), -ECANCELED);
    mtalog_free(li);
}

int main(void) {
    char cfg[8192];
    logging_infrastructure *out[4] = {0};
    size_t count = 99, i;
    int r;

    snprintf(cfg, sizeof cfg, "mainlog = \"%s\"\nheartbeat = abc\n", test_path("m"));
    bad(cfg, -EINVAL, "line 2", "heartbeat");
    bad("frobnicate = 1\n", -EINVAL, "unknown option", "frobnicate");
    snprintf(cfg, sizeof cfg, "%s", "heartbeat = 0\nmainlog_mode = 0899\n");
    bad(cfg, -EINVAL, "line 2", "mainlog_mode");
    bad("overflow = sometimes\n", -EINVAL, "overflow", "line 1");
    bad("log_deliveries = maybe\n", -EINVAL, "log_deliveries", NULL);
    bad("queue_size = -3\n", -EINVAL, "queue_size", NULL);
    bad("mainlog = \"unterminated\n", -EINVAL, "line 1", NULL);
    bad("heartbeat = 0\n# caf\xe9 (Latin-1)\n", -EILSEQ, NULL, NULL);

    CHECK(mtalog_new("nope", "x") == NULL);
    CHECK_CONTAINS(mtalog_last_error(NULL), "nope");
    CHECK_CONTAINS(mtalog_last_error(NULL), "kind");
    CHECK(mtalog_new(NULL, "x") == NULL);
    CHECK(mtalog_new("ec_logger", NULL) == NULL);

    /* mtalog_load: two stanzas. */
    snprintf(cfg, sizeof cfg,
             "ec_logger \"a\" {\n  mainlog = \"%s\"\n  rejectlog = \"%s\"\n  paniclog = \"%s\"\n"
             "  heartbeat = 0\n}\npostfix_logger \"b\" {\n  mainlog = \"%s\"\n  paniclog = \"%s\"\n"
             "  utc = true\n}\n",
             test_path("a.main"), test_path("a.reject"), test_path("a.panic"),
             test_path("b.main"), test_path("b.panic"));
    r = mtalog_load(cfg, out, 4, &count);
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_INT(count, 2);
    if (r == 0 && count == 2) {
        CHECK_EQ_STR(out[0]->shared.module_name, "ec_logger");
        CHECK_EQ_STR(out[1]->shared.module_name, "postfix_logger");
        for (i = 0; i < count; i++) {
            CHECK_EQ_INT(out[i]->log_close(out[i]), 0);
            mtalog_free(out[i]);
        }
    }
    /* Too small. */
    count = 0;
    out[0] = NULL;
    CHECK_EQ_INT(mtalog_load(cfg, out, 1, &count), -ENOBUFS);
    CHECK_EQ_INT(count, 2);
    CHECK(out[0] == NULL);
    count = 0;
    CHECK_EQ_INT(mtalog_load(cfg, NULL, 0, &count), -ENOBUFS);
    CHECK_EQ_INT(count, 2);
    CHECK_EQ_INT(mtalog_load(cfg, out, 4, NULL), -EINVAL);
    CHECK_EQ_INT(mtalog_load(NULL, out, 4, &count), -EINVAL);

    /* A bad second stanza: error, and no logger left behind. */
    snprintf(cfg, sizeof cfg,
             "ec_logger \"a\" {\n  mainlog = \"%s\"\n  rejectlog = \"%s\"\n  paniclog = \"%s\"\n"
             "  heartbeat = 0\n}\nec_logger \"c\" {\n  mainlog = \"%s\"\n  heartbeat = xyz\n}\n",
             test_path("c.main"), test_path("c.reject"), test_path("c.panic"), test_path("c2.main"));
    out[0] = out[1] = NULL;
    r = mtalog_load(cfg, out, 4, &count);
    CHECK_EQ_INT(r, -EINVAL);
    CHECK(out[0] == NULL && out[1] == NULL);
    CHECK_CONTAINS(mtalog_last_error(NULL), "heartbeat");
    CHECK_CONTAINS(mtalog_last_error(NULL), "\"c\"");
    CHECK_EQ_INT(mtalog_load("bogus_logger \"z\" {\n}\n", out, 4, &count), -EINVAL);
    CHECK_CONTAINS(mtalog_last_error(NULL), "bogus_logger");
    return check_summary();
}
