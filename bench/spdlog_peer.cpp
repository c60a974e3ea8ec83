// spdlog peer: an async logger (queue 65,536, blocking overflow, one worker thread) with a
// basic file sink and the pattern "%v", fed the same ec_logger D lines as mtalog.
#include <memory>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include "peers.h"

static std::shared_ptr<spdlog::logger> lg;

extern "C" int spdlog_peer_open(const char *path) {
    try {
        spdlog::init_thread_pool(65536, 1);
        auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
        lg = std::make_shared<spdlog::async_logger>("bench", sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::block);
        lg->set_pattern("%v");
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" void spdlog_peer_delivery(const struct peer_line *l) {
    lg->info("{}@{}@{}@{}@D@{}@{}@{}@{}@{}@{}.{:02}@{}", (long long)l->sec, l->id, l->batch,
             l->conn, l->domain, (unsigned long long)l->size, l->group, l->binding, l->retries,
             (unsigned long long)(l->centis / 100), (unsigned)(l->centis % 100), l->mx_ip);
}

extern "C" void spdlog_peer_close(void) {
    // Joins the worker after it drained the queue, then closes the file.
    spdlog::shutdown();
    lg.reset();
}
