/* Stress: 16 threads log receptions, deliveries, failures and rejections with random
 * lengths and hostile bytes (CR, LF, other control bytes, '@', '\', '"', '<>', '[]', '=',
 * ';', spaces, bytes that are not UTF-8, values longer than max_field) into an ec_logger,
 * a postfix_logger and an imta_logger at once, while thread 0 reopens (and now and then
 * rotates) every file. After log_close:
 *   - ec_logger: every event is exactly one line, in its file, exactly once; each line
 *     splits into the documented number of fields, and every field unescapes to exactly the
 *     value that was logged (so no hostile value moved another field);
 *   - postfix_logger: the documented number of lines per event, each with a valid syslog
 *     prefix, no control byte, valid UTF-8, and every field pflogsumm keys on intact;
 *   - imta_logger: one line per event; tests/c_tests.rs parses each with the library's own
 *     parser (imta::parse_line) against the counts this program leaves in stress-expected.
 * Event values are a pure function of (thread, sequence number), so the checker regenerates
 * what each line must say. Counts scale with MTALOG_TEST_SCALE (16 x 250,000 at 1). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include "check.h"
#include "common.h"

#define THREADS 16
#define PER_THREAD 250000L
#define MAX_FIELD 4096
#define VAL_CAP 6200 /* longest generated value + NUL */
#define REOPEN_EVERY 3000 /* events of thread 0; fewer at small scales, for 8 reopens */
#define ROTATE_EVERY 2 /* every 2nd reopen also renames the files first */
#define MAX_ROTATIONS 12

enum { K_R, K_D, K_T, K_P, K_J, NKINDS };
static const char KIND_LETTER[NKINDS] = {'R', 'D', 'T', 'P', 'J'};

enum { L_EC, L_PF, L_IM, NLOGGERS };
static logging_infrastructure *lg[NLOGGERS];
static long per_thread, reopen_every;
static long counts[THREADS][NKINDS];
static int reopen_failures, rotations;

/* ------------------------------------------------------------------ the events */

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

typedef struct {
    char id[32];
    int kind;
    char rcpt[VAL_CAP], from[VAL_CAP], group[VAL_CAP], binding[VAL_CAP];
    char domain[VAL_CAP], mxip[VAL_CAP], mxhost[VAL_CAP], helo[VAL_CAP];
    char module[VAL_CAP], path[VAL_CAP], pathgrp[VAL_CAP], ctxc[VAL_CAP], ctxm[VAL_CAP];
    char note[VAL_CAP];
    int note_len;
} ev_t;

/* Hostile bytes: no NUL (values are C strings; notes could carry one, but the formats'
 * NUL handling is covered by the format tests). */
static const char HOSTILE[] = "\r\n\t\x01\x1b\x7f@\\\" ;<>=[]:(),\x80\xff\xc3\xe2\x80";

static void gen_value(uint64_t *s, char *out, int allow_long) {
    uint64_t r = splitmix(s);
    size_t len, i;
    if (allow_long && r % 500 == 0)
        len = 4000 + (size_t)(r >> 20) % 2000; /* around max_field, often beyond it */
    else
        len = (size_t)(r >> 8) % 40;
    for (i = 0; i < len; i++) {
        uint64_t c = splitmix(s);
        if (c % 2)
            out[i] = "abcdefghijklmnopqrstuvwxyz0123456789.-"[(c >> 8) % 38];
        else
            out[i] = HOSTILE[(c >> 8) % (sizeof HOSTILE - 1)];
    }
    out[len] = 0;
}

