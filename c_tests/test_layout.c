/* The C ABI layout: vtable member order and offsets, module header, stats struct. */
#include <stddef.h>
#include "check.h"

int main(void) {
    const size_t base = sizeof(shared_module_infrastructure);
    const size_t p = sizeof(void *);
    size_t offs[] = {
        offsetof(logging_infrastructure, shared),
        offsetof(logging_infrastructure, log_error),
        offsetof(logging_infrastructure, log_reception),
        offsetof(logging_infrastructure, log_attempt),
        offsetof(logging_infrastructure, log_transient_failure),
        offsetof(logging_infrastructure, log_permanent_failure),
        offsetof(logging_infrastructure, log_delivery),
        offsetof(logging_infrastructure, log_close),
        offsetof(logging_infrastructure, log_reopen),
        offsetof(logging_infrastructure, log_rejection),
    };
    size_t k;
    CHECK_EQ_INT(offs[0], 0);
    for (k = 1; k < sizeof offs / sizeof offs[0]; k++) {
        CHECK(offs[k] > offs[k - 1]);
        CHECK_EQ_INT(offs[k], base + (k - 1) * p);
    }
    CHECK_EQ_INT(sizeof(logging_infrastructure), base + 9 * p);

    CHECK_EQ_INT(offsetof(shared_module_infrastructure, module_api_version), 0);
    CHECK(offsetof(shared_module_infrastructure, module_name) >
          offsetof(shared_module_infrastructure, module_api_version));
    CHECK(offsetof(shared_module_infrastructure, module_description) >
          offsetof(shared_module_infrastructure, module_name));
    CHECK(offsetof(shared_module_infrastructure, log_init) >
          offsetof(shared_module_infrastructure, module_description));
    CHECK_EQ_INT(offsetof(shared_module_infrastructure, module_description),
                 offsetof(shared_module_infrastructure, module_name) + p);
    CHECK_EQ_INT(offsetof(shared_module_infrastructure, log_init),
                 offsetof(shared_module_infrastructure, module_description) + p);
    CHECK_EQ_INT(MTALOG_MODULE_API_VERSION, 1);
    CHECK_EQ_INT(sizeof(((shared_module_infrastructure *)0)->module_api_version), 4);

    if (sizeof(long) == 8 && sizeof(void *) == 8) {
        CHECK_EQ_INT(sizeof(struct mtalog_stats), 8 + 23 * 8);
        CHECK_EQ_INT(offsetof(struct mtalog_stats, struct_size), 0);
        CHECK_EQ_INT(offsetof(struct mtalog_stats, accepted), 8);
        CHECK_EQ_INT(offsetof(struct mtalog_stats, written), 16);
        CHECK_EQ_INT(offsetof(struct mtalog_stats, dropped), 24);
        CHECK_EQ_INT(offsetof(struct mtalog_stats, dropped_reception), 64);
        CHECK_EQ_INT(offsetof(struct mtalog_stats, input_errors), 8 + 16 * 8);
        CHECK_EQ_INT(offsetof(struct mtalog_stats, panics), 8 + 20 * 8);
        CHECK_EQ_INT(offsetof(struct mtalog_stats, invalid_utf8), 8 + 21 * 8);
        CHECK_EQ_INT(offsetof(struct mtalog_stats, resent), 8 + 22 * 8);
    }
    /* The library agrees with the header at run time: stats fills exactly the struct. */
    {
        logging_infrastructure *li = mtalog_new("ec_logger", "layout");
        CHECK(li != NULL);
        if (li) {
            CHECK_EQ_INT(li->shared.module_api_version, MTALOG_MODULE_API_VERSION);
            CHECK((void *)li == (void *)&li->shared);
            mtalog_free(li);
        }
    }
    CHECK(mtalog_version() != NULL && mtalog_version()[0] != 0);
    return check_summary();
}
