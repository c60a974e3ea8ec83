/* 20 rounds of dlopen .. dlclose leave no thread behind. */
#include <dlfcn.h>
#include "check.h"
#include "common.h"

static long thread_count(void) {
    char *s = read_file("/proc/self/status", NULL), *p;
    long n = -1;
    if (!s) return -1;
    p = strstr(s, "\nThreads:");
    if (p) n = strtol(p + 9, NULL, 10);
    free(s);
    return n;
}

int main(void) {
    const char *lib = getenv("MTALOG_LIB");
    long start = thread_count(), round;
    struct timeval tv = {1700000042, 0};
    CHECK(lib != NULL && start > 0);
    if (!lib) return check_summary();
    for (round = 0; round < 20; round++) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        logging_infrastructure *(*new_fn)(const char *, const char *);
        void (*free_fn)(logging_infrastructure *);
        logging_infrastructure *li;
        mtalog_message m = ref_message();
        mtalog_domain d = ref_domain();
        CHECK(h != NULL);
        if (!h) break;
        *(void **)&new_fn = dlsym(h, "mtalog_new");
        *(void **)&free_fn = dlsym(h, "mtalog_free");
        li = new_fn("ec_logger", "dl");
        CHECK(li != NULL);
        if (li) {
            CHECK_EQ_INT(li->shared.log_init(li, ec_config(NULL)), 0);
            li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
            call_log_error(li, &tv, "round %ld", round);
            CHECK_EQ_INT(li->log_close(li), 0);
            free_fn(li);
        }
        dlclose(h);
    }
    CHECK_EQ_INT(thread_count(), start);
    CHECK_EQ_INT(count_lines(test_path("mainlog")), 20);
    CHECK_EQ_INT(count_lines(test_path("paniclog")), 20);
    return check_summary();
}