static void gen_event(int t, long n, ev_t *e) {
    uint64_t s = ((uint64_t)(t + 1) << 40) ^ (uint64_t)n ^ 0x5DEECE66DULL;
    char *const short_values[] = {e->from,   e->group, e->binding, e->domain, e->mxip,
                                  e->mxhost, e->helo,  e->module,  e->path,   e->pathgrp,
                                  e->ctxc,   e->ctxm};
    size_t i;
    e->kind = (int)(splitmix(&s) % NKINDS);
    if (e->kind == K_J)
        snprintf(e->id, sizeof e->id, "J%d-%ld", t, n);
    else
        snprintf(e->id, sizeof e->id, "T%d-%ld", t, n);
    gen_value(&s, e->rcpt, 1);
    for (i = 0; i < sizeof short_values / sizeof short_values[0]; i++)
        gen_value(&s, short_values[i], 0);
    gen_value(&s, e->note, e->kind != K_J);
    e->note_len = (int)strlen(e->note);
}

static void log_event(const ev_t *e) {
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    mtalog_accept a = ref_accept();
    mtalog_validate v = ref_validate();
    struct timeval tv = {1700000042, 0};
    int l;
    m.id = e->id;
    m.batch_id = NULL;
    m.conn_id = NULL;
    m.rcpt_to = e->rcpt;
    m.mail_from = e->from;
    m.binding_group = e->group;
    m.binding = e->binding;
    d.name = e->domain;
    d.mx_ip = e->mxip;
    d.mx_host = e->mxhost;
    a.helo = e->helo;
    a.conn_id = e->id;
    v.mail_from = e->from;
    v.rcpt_to = e->rcpt;
    v.module = e->module;
    v.pathway = e->path;
    v.pathway_group = e->pathgrp;
    v.ctx_conn = e->ctxc;
    v.ctx_mess = e->ctxm;
    for (l = 0; l < NLOGGERS; l++) {
        logging_infrastructure *li = lg[l];
        switch (e->kind) {
        case K_R: li->log_reception(li, ACC(a), MSG(m), &tv, e->note, e->note_len); break;
        case K_D: li->log_delivery(li, MSG(m), DOM(d), &tv, e->note, e->note_len); break;
        case K_T: li->log_transient_failure(li, MSG(m), DOM(d), &tv, e->note, e->note_len); break;
        case K_P: li->log_permanent_failure(li, MSG(m), DOM(d), &tv, e->note, e->note_len); break;
        default: call_log_rejection(li, &tv, ACC(a), VAL(v), 6, "%s", e->note); break;
        }
    }
}

/* ------------------------------------------------------------------ files */

static const char *const MAINS[][2] = {
    {"ec", "mainlog"}, {"ec", "rejectlog"}, {"pf", "mainlog"}, {"im", "mail.log_current"}};

/* Path of file `f` of MAINS, rotation `k` (0 = the live file). */
static void file_path(char *buf, size_t cap, int f, int k) {
    if (k == 0)
        snprintf(buf, cap, "%s/%s-%s", test_dir(), MAINS[f][0], MAINS[f][1]);
    else
        snprintf(buf, cap, "%s/%s-%s.r%d", test_dir(), MAINS[f][0], MAINS[f][1], k);
}

static void rotate_and_reopen(long k) {
    int l, f, bad = 0;
    char from[4096], to[4096], out[256];
    if (k % ROTATE_EVERY == 0 && rotations < MAX_ROTATIONS) {
        rotations++;
        for (f = 0; f < 4; f++) {
            file_path(from, sizeof from, f, 0);
            file_path(to, sizeof to, f, rotations);
            bad |= rename(from, to) != 0;
        }
    }
    for (l = 0; l < NLOGGERS; l++) {
        if (k % 2)
            bad |= lg[l]->log_reopen(lg[l]) != 0;
        else
            bad |= mtalog_console(lg[l], "reopen logs", out, sizeof out) <= 0;
    }
    if (bad) reopen_failures++;
}

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg;
    long n, reopens = 0;
    ev_t *e = malloc(sizeof *e);
    if (!e) return NULL;
    for (n = 0; n < per_thread; n++) {
        gen_event(t, n, e);
        counts[t][e->kind]++;
        log_event(e);
        if (t == 0 && (n + 1) % reopen_every == 0) rotate_and_reopen(++reopens);
    }
    free(e);
    return NULL;
}

/* ------------------------------------------------------------------ checking helpers */

