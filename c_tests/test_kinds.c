/* postfix_logger and imta_logger through the C ABI. */
#include <errno.h>
#include "check.h"
#include "common.h"

static void postfix(void) {
    char cfg[4096], *text;
    logging_infrastructure *li = mtalog_new("postfix_logger", "pf");
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    mtalog_accept a = ref_accept();
    struct timeval tv = {1700000042, 0};
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_STR(li->shared.module_name, "postfix_logger");
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s\"\npaniclog = \"%s\"\nutc = true\nmyhostname = mx.example\npid = 4242\n",
             test_path("pf.main"), test_path("pf.panic"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    li->log_reception(li, ACC(a), MSG(m), &tv, NULL, 0);
    li->log_delivery(li, MSG(m), DOM(d), &tv, "250 ok", 6);
    CHECK_EQ_INT(mtalog_acct_log(li, &tv, 'N', "a", "b", "c", 1, NULL, NULL), -ENOTSUP);
    CHECK_EQ_INT(mtalog_import_log(li, &tv, "x", NULL, 1, "/d"), -ENOTSUP);
    CHECK_EQ_INT(li->log_close(li), 0);
    text = read_file(test_path("pf.main"), NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK_CONTAINS(text, "mx postfix/smtp[4242]: ");
        CHECK_CONTAINS(text, "status=sent");
        CHECK_CONTAINS(text, "to=<alice@dest.example>");
    }
    CHECK(count_lines(test_path("pf.main")) >= 2);
    free(text);
    mtalog_free(li);
}

static void imta(void) {
    char cfg[4096], *text, *line, *save = NULL;
    int e = 0, dl = 0;
    logging_infrastructure *li = mtalog_new("imta_logger", "im");
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    mtalog_accept a = ref_accept();
    struct timeval tv = {1700000042, 0};
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_STR(li->shared.module_name, "imta_logger");
    snprintf(cfg, sizeof cfg, "logdir = \"%s\"\nutc = true\n", test_dir());
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    li->log_reception(li, ACC(a), MSG(m), &tv, NULL, 0);
    li->log_delivery(li, MSG(m), DOM(d), &tv, "250 ok", 6);
    CHECK_EQ_INT(mtalog_acct_log(li, &tv, 'N', "a", "b", "c", 1, NULL, NULL), -ENOTSUP);
    CHECK_EQ_INT(li->log_close(li), 0);
    text = read_file(test_path("mail.log_current"), NULL);
    CHECK(text != NULL);
    if (text) {
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            if (strstr(line, " E ") || strstr(line, " EE ")) e++; /* EE: the session used EHLO */
            if (strstr(line, " D ")) dl++;
        }
        if (e != 1 || dl != 1) fprintf(stderr, "mail.log_current:\n%s\n", text);
    }
    CHECK_EQ_INT(e, 1);
    CHECK_EQ_INT(dl, 1);
    free(text);
    mtalog_free(li);
}

int main(void) {
    postfix();
    imta();
    return check_summary();
}
