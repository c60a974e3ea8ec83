/* json_logger loaded with dlopen: a mix of every hook and both record functions; each
 * record is checked whole, byte for byte (host, pid and the random boot id of the event
 * ids are learnt from the process and the first record). */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
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

#define IDS_JSON                                                                             \
    "\"id\":\"60/00-31337-EF0F3556\",\"batch_id\":\"60/00-31337-EF0F3556\","              \
    "\"conn_id\":\"1A/20-31337-821F3556\",\"sender\":\"news@sender.example\","            \
    "\"rcpt\":\"alice@dest.example\",\"size\":4821,\"binding\":\"vip-1\","                \
    "\"binding_group\":\"group-a\""
#define SESSION_JSON                                                                         \
    "\"protocol\":\"ESMTP\",\"peer_ip\":\"203.0.113.9\",\"peer_port\":51234,"             \
    "\"local_ip\":\"192.0.2.1\",\"local_port\":25"
/* Received 1699999997.94, logged 1700000042.25. */
#define OUT_JSON "\"retries\":0,\"queue_time\":44.31,\"domain\":\"dest.example\",\"mx_ip\":\"198.51.100.25\""

/* The record types and their keys after the common ones, in the order they are logged. */
static const char *const expected[][2] = {
    {"reception", IDS_JSON "," SESSION_JSON},
    {"attempt", IDS_JSON "," OUT_JSON},
    {"transient_failure",
     IDS_JSON "," OUT_JSON ",\"response\":\"451 4.7.1 Greylisted\",\"code\":451,\"dsn\":\"4.7.1\""},
    /* The note's bytes: quotes, a backslash, CR LF, NUL, a byte that is not UTF-8, '@'. */
    {"delivery", IDS_JSON "," OUT_JSON
                 ",\"response\":\"250 ok \\\"q\\\" \\\\ \\r\\n\\u0000 \xef\xbf\xbd @end\","
                 "\"code\":250"},
    {"transfer", IDS_JSON "," OUT_JSON ",\"response\":\"250 2.0.0 taken\",\"code\":250,"
                 "\"dsn\":\"2.0.0\""},
    {"permanent_failure", IDS_JSON "," OUT_JSON
                          ",\"response\":\"550 5.1.1 unknown user\",\"code\":550,"
                          "\"dsn\":\"5.1.1\""},
    {"rejection", "\"conn_id\":\"E0/00-31337-F51F3556\"," SESSION_JSON
                  ",\"phase\":6,\"phase_text\":\"awaiting rcptto\",\"rcpt\":\"x@y.example\","
                  "\"module\":\"scriptlet\",\"pathway\":\"default\",\"pathway_group\":\"default\","
                  "\"ctx_conn\":\"pathway=default\",\"ctx_mess\":\"mailfrom_localpart=bob\","
                  "\"text\":\"550 5.7.1 <x@y.example>: relaying denied\",\"code\":550,"
                  "\"dsn\":\"5.7.1\""},
    {"error", "\"level\":\"warning\",\"text\":\"queue 90% full\""},
    {"error", "\"level\":\"error\",\"text\":\"no severity \\t here\""},
    {"auth", "\"auth\":\"authentication\",\"listener\":\"*:2025\","
             "\"peer\":\"198.51.100.77:40112\",\"user\":\"bob\",\"result\":0"},
    {"auth", "\"auth\":\"authorization\",\"listener\":\"*:2025\",\"user\":\"admin\","
             "\"result\":1,\"command\":\"summary\",\"role\":\"operators\""},
    {"import", "\"id\":\"32/10-04242-0001E5F5\",\"result\":1,"
               "\"spool_dir\":\"/var/spool/restore\""},
};
#define N_EXPECTED ((int)(sizeof expected / sizeof *expected))

static struct mtalog_stats stats_of(logging_infrastructure *li) {
    struct mtalog_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    CHECK_EQ_INT(stats_fn(li, &s), 0);
    return s;
}

/* Compares each line of `text` with the expected records; `first_seq` is the seq of the
 * first one. */
static void check_records(char *text, int first, int count, const char *name) {
    char host[256], boot[17] = "", want[4096];
    char *line, *save = NULL, *p;
    int i = first, seen = 0;
    memset(host, 0, sizeof host);
    CHECK_EQ_INT(gethostname(host, sizeof host - 1), 0);
    p = strstr(text, "\"event_id\":\"");
    CHECK(p != NULL);
    if (!p) return;
    memcpy(boot, p + 12, 16);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        CHECK(i < first + count);
        if (i >= first + count) break;
        snprintf(want, sizeof want,
                 "{\"v\":1,\"time\":\"2023-11-14T22:14:02.250000Z\",\"type\":\"%s\","
                 "\"logger\":\"%s\",\"host\":\"%s\",\"pid\":%ld,\"seq\":%d,"
                 "\"event_id\":\"%s%016x\",%s}",
                 expected[i][0], name, host, (long)getpid(), i - first + 1, boot,
                 (unsigned)(i - first + 1), expected[i][1]);
        CHECK_EQ_STR(line, want);
        i++;
        seen++;
    }
    CHECK_EQ_INT(seen, count);
}