/* How many of the first n bytes a cut keeps: a UTF-8 sequence left incomplete at the end
 * is dropped whole (bytes that are not UTF-8 stay). */
static size_t whole_chars(const unsigned char *b, size_t n) {
    size_t back;
    for (back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = b[n - back];
        size_t need;
        if ((c & 0xC0) == 0x80) continue;
        need = c >= 0xF8 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? n - back : n;
    }
    return n;
}

/* The value as the library stores it: cut at max_field (never inside a character), then
 * the marker. */
static size_t stored(const char *v, size_t len, char *out) {
    if (len > MAX_FIELD) {
        size_t keep = whole_chars((const unsigned char *)v, MAX_FIELD);
        memcpy(out, v, keep);
        memcpy(out + keep, "[truncated]", 11);
        return keep + 11;
    }
    memcpy(out, v, len);
    return len;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Undoes the ec_logger escapes of s[0..len) into out; -1 on a malformed escape or a raw
 * control byte. */
static long unescape(const char *s, size_t len, char *out) {
    size_t i, o = 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) return -1;
        if (c != '\\') {
            out[o++] = (char)c;
            continue;
        }
        if (++i >= len) return -1;
        switch (s[i]) {
        case '@': case '\\': case '"': out[o++] = s[i]; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'x':
            if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) return -1;
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
            break;
        default: return -1;
        }
    }
    return (long)o;
}

/* Does field s[0..len) unescape to exactly want[0..wlen)? */
static int field_is(const char *s, size_t len, const char *want, size_t wlen, char *tmp) {
    long n = unescape(s, len, tmp);
    return n >= 0 && (size_t)n == wlen && memcmp(tmp, want, wlen) == 0;
}

/* bare_address + split at the last '@', as the ec formatter does. */
static void split_address(const char *a, size_t len, const char **lp, size_t *ll,
                          const char **dp, size_t *dl) {
    size_t i;
    if (len >= 2 && a[0] == '<' && a[len - 1] == '>') {
        a++;
        len -= 2;
    }
    for (i = len; i > 0; i--)
        if (a[i - 1] == '@') break;
    if (i == 0) {
        *lp = a, *ll = len, *dp = a + len, *dl = 0;
    } else {
        *lp = a, *ll = i - 1, *dp = a + i, *dl = len - i;
    }
}

/* One trailing "\n" (or "\r\n") of a text is the line end, not content. */
static size_t strip_one_newline(const char *s, size_t len) {
    if (len == 0 || s[len - 1] != '\n') return len;
    len--;
    return len > 0 && s[len - 1] == '\r' ? len - 1 : len;
}

/* Splits an ec mainlog line at unescaped '@' into at most `max` fields (the last one takes
 * the rest, '@' included). Returns the number of fields. */
static int split_at(char *line, size_t len, int max, char **f, size_t *fl) {
    size_t i, start = 0;
    int n = 0;
    for (i = 0; i < len && n < max - 1; i++) {
        if (line[i] == '\\') {
            i++;
            continue;
        }
        if (line[i] == '@') {
            f[n] = line + start, fl[n] = i - start, n++;
            start = i + 1;
        }
    }
    f[n] = line + start, fl[n] = len - start, n++;
    return n;
}

typedef struct {
    unsigned char *seen;
    long lines, bad, dup, per_kind[NKINDS];
    char *tmp, *want;
    ev_t *e;
} checker;

static void bad_line(checker *c, const char *why, const char *line, size_t len) {
    if (c->bad++ < 5) fprintf(stderr, "bad line (%s): %.300s%s\n", why, line, len > 300 ? "..." : "");
}

