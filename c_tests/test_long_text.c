/* log_error texts: long, over MTALOG_TEXT_MAX, embedded newlines, formats; acctlog and
 * importlog fields over max_field. */
#include "check.h"

/* Record fields are cut at max_field like hook fields, and each cut is counted. */
static void long_record_fields(void) {
    logging_infrastructure *li = mtalog_new("ec_logger", "records");
    struct timeval tv = {1700000006, 0};
    char extra[1024], *text;
    CHECK(li != NULL);
    if (!li) return;
    snprintf(extra, sizeof extra, "acctlog = \"%s\"\nimportlog = \"%s\"\nmax_field = 16\n",
             test_path("long-acct"), test_path("long-import"));
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(extra)), 0);
    CHECK_EQ_INT(mtalog_acct_log(li, &tv, 'N', "*:2025", "198.51.100.77:40112",
                                 "a-user-name-of-thirty-bytes", 1, NULL, NULL),
                 0);
    CHECK_EQ_INT(mtalog_import_log(li, &tv, "32/10-04242-0001E5F5", NULL, 1,
                                   "/var/spool/restore/deep"),
                 0);
    CHECK_EQ_INT(li->log_close(li), 0);
    /* user and peer, the original id and the spool directory */
    CHECK_EQ_INT((int)get_stats(li).truncated, 4);
    text = read_file(test_path("long-acct"), NULL);
    CHECK(text && strstr(text, "a-user-name-of-t[truncated]") != NULL);
    CHECK(text && strstr(text, "198.51.100.77:40[truncated]") != NULL);
    free(text);
    text = read_file(test_path("long-import"), NULL);
    CHECK(text && strstr(text, "@32/10-04242-0001[truncated]@") != NULL);
    CHECK(text && strstr(text, "@/var/spool/resto[truncated]") != NULL);
    free(text);
    mtalog_free(li);
}

int main(void) {
    long_record_fields();
    logging_infrastructure *li = mtalog_new("ec_logger", "long");
    struct timeval tv = {1700000005, 0};
    char *big = malloc(100 * 1024 + 1), *text, *line2, *line3, *save = NULL, *l;
    size_t len;
    CHECK(li != NULL && big != NULL);
    if (!li || !big) return check_summary();
    CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), 0);
    memset(big, 'a', 100 * 1024);
    big[20 * 1024] = 0;
    call_log_error(li, &tv, "%s", big);
    big[20 * 1024] = 'a';
    big[100 * 1024] = 0;
    call_log_error(li, &tv, "%s", big);
    call_log_error(li, &tv, "one\ntwo\nthree");
    call_log_error(li, &tv, "n=%d s=%s", 42, "x");
    CHECK_EQ_INT(li->log_close(li), 0);
    text = read_file(test_path("paniclog"), &len);
    CHECK(text != NULL);
    if (text) {
        CHECK_EQ_INT(count_lines(test_path("paniclog")), 4);
        l = strtok_r(text, "\n", &save);
        CHECK(l && strlen(l) == strlen("1700000005:") + 20 * 1024);
        CHECK(l && strncmp(l, "1700000005:aaaa", 15) == 0);
        line2 = strtok_r(NULL, "\n", &save);
        CHECK(line2 && strlen(line2) > 12 &&
              strcmp(line2 + strlen(line2) - 12, " [truncated]") == 0);
        CHECK(line2 && strlen(line2) < 100 * 1024);
        line3 = strtok_r(NULL, "\n", &save);
        CHECK_EQ_STR(line3, "1700000005:one\\ntwo\\nthree");
        CHECK_EQ_STR(strtok_r(NULL, "\n", &save), "1700000005:n=42 s=x");
    }
    CHECK(get_stats(li).truncated >= 1);
    free(text);
    free(big);
    mtalog_free(li);
    return check_summary();
}
