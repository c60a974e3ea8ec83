//! CPU nanoseconds the writer thread spends per event: `writer_cost DIR [N] [QUEUE] [KIND]`
//! queues N `log_delivery` calls (queue_size QUEUE, default 2^20, so that the producer
//! never waits) to a logger of KIND (`ec_logger`, the default, or `json_logger`), waits
//! until every line is written, and reads the writer thread's CPU time from /proc before
//! closing.

use std::time::Duration;

use alloc_check::{clean, config, cs, deliver, host};
use mtalog::ffi::{MtalogStatsC, mtalog_free, mtalog_new, mtalog_stats};

/// CPU time of the thread named `mtalog-writer`, from /proc/self/task/*/schedstat.
fn writer_cpu_ns() -> u64 {
    for t in std::fs::read_dir("/proc/self/task").expect("/proc") {
        let p = t.expect("task").path();
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        if comm.trim() == "mtalog-writer" {
            let s = std::fs::read_to_string(p.join("schedstat")).unwrap_or_default();
            return s
                .split_whitespace()
                .next()
                .and_then(|x| x.parse().ok())
                .unwrap_or(0);
        }
    }
    0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "bench/out".into());
    let n: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let queue: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1 << 20);
    let kind_name = args.next().unwrap_or_else(|| "ec_logger".into());
    std::fs::create_dir_all(&dir).expect("out dir");
    let mut h = host();
    let kind = cs(&kind_name);
    let name = cs("writer");
    let cfg = config(&kind_name, &dir, &format!("queue_size = {queue}\n"));
    // SAFETY: valid strings and structs that outlive every call; one producer thread.
    unsafe {
        let li = mtalog_new(kind.as_ptr(), name.as_ptr());
        assert_eq!(((*li).shared.log_init.unwrap())(li, cfg.as_ptr()), 0);
        std::thread::sleep(Duration::from_millis(50));
        let before = writer_cpu_ns();
        for i in 0..n {
            deliver(li, &mut h, i);
        }
        let mut st = MtalogStatsC {
            struct_size: std::mem::size_of::<MtalogStatsC>(),
            ..Default::default()
        };
        loop {
            mtalog_stats(li, &mut st);
            if st.written >= n {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let cpu = writer_cpu_ns() - before;
        assert_eq!(((*li).log_close.unwrap())(li), 0);
        mtalog_free(li);
        println!(
            "writer: {:.1} CPU ns per event ({n} {kind_name} D lines, queue_size {queue}, {:.2}M lines per writer CPU second)",
            cpu as f64 / n as f64,
            n as f64 / cpu as f64 * 1e3
        );
    }
    clean(&dir);
}