/* Parses "<T|J><t>-<n>" exactly; regenerates that event into c->e. */
static int find_event(checker *c, const char *s, size_t len, char prefix) {
    char id[32];
    int t, used = 0;
    long n;
    if (len == 0 || len >= sizeof id || s[0] != prefix) return 0;
    memcpy(id, s, len);
    id[len] = 0;
    if (sscanf(id + 1, "%d-%ld%n", &t, &n, &used) != 2 || (size_t)used != len - 1 || t < 0 ||
        t >= THREADS || n < 0 || n >= per_thread)
        return 0;
    gen_event(t, n, c->e);
    if (c->seen[(long)t * per_thread + n]++) c->dup++;
    return 1;
}

/* Checks the value of field `f` against the logged `v` (stored form). */
#define FIELD_IS(i, v)                                                                    \
    field_is(f[i], fl[i], c->want, stored((v), strlen(v), c->want), c->tmp)

static void check_ec_main_line(checker *c, char *line, size_t len) {
    char *f[16];
    size_t fl[16], rl, rd, fl_, fd, wl;
    const char *lp, *dp, *lp2, *dp2;
    int n = split_at(line, len, 16, f, fl), ok = 1, k;
    c->lines++;
    if (n < 5 || !find_event(c, f[1], fl[1], 'T')) { bad_line(c, "id", line, len); return; }
    k = c->e->kind;
    if (fl[4] != 1 || f[4][0] != KIND_LETTER[k] || k == K_J) { bad_line(c, "letter", line, len); return; }
    c->per_kind[k]++;
    ok &= fl[2] == fl[1] && memcmp(f[2], f[1], fl[1]) == 0; /* batch = message id */
    ok &= strncmp(line, "1700000042@", 11) == 0;
    if (k == K_R) {
        char rs[VAL_CAP + 16], fs[VAL_CAP + 16];
        size_t rn = stored(c->e->rcpt, strlen(c->e->rcpt), rs);
        size_t fn = stored(c->e->from, strlen(c->e->from), fs);
        if (n != 14) { bad_line(c, "R field count", line, len); return; }
        split_address(rs, rn, &lp, &rl, &dp, &rd);
        split_address(fs, fn, &lp2, &fl_, &dp2, &fd);
        ok &= field_is(f[5], fl[5], lp, rl, c->tmp) && field_is(f[6], fl[6], dp, rd, c->tmp);
        ok &= field_is(f[7], fl[7], lp2, fl_, c->tmp) && field_is(f[8], fl[8], dp2, fd, c->tmp);
        ok &= field_is(f[9], fl[9], "203.0.113.9", 11, c->tmp);
        ok &= field_is(f[11], fl[11], "esmtp", 5, c->tmp);
        ok &= FIELD_IS(12, c->e->group) && FIELD_IS(13, c->e->binding);
    } else if (k == K_D) {
        if (n != 12) { bad_line(c, "D field count", line, len); return; }
        ok &= FIELD_IS(5, c->e->domain) && FIELD_IS(7, c->e->group) && FIELD_IS(8, c->e->binding);
        ok &= FIELD_IS(11, c->e->mxip);
    } else {
        /* 13 separators, then the free text (which keeps '@' raw) */
        if (n < 14 || split_at(line, len, 14, f, fl) != 14)
            { bad_line(c, "T/P field count", line, len); return; }
        ok &= FIELD_IS(5, c->e->domain) && FIELD_IS(7, c->e->group) && FIELD_IS(8, c->e->binding);
        ok &= FIELD_IS(12, c->e->mxip);
        /* free text: '@' raw, one trailing newline of the note is the line end */
        wl = stored(c->e->note, (size_t)c->e->note_len, c->want);
        wl = strip_one_newline(c->want, wl);
        ok &= field_is(f[13], fl[13], c->want, wl, c->tmp);
    }
    if (!ok) bad_line(c, "field value", line, len);
}

/* Reads a quoted value at *p (after the opening quote) up to its unescaped closing quote. */
static int take_quoted(char **p, char *end, char **v, size_t *vl) {
    char *s = *p;
    *v = s;
    while (s < end && *s != '"') s += *s == '\\' ? 2 : 1;
    if (s >= end) return 0;
    *vl = (size_t)(s - *v);
    *p = s + 1;
    return 1;
}

