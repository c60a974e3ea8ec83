/* Small test helpers for the C test programs: counting checks, file helpers, va_list
 * callers for log_error / log_rejection, scaling and scratch paths. Header-only. */
#ifndef MTALOG_CHECK_H
#define MTALOG_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mtalog.h"

static int check_passed_;
static int check_failed_;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            check_passed_++;                                                         \
        } else {                                                                     \
            check_failed_++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                           \
    do {                                                                             \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);              \
        if (check_a_ == check_b_) {                                                  \
            check_passed_++;                                                         \
        } else {                                                                     \
            check_failed_++;                                                         \
            fprintf(stderr, "%s:%d: CHECK_EQ_INT failed: %s == %s (%lld != %lld)\n",  \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);                 \
        }                                                                            \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                           \
    do {                                                                             \
        const char *check_a_ = (a), *check_b_ = (b);                                 \
        if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {               \
            check_passed_++;                                                         \
        } else {                                                                     \
            check_failed_++;                                                         \
            fprintf(stderr,                                                          \
                    "%s:%d: CHECK_EQ_STR failed: %s == %s\n  got:      \"%s\"\n"     \
                    "  expected: \"%s\"\n",                                          \
                    __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",      \
                    check_b_ ? check_b_ : "(null)");                                 \
        }                                                                            \
    } while (0)

/* Substring check that prints both texts on failure. */
#define CHECK_CONTAINS(hay, needle)                                                  \
    do {                                                                             \
        const char *check_h_ = (hay), *check_n_ = (needle);                          \
        if (check_h_ && check_n_ && strstr(check_h_, check_n_)) {                    \
            check_passed_++;                                                         \
        } else {                                                                     \
            check_failed_++;                                                         \
            fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: \"%s\" in \"%.2000s\"\n",  \
                    __FILE__, __LINE__, check_n_ ? check_n_ : "(null)",              \
                    check_h_ ? check_h_ : "(null)");                                 \
        }                                                                            \
    } while (0)

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed_, check_failed_);
    fflush(stdout);
    return check_failed_ == 0 && check_passed_ > 0 ? 0 : 1;
}

/* Reads a whole file (NUL-terminated, malloc'd; *len_out = its size). NULL if missing. */
static inline char *read_file(const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t cap = 4096, len = 0, n;
    if (!f) {
        if (len_out) *len_out = 0;
        return NULL;
    }
    buf = malloc(cap + 1);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[len] = 0;
    if (len_out) *len_out = len;
    return buf;
}

/* Number of '\n' in a file (0 if missing). */
static inline long count_lines(const char *path) {
    size_t len, i;
    long n = 0;
    char *s = read_file(path, &len);
    if (!s) return 0;
    for (i = 0; i < len; i++)
        if (s[i] == '\n') n++;
    free(s);
    return n;
}

/* Number of lines of a file that contain `needle`. */
static inline long count_matching(const char *path, const char *needle) {
    long n = 0;
    char *s = read_file(path, NULL), *line, *save = NULL;
    if (!s) return 0;
    for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, needle)) n++;
    free(s);
    return n;
}

/* Calls li->log_error with a va_list. */
static inline void call_log_error(logging_infrastructure *li, struct timeval *now,
                                  const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    li->log_error(li, now, fmt, ap);
    va_end(ap);
}

/* Calls li->log_rejection with a va_list. */
static inline void call_log_rejection(logging_infrastructure *li, struct timeval *now,
                                      accept_construct *ac, validate_context *ctx, int phase,
                                      const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    li->log_rejection(li, now, ac, ctx, phase, fmt, ap);
    va_end(ap);
}

/* Calls vt->log_error with `self` as the first argument (self may be NULL). */
static inline void call_log_error_as(logging_infrastructure *vt, logging_infrastructure *self,
                                     struct timeval *now, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vt->log_error(self, now, fmt, ap);
    va_end(ap);
}

/* Calls vt->log_rejection with `self` as the first argument (self may be NULL). */
static inline void call_log_rejection_as(logging_infrastructure *vt,
                                         logging_infrastructure *self, struct timeval *now,
                                         accept_construct *ac, validate_context *ctx,
                                         int phase, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vt->log_rejection(self, now, ac, ctx, phase, fmt, ap);
    va_end(ap);
}

/* n scaled by MTALOG_TEST_SCALE (default 1; at least 1). */
static inline long scale(long n) {
    const char *s = getenv("MTALOG_TEST_SCALE");
    double f = s ? atof(s) : 1.0;
    long r;
    if (f <= 0) f = 1.0;
    r = (long)(n * f);
    return r < 1 ? 1 : r;
}

/* The scratch directory (MTALOG_TEST_DIR, default "."). */
static inline const char *test_dir(void) {
    const char *d = getenv("MTALOG_TEST_DIR");
    return d && *d ? d : ".";
}

/* Joins the scratch directory and `name` into a static rotating buffer. */
static inline const char *test_path(const char *name) {
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", test_dir(), name);
    return b;
}

/* Counters of a logger (zeroed on failure). */
static inline struct mtalog_stats get_stats(const logging_infrastructure *li) {
    struct mtalog_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    if (mtalog_stats(li, &s) != 0) {
        memset(&s, 0, sizeof s);
    }
    return s;
}

/* A config body for an ec_logger with its three main files in the scratch dir. */
static inline const char *ec_config(const char *extra) {
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "mainlog = \"%s/mainlog\"\nrejectlog = \"%s/rejectlog\"\npaniclog = \"%s/paniclog\"\n"
             "heartbeat = 0\n%s",
             test_dir(), test_dir(), test_dir(), extra ? extra : "");
    return buf;
}

#endif