static void every_hook(void) {
    logging_infrastructure *li = new_fn("json_logger", "js");
    struct timeval tv = {1700000042, 250000};
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    mtalog_accept a = ref_accept();
    mtalog_validate v = ref_validate();
    static const char hostile[] = "250 ok \"q\" \\ \r\n\0 \xff @end";
    char cfg[1024], *text;
    struct mtalog_stats s;

    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_STR(li->shared.module_name, "json_logger");
    CHECK(strstr(li->shared.module_description, "JSON lines") != NULL);
    snprintf(cfg, sizeof cfg, "json_logger \"js\" {\n  mainlog = \"%s\"\n  log_attempts = true\n}\n",
             test_path("events.json"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);

    li->log_reception(li, ACC(a), MSG(m), &tv, NULL, 0);
    li->log_attempt(li, MSG(m), DOM(d), &tv, NULL, 0);
    li->log_transient_failure(li, MSG(m), DOM(d), &tv, "451 4.7.1 Greylisted", 20);
    li->log_delivery(li, MSG(m), DOM(d), &tv, hostile, (int)sizeof hostile - 1);
    CHECK_EQ_INT(li->log_reopen(li), 0);
    m.is_transfer = 1;
    li->log_delivery(li, MSG(m), DOM(d), &tv, "250 2.0.0 taken", 15);
    m.is_transfer = 0;
    li->log_permanent_failure(li, MSG(m), DOM(d), &tv, "550 5.1.1 unknown user", 22);
    v.rcpt_to = "x@y.example";
    call_log_rejection(li, &tv, ACC(a), VAL(v), 6, "550 5.7.1 <%s>: relaying denied",
                       "x@y.example");
    call_log_error(li, &tv, "warning: queue %d%% full\n", 90);
    call_log_error(li, &tv, "no severity \t here");
    CHECK_EQ_INT(acct_fn(li, &tv, 'N', "*:2025", "198.51.100.77:40112", "bob", 0, NULL, NULL), 0);
    CHECK_EQ_INT(acct_fn(li, &tv, 'Z', "*:2025", NULL, "admin", 1, "summary", "operators"), 0);
    CHECK_EQ_INT(import_fn(li, &tv, "32/10-04242-0001E5F5", NULL, 1, "/var/spool/restore"), 0);
    CHECK_EQ_INT(import_fn(li, &tv, "32/10-04242-0001E5F5", NULL, 9, "/x"), -EINVAL);
    CHECK_EQ_INT(li->log_close(li), 0);

    s = stats_of(li);
    CHECK_EQ_INT(s.written, N_EXPECTED);
    CHECK_EQ_INT(s.accepted, N_EXPECTED);
    CHECK_EQ_INT(s.dropped, 0);
    CHECK_EQ_INT(s.invalid_utf8, 1);
    CHECK_EQ_INT(s.reopens, 1);

    text = read_file(test_path("events.json"), NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK_EQ_INT(count_lines(test_path("events.json")), N_EXPECTED);
        check_records(text, 0, N_EXPECTED, "js");
        free(text);
    }
    free_fn(li);
}

/* With a paniclog, error records go there and nothing else does. */
static void paniclog(void) {
    logging_infrastructure *li = new_fn("json_logger", "jp");
    struct timeval tv = {1700000042, 250000};
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    char cfg[1024], *text;
    CHECK(li != NULL);
    if (!li) return;
    snprintf(cfg, sizeof cfg, "mainlog = \"%s\"\npaniclog = \"%s\"\npaniclog_mode = 0600\n",
             test_path("main.json"), test_path("panic.json"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    call_log_error(li, &tv, "warning: queue %d%% full", 90);
    li->log_permanent_failure(li, MSG(m), DOM(d), &tv, "550 5.1.1 unknown user", 22);
    CHECK_EQ_INT(li->log_close(li), 0);
    CHECK_EQ_INT(count_lines(test_path("main.json")), 1);
    CHECK_EQ_INT(count_matching(test_path("main.json"), "\"seq\":2,"), 1);
    text = read_file(test_path("panic.json"), NULL);
    CHECK(text != NULL);
    if (text) {
        check_records(text, 7, 1, "jp");
        free(text);
    }
    free_fn(li);
}

/* The value of "key":"..." (or "key":number) in `line`, copied into `out`. */
static void value_of(const char *line, const char *key, char *out, size_t cap) {
    char pat[64];
    const char *p, *e;
    size_t n;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    out[0] = 0;
    p = strstr(line, pat);
    if (!p) return;
    p += strlen(pat);
    if (*p == '"') p++;
    e = p + strcspn(p, "\",}");
    n = (size_t)(e - p) < cap - 1 ? (size_t)(e - p) : cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
}

/* A forked child writes records of its own: its pid, a boot id of its own, seq from 1. */
static void fork_ids(void) {
    logging_infrastructure *li = new_fn("json_logger", "jf");
    struct timeval tv = {1700000042, 250000};
    char cfg[1024], *text, *line, *save = NULL;
    char pid[3][32], eid[3][40], seq[3][24], boot[3][17];
    int n = 0, status = -1, fds[2];
    char reply = 0;
    pid_t child;
    CHECK(li != NULL);
    if (!li) return;
    snprintf(cfg, sizeof cfg, "mainlog = \"%s\"\n", test_path("fork.json"));
    CHECK_EQ_INT(li->shared.log_init(li, cfg), 0);
    call_log_error(li, &tv, "parent before");
    /* The writer answers the reopen, then idles: no thread is inside malloc at the fork
     * (GCC's AddressSanitizer does not hold its allocator's lock across fork()). */
    CHECK_EQ_INT(li->log_reopen(li), 0);
    usleep(50000);
    /* The child reports through a pipe, not its exit status (valgrind counts the memory
     * of the parent's vanished writer thread as lost in a child). */
    CHECK_EQ_INT(pipe(fds), 0);
    child = fork();
    if (child == 0) {
        char ok;
        call_log_error(li, &tv, "child");
        ok = li->log_close(li) == 0 ? 'y' : 'n';
        if (write(fds[1], &ok, 1) != 1) _exit(2);
        _exit(0);
    }
    CHECK(child > 0);
    close(fds[1]);
    CHECK_EQ_INT(read(fds[0], &reply, 1), 1);
    CHECK_EQ_INT(reply, 'y');
    close(fds[0]);
    CHECK_EQ_INT(waitpid(child, &status, 0), child);
    call_log_error(li, &tv, "parent after");
    CHECK_EQ_INT(li->log_close(li), 0);
    free_fn(li);
    text = read_file(test_path("fork.json"), NULL);
    CHECK(text != NULL);
    if (!text) return;
    for (line = strtok_r(text, "\n", &save); line && n < 3; line = strtok_r(NULL, "\n", &save)) {
        value_of(line, "pid", pid[n], sizeof pid[n]);
        value_of(line, "event_id", eid[n], sizeof eid[n]);
        value_of(line, "seq", seq[n], sizeof seq[n]);
        memcpy(boot[n], eid[n], 16);
        boot[n][16] = 0;
        n++;
    }
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(count_lines(test_path("fork.json")), 3);
    if (n == 3) {
        /* parent, child, parent */
        CHECK_EQ_INT(strtol(pid[0], NULL, 10), getpid());
        CHECK_EQ_INT(strtol(pid[1], NULL, 10), child);
        CHECK_EQ_INT(strtol(pid[2], NULL, 10), getpid());
        CHECK_EQ_STR(seq[0], "1");
        CHECK_EQ_STR(seq[1], "1");
        CHECK_EQ_STR(seq[2], "2");
        CHECK_EQ_STR(boot[0], boot[2]);
        CHECK(strcmp(boot[0], boot[1]) != 0);
        CHECK(strlen(eid[0]) == 32 && strcmp(eid[0], eid[1]) != 0 && strcmp(eid[0], eid[2]) != 0);
    }
    free(text);
}

/* A kind without records, and a logger not running. */
static void refusals(void) {
    logging_infrastructure *li = new_fn("postfix_logger", "pf");
    struct timeval tv = {1700000042, 0};
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(acct_fn(li, &tv, 'N', "a", "b", "c", 1, NULL, NULL), -ECANCELED);
    free_fn(li);
    li = new_fn("json_logger", "jc");
    CHECK(li != NULL);
    if (!li) return;
    CHECK_EQ_INT(import_fn(li, &tv, "x", NULL, 1, "/d"), -ECANCELED);
    CHECK(li->shared.log_init(li, "mainlog = \"/nonexistent-dir-mtalog/events.json\"\n") < 0);
    CHECK(strstr(last_error_fn(li), "json_logger 'jc'") != NULL);
    free_fn(li);
}

int main(void) {
    const char *lib = getenv("MTALOG_LIB");
    void *h;
    CHECK(lib != NULL);
    if (!lib) return check_summary();
    h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    CHECK(h != NULL);
    if (!h) return check_summary();
    *(void **)&new_fn = dlsym(h, "mtalog_new");
    *(void **)&free_fn = dlsym(h, "mtalog_free");
    *(void **)&stats_fn = dlsym(h, "mtalog_stats");
    *(void **)&acct_fn = dlsym(h, "mtalog_acct_log");
    *(void **)&import_fn = dlsym(h, "mtalog_import_log");
    *(void **)&last_error_fn = dlsym(h, "mtalog_last_error");
    CHECK(new_fn && free_fn && stats_fn && acct_fn && import_fn && last_error_fn);
    if (new_fn && free_fn && stats_fn && acct_fn && import_fn && last_error_fn) {
        every_hook();
        paniclog();
        fork_ids();
        refusals();
    }
    dlclose(h);
    return check_summary();
}