static int expect(char **p, char *end, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0) return 0;
    *p += n;
    return 1;
}

/* Up to (not including) the first unescaped `stop` byte. */
static int take_until(char **p, char *end, char stop, char **v, size_t *vl) {
    char *s = *p;
    *v = s;
    while (s < end && *s != stop) s += *s == '\\' ? 2 : 1;
    if (s >= end) return 0;
    *vl = (size_t)(s - *v);
    *p = s;
    return 1;
}

static void check_ec_reject_line(checker *c, char *line, size_t len) {
    char *p = line, *end = line + len, *v;
    size_t vl, wl;
    int ok = 1;
    c->lines++;
    if (!expect(&p, end, "1700000042: R=\"203.0.113.9:51234\" L=\"192.0.2.1:25\" C=\"") ||
        !take_quoted(&p, end, &v, &vl) || !find_event(c, v, vl, 'J'))
        { bad_line(c, "reject head", line, len); return; }
    c->per_kind[K_J]++;
    ok &= expect(&p, end, " PATH=\"") && take_quoted(&p, end, &v, &vl);
    ok = ok && field_is(v, vl, c->want, stored(c->e->path, strlen(c->e->path), c->want), c->tmp);
    ok = ok && expect(&p, end, " PATH_GRP=\"") && take_quoted(&p, end, &v, &vl);
    ok = ok && field_is(v, vl, c->want, stored(c->e->pathgrp, strlen(c->e->pathgrp), c->want), c->tmp);
    ok = ok && expect(&p, end, " P=\"awaiting rcptto\" E=550 M=") && take_until(&p, end, ' ', &v, &vl);
    ok = ok && field_is(v, vl, c->want, stored(c->e->module, strlen(c->e->module), c->want), c->tmp);
    ok = ok && expect(&p, end, " CTXCONN=[") && take_until(&p, end, ']', &v, &vl);
    ok = ok && field_is(v, vl, c->want, stored(c->e->ctxc, strlen(c->e->ctxc), c->want), c->tmp);
    ok = ok && expect(&p, end, "] CTXMESS=[") && take_until(&p, end, ']', &v, &vl);
    ok = ok && field_is(v, vl, c->want, stored(c->e->ctxm, strlen(c->e->ctxm), c->want), c->tmp);
    ok = ok && expect(&p, end, "] ");
    if (ok) {
        wl = strlen(c->e->note);
        memcpy(c->want, c->e->note, wl);
        wl = strip_one_newline(c->want, wl);
        ok &= field_is(p, (size_t)(end - p), c->want, wl, c->tmp);
    }
    if (!ok) bad_line(c, "reject fields", line, len);
}

/* Calls fn on each line of file f over all rotations (oldest first); 0 if a file does not
 * end in '\n'. */
static int each_line(int f, checker *c, void (*fn)(checker *, char *, size_t)) {
    int k, ok = 1;
    char path[4096];
    for (k = 1; k <= rotations + 1; k++) {
        size_t len, i, start = 0;
        char *text;
        file_path(path, sizeof path, f, k > rotations ? 0 : k);
        text = read_file(path, &len);
        if (!text) {
            fprintf(stderr, "missing %s\n", path);
            ok = 0;
            continue;
        }
        if (len > 0 && text[len - 1] != '\n') ok = 0;
        for (i = 0; i < len; i++) {
            if (text[i] == '\n') {
                text[i] = 0;
                fn(c, text + start, i - start);
                start = i + 1;
            }
        }
        free(text);
    }
    return ok;
}

/* ------------------------------------------------------------------ postfix */

static int utf8_ok(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char b = s[i];
        size_t n, j;
        if (b < 0x80) {
            i++;
            continue;
        }
        n = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || i + n > len) return 0;
        for (j = 1; j < n; j++)
            if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += n;
    }
    return 1;
}

static long occurrences(const char *s, const char *needle) {
    long n = 0;
    size_t nl = strlen(needle);
    while ((s = strstr(s, needle)) != NULL) n++, s += nl;
    return n;
}

