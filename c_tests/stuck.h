/* Helpers for the tests of a writer that cannot write (full disk, unread FIFO): clocks,
 * numbered deliveries, and the block_timeout check. Header-only; include after check.h
 * and common.h. */
#ifndef MTALOG_STUCK_H
#define MTALOG_STUCK_H

#include <time.h>

static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A delivery of message "<prefix><n>" (a D line of about 200 bytes); the line starts
 * "1700000042@<prefix><n>@". */
static inline void deliver_numbered(logging_infrastructure *li, const char *prefix, long n) {
    static const char pad[] = "a-rather-long-destination-domain-name-to-make-lines-bigger."
                              "example.with.more.labels.example.org";
    char id[64];
    mtalog_message m = ref_message();
    mtalog_domain d = ref_domain();
    struct timeval tv = {1700000042, 0};
    snprintf(id, sizeof id, "%s%ld", prefix, n);
    m.id = id;
    m.batch_id = NULL;
    d.name = pad;
    li->log_delivery(li, MSG(m), DOM(d), &tv, NULL, 0);
}

/* With overflow = block, block_timeout = 200ms and a writer that cannot write: logs until
 * a hook has to wait (the queue is full), then checks that one more hook returns within a
 * generous bound and that its event is counted dropped. *n counts the events logged;
 * returns the stats before that last hook. */
static inline struct mtalog_stats check_block_timeout(logging_infrastructure *li,
                                                     const char *prefix, long *n) {
    struct mtalog_stats before, s;
    double t0 = now_s(), took;
    int full = 0;
    /* A slow hook alone proves nothing under valgrind (it serialises threads): wait for
     * one that was slow with the queue (queue_size 16) full. */
    while (!full && now_s() - t0 < 60) {
        double a = now_s();
        deliver_numbered(li, prefix, (*n)++);
        took = now_s() - a;
        full = took >= 0.1 && get_stats(li).queue_depth >= 16;
    }
    CHECK(full);
    before = get_stats(li);
    t0 = now_s();
    deliver_numbered(li, prefix, (*n)++);
    took = now_s() - t0;
    s = get_stats(li);
    printf("a hook on a full queue returned after %.3f s (block_timeout 0.2 s)\n", took);
    CHECK(took < 2.0);
    CHECK_EQ_INT(s.dropped, before.dropped + 1);
    CHECK_EQ_INT(s.dropped_delivery, before.dropped_delivery + 1);
    CHECK_EQ_INT(s.accepted, before.accepted);
    CHECK(s.queue_depth <= 16);
    return before;
}

#endif
