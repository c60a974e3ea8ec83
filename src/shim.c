/*
 * mtalog: the va_list shim.
 *
 * Stable Rust cannot receive a va_list, so the vtable's log_error and log_rejection point
 * here. The text is formatted with vsnprintf on the calling thread (a va_list cannot
 * outlive the call) into a stack buffer, or into a heap buffer for long texts, and handed to
 * the Rust side as bytes plus a length. Texts longer than MTALOG_TEXT_MAX bytes are cut and
 * flagged, and the Rust side appends an explicit "[truncated]" marker.
 *
 * Every symbol here is hidden: the library exports only what include/mtalog.h declares.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#define MTALOG_TEXT_MAX 65536
#define MTALOG_STACK_TEXT 2048
#define HIDDEN __attribute__((visibility("hidden")))

typedef void (*mtalog_error_sink)(void *self, struct timeval *now, const char *text, size_t len, int flags);
typedef void (*mtalog_reject_sink)(void *self, struct timeval *now, void *ac, void *ctx, int phase,
                                   const char *text, size_t len, int flags);

/* flags passed to the sinks */
#define SHIM_TRUNCATED 1
#define SHIM_NULL_FORMAT 2
#define SHIM_FORMAT_FAILED 4

static mtalog_error_sink error_sink;
static mtalog_reject_sink reject_sink;

HIDDEN void mtalog_shim_install(mtalog_error_sink e, mtalog_reject_sink r) {
    error_sink = e;
    reject_sink = r;
}

/* Unformattable (e.g. an invalid conversion): the format string itself is logged. */
static const char *unformatted(const char *fmt, size_t *len, int *flags) {
    size_t i = 0;
    while (i < MTALOG_TEXT_MAX && fmt[i] != '\0') i++;
    *len = i;
    *flags |= SHIM_FORMAT_FAILED;
    if (i == MTALOG_TEXT_MAX && fmt[i] != '\0') *flags |= SHIM_TRUNCATED;
    return fmt;
}

/* Formats fmt/ap into stack (or *heap, which the caller frees). */
static const char *shim_format(char *stack, const char *fmt, va_list ap, char **heap, size_t *len, int *flags) {
    va_list copy;
    int n, n2;
    size_t want;
    char *h;

    *heap = NULL;
    *len = 0;
    if (fmt == NULL) {
        *flags |= SHIM_NULL_FORMAT;
        return "";
    }
    va_copy(copy, ap);
    n = vsnprintf(stack, MTALOG_STACK_TEXT, fmt, copy);
    va_end(copy);
    if (n < 0) return unformatted(fmt, len, flags);
    if ((size_t)n < MTALOG_STACK_TEXT) {
        *len = (size_t)n;
        return stack;
    }
    want = (size_t)n > MTALOG_TEXT_MAX ? MTALOG_TEXT_MAX : (size_t)n;
    h = malloc(want + 1);
    if (h == NULL) {
        *len = MTALOG_STACK_TEXT - 1;
        *flags |= SHIM_TRUNCATED;
        return stack;
    }
    n2 = vsnprintf(h, want + 1, fmt, ap);
    *heap = h;
    /* The second pass failed (out of memory inside the C library): what it wrote cannot be
     * trusted. */
    if (n2 < 0) return unformatted(fmt, len, flags);
    /* The second pass may come out shorter than the first (%m after errno changed, a
     * string another thread shortened): never log bytes it did not write. */
    *len = (size_t)n2 < want ? (size_t)n2 : want;
    if ((size_t)n > want || (size_t)n2 > want) *flags |= SHIM_TRUNCATED;
    return h;
}

HIDDEN void mtalog_shim_log_error(void *self, struct timeval *now, const char *fmt, va_list ap) {
    char stack[MTALOG_STACK_TEXT];
    char *heap;
    size_t len;
    int flags = 0;
    const char *text = shim_format(stack, fmt, ap, &heap, &len, &flags);
    if (error_sink != NULL) error_sink(self, now, text, len, flags);
    free(heap);
}

HIDDEN void mtalog_shim_log_rejection(void *self, struct timeval *now, void *ac, void *ctx, int phase,
                                      const char *fmt, va_list ap) {
    char stack[MTALOG_STACK_TEXT];
    char *heap;
    size_t len;
    int flags = 0;
    const char *text = shim_format(stack, fmt, ap, &heap, &len, &flags);
    if (reject_sink != NULL) reject_sink(self, now, ac, ctx, phase, text, len, flags);
    free(heap);
}