/* Checks a bracketed value "<...>" following `key` (if present): no '<', '>' or space. */
static int bracket_ok(const char *line, const char *key) {
    const char *p = strstr(line, key);
    if (!p) return 1;
    p += strlen(key);
    for (; *p && *p != '>'; p++)
        if (*p == '<' || *p == ' ') return 0;
    return *p == '>';
}

static long pf_status, pf_reject, pf_removed;

static void check_pf_line(checker *c, char *line, size_t len) {
    size_t i;
    int ok = 1;
    const char *p;
    c->lines++;
    for (i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) { bad_line(c, "control byte", line, len); return; }
    if (!utf8_ok((const unsigned char *)line, len)) { bad_line(c, "utf-8", line, len); return; }
    /* "Nov 14 22:14:02 host postfix/svc[pid]: " */
    ok &= len > 16 && line[3] == ' ' && line[6] == ' ' && line[9] == ':' && line[12] == ':' &&
          line[15] == ' ';
    p = strstr(line, " postfix/");
    ok = ok && p && strchr(p, '[') && strstr(p, "]: ");
    if (!ok) { bad_line(c, "prefix", line, len); return; }
    p = strstr(p, "]: ") + 3;
    ok &= occurrences(line, "status=") <= 1 && occurrences(line, "to=<") <= 1 &&
          occurrences(line, " helo=<") <= 1 && occurrences(line, " from=<") <= 1 &&
          occurrences(line, ": reject: ") <= 1;
    ok &= bracket_ok(line, "to=<") && bracket_ok(line, "from=<") && bracket_ok(line, " helo=<");
    if (strstr(line, ", status=")) {
        pf_status++;
        ok &= strstr(p, ": to=<") != NULL && strstr(line, ", relay=") != NULL &&
              strstr(line, ", dsn=") != NULL;
    }
    if (strstr(p, "NOQUEUE: reject: RCPT from ")) {
        pf_reject++;
        ok &= occurrences(line, " proto=ESMTP") + occurrences(line, " proto=SMTP") == 1;
    }
    if (strstr(p, ": removed") && p[strlen(p) - 1] == 'd') pf_removed++;
    if (!ok) bad_line(c, "postfix fields", line, len);
}

/* ------------------------------------------------------------------ main */

static checker new_checker(void) {
    checker c;
    memset(&c, 0, sizeof c);
    c.seen = calloc((size_t)(THREADS * per_thread), 1);
    c.tmp = malloc(2 * VAL_CAP);
    c.want = malloc(2 * VAL_CAP);
    c.e = malloc(sizeof *c.e);
    return c;
}

static void free_checker(checker *c) {
    free(c->seen);
    free(c->tmp);
    free(c->want);
    free(c->e);
}

