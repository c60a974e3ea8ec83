//! Thread CPU nanoseconds per `log_delivery` call through the C ABI, in bursts of 100 calls
//! with 200 us pauses (no back-pressure): the median and the best of 2,000 bursts.
//! `hook_cost DIR [KIND]` (`ec_logger`, the default, or `json_logger`).

use std::time::Duration;

use alloc_check::{clean, config, cs, deliver, host, thread_cpu_ns};
use mtalog::ffi::{mtalog_free, mtalog_new};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench/out".into());
    let kind_name = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "ec_logger".into());
    std::fs::create_dir_all(&dir).expect("out dir");
    let mut hst = host();
    let kind = cs(&kind_name);
    let name = cs("cost");
    let cfg = config(&kind_name, &dir, "");
    let mut per_burst = Vec::new();
    // SAFETY: valid strings and structs that outlive every call; one thread.
    unsafe {
        let li = mtalog_new(kind.as_ptr(), name.as_ptr());
        assert_eq!(((*li).shared.log_init.unwrap())(li, cfg.as_ptr()), 0);
        for b in 0..2_500u64 {
            let t0 = thread_cpu_ns();
            for k in 0..100u64 {
                let i = b * 100 + k;
                deliver(li, &mut hst, i);
            }
            if b >= 500 {
                per_burst.push((thread_cpu_ns() - t0) as f64 / 100.0);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        assert_eq!(((*li).log_close.unwrap())(li), 0);
        mtalog_free(li);
    }
    per_burst.sort_by(|a, b| a.total_cmp(b));
    println!(
        "log_delivery ({kind_name}): {:.1} ns/call median, {:.1} best (thread CPU time, bursts of 100)",
        per_burst[per_burst.len() / 2],
        per_burst[0]
    );
    clean(&dir);
}
