/* What the C and C++ peers of the benchmark share: the fields of one ec_logger D line. */
#ifndef MTALOG_BENCH_PEERS_H
#define MTALOG_BENCH_PEERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct peer_line {
    int64_t sec;
    const char *id, *batch, *conn, *domain, *group, *binding, *mx_ip;
    uint64_t size;
    unsigned retries;
    uint64_t centis; /* queue time in hundredths of a second, rounded half up */
};

#ifdef HAVE_SPDLOG
int spdlog_peer_open(const char *path);
void spdlog_peer_delivery(const struct peer_line *l);
void spdlog_peer_close(void);
#endif

#ifdef __cplusplus
}
#endif

#endif