int main(void) {
    pthread_t th[THREADS];
    long total[NKINDS] = {0}, all = 0, t, k, missing;
    char cfg[8192];
    const char *d = test_dir();
    struct mtalog_stats s;
    checker c;
    FILE *f;
    int l;

    per_thread = scale(PER_THREAD);
    reopen_every = per_thread / 8 < REOPEN_EVERY ? per_thread / 8 + 1 : REOPEN_EVERY;
    lg[L_EC] = mtalog_new("ec_logger", "stress_ec");
    lg[L_PF] = mtalog_new("postfix_logger", "stress_pf");
    lg[L_IM] = mtalog_new("imta_logger", "stress_im");
    CHECK(lg[0] && lg[1] && lg[2]);
    if (!lg[0] || !lg[1] || !lg[2]) return check_summary();
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s/ec-mainlog\"\nrejectlog = \"%s/ec-rejectlog\"\n"
             "paniclog = \"%s/ec-paniclog\"\nheartbeat = 0\nmax_field = %d\n",
             d, d, d, MAX_FIELD);
    CHECK_EQ_INT(lg[L_EC]->shared.log_init(lg[L_EC], cfg), 0);
    snprintf(cfg, sizeof cfg,
             "mainlog = \"%s/pf-mainlog\"\npaniclog = \"%s/pf-paniclog\"\nmyhostname = mx1\n"
             "max_field = %d\n",
             d, d, MAX_FIELD);
    CHECK_EQ_INT(lg[L_PF]->shared.log_init(lg[L_PF], cfg), 0);
    snprintf(cfg, sizeof cfg,
             "logdir = \"%s\"\nmainlog = \"%s/im-mail.log_current\"\n"
             "paniclog = \"%s/im-imta\"\nmax_field = %d\nrollover_time = none\n",
             d, d, d, MAX_FIELD);
    CHECK_EQ_INT(lg[L_IM]->shared.log_init(lg[L_IM], cfg), 0);

    for (t = 0; t < THREADS; t++)
        CHECK_EQ_INT(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t), 0);
    for (t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    for (l = 0; l < NLOGGERS; l++) CHECK_EQ_INT(lg[l]->log_close(lg[l]), 0);
    CHECK_EQ_INT(reopen_failures, 0);

    for (t = 0; t < THREADS; t++)
        for (k = 0; k < NKINDS; k++) total[k] += counts[t][k], all += counts[t][k];
    printf("%ld events per logger (R %ld, D %ld, T %ld, P %ld, J %ld), %d rotations\n", all,
           total[K_R], total[K_D], total[K_T], total[K_P], total[K_J], rotations);

    for (l = 0; l < NLOGGERS; l++) {
        s = get_stats(lg[l]);
        CHECK_EQ_INT(s.accepted, all);
        CHECK_EQ_INT(s.written, all);
        CHECK_EQ_INT(s.dropped, 0);
        CHECK_EQ_INT(s.write_errors, 0);
        CHECK_EQ_INT(s.panics, 0);
        CHECK(s.reopens >= (uint64_t)(per_thread / reopen_every));
    }

    /* ec_logger: mainlog and rejectlog, every event exactly once, every field intact. */
    c = new_checker();
    CHECK(c.seen && c.tmp && c.want && c.e);
    if (c.seen && c.tmp && c.want && c.e) {
        CHECK(each_line(0, &c, check_ec_main_line));
        CHECK(each_line(1, &c, check_ec_reject_line));
        missing = 0;
        for (t = 0; t < THREADS * per_thread; t++) missing += !c.seen[t];
        CHECK_EQ_INT(c.lines, all);
        CHECK_EQ_INT(c.bad, 0);
        CHECK_EQ_INT(c.dup, 0);
        CHECK_EQ_INT(missing, 0);
        for (k = 0; k < NKINDS; k++) CHECK_EQ_INT(c.per_kind[k], total[k]);
    }
    free_checker(&c);

    /* postfix_logger: 3 lines per reception, 2 per delivery or bounce, 1 per deferral or
     * rejection; every status=, reject: and removed line where pflogsumm expects it. */
    c = new_checker();
    CHECK(each_line(2, &c, check_pf_line));
    CHECK_EQ_INT(c.bad, 0);
    CHECK_EQ_INT(c.lines, 3 * total[K_R] + 2 * total[K_D] + total[K_T] + 2 * total[K_P] + total[K_J]);
    CHECK_EQ_INT(pf_status, total[K_D] + total[K_T] + total[K_P]);
    CHECK_EQ_INT(pf_reject, total[K_J]);
    CHECK_EQ_INT(pf_removed, total[K_D] + total[K_P]);
    free_checker(&c);

    /* imta_logger: the Rust side parses it; leave it the counts and the rotations. */
    f = fopen(test_path("stress-expected"), "w");
    CHECK(f != NULL);
    if (f) {
        fprintf(f, "%ld %ld %ld %ld %ld %d\n", total[K_R], total[K_D], total[K_T], total[K_P],
                total[K_J], rotations);
        fclose(f);
    }
    for (l = 0; l < NLOGGERS; l++) mtalog_free(lg[l]);
    return check_summary();
}
