//! Counts the heap allocations made on the calling threads of mtalog's C ABI in the steady
//! state: `alloc_check DIR [CALLS]`.
//!
//! A counting global allocator counts every allocation made while a thread has counting
//! switched on. Each case warms up (under full load for three million calls, or until a
//! million calls after the queue was full: by then the writer has made a box for the largest
//! backlog there can be), then counts
//! over CALLS calls of `log_delivery` through the vtable, as a C host calls it: full load
//! (the producer outruns the writer, in block and drop mode) and bursts of 100 calls with
//! pauses. Prints one line per case and exits 1 when any counted allocation happened.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloc_check::{Host, clean, config, cs, deliver, host};
use mtalog::ffi::{MtalogStatsC, logging_infrastructure, mtalog_free, mtalog_new, mtalog_stats};

/// The queue size of the default configuration.
const QUEUE: u64 = 65_536;

struct Counting;

static COUNTED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    ON.try_with(|c| c.get()).unwrap_or(false)
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if counting() {
            COUNTED.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if counting() {
            COUNTED.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Runs one case of a logger of `kind`; returns the allocations counted on the producer
/// thread.
fn case(kind: &str, dir: &str, extra: &str, calls: u64, burst: bool) -> u64 {
    clean(dir);
    let cfg = config(kind, dir, extra);
    let kind = cs(kind);
    let name = cs("alloc");
    // SAFETY: valid NUL-terminated strings; the logger is used on this thread and freed
    // at the end; the host structs outlive every call.
    unsafe {
        let li: *mut logging_infrastructure = mtalog_new(kind.as_ptr(), name.as_ptr());
        assert!(!li.is_null());
        let rc = ((*li).shared.log_init.unwrap())(li, cfg.as_ptr());
        assert_eq!(rc, 0, "log_init");
        let mut h = host();
        let mut call = |i: u64, h: &mut Host| deliver(li, h, i);
        let run = |from: u64, to: u64, h: &mut Host, call: &mut dyn FnMut(u64, &mut Host)| {
            let mut i = from;
            while i < to {
                call(i, h);
                i += 1;
                if burst && i.is_multiple_of(100) {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        };
        // Warm-up: the pool and the queue reach their steady state. Under full load the
        // writer makes boxes for every slot of the queue while producers wait for boxes (block
        // mode) or the queue fills (drop mode); in bursts, a fixed stretch.
        let mut warm = 0;
        let mut full_at: Option<u64> = None;
        let mut st = MtalogStatsC {
            struct_size: std::mem::size_of::<MtalogStatsC>(),
            ..Default::default()
        };
        loop {
            run(warm, warm + 10_000, &mut h, &mut call);
            warm += 10_000;
            mtalog_stats(li, &mut st);
            if st.queue_depth + 16 >= QUEUE || st.dropped > 0 {
                full_at.get_or_insert(warm);
            }
            // Then a while longer: the boxes the writer holds (up to 8 taken ahead) and the
            // producer's own also need a place once.
            let settled = full_at.is_some_and(|at| warm >= at + 1_000_000);
            if (burst && warm >= 50_000) || (!burst && settled) || warm >= 3_000_000 {
                break;
            }
        }
        let before = COUNTED.load(Ordering::Relaxed);
        ON.with(|c| c.set(true));
        run(warm, warm + calls, &mut h, &mut call);
        ON.with(|c| c.set(false));
        let n = COUNTED.load(Ordering::Relaxed) - before;
        assert_eq!(((*li).log_close.unwrap())(li), 0, "log_close");
        mtalog_free(li);
        drop(h.strings);
        n
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map_or("bench/out", |s| s.as_str()).to_owned();
    let calls: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    std::fs::create_dir_all(&dir).expect("out dir");
    let mut bad = false;
    for (kind, label, extra, burst) in [
        ("ec_logger", "full load, overflow = block", "", false),
        (
            "ec_logger",
            "full load, overflow = drop",
            "overflow = drop\n",
            false,
        ),
        ("ec_logger", "bursts of 100 with pauses", "", true),
        ("json_logger", "full load, overflow = block", "", false),
        ("json_logger", "bursts of 100 with pauses", "", true),
    ] {
        let n = if burst { calls / 10 } else { calls };
        let a = case(kind, &dir, extra, n, burst);
        println!(
            "producer-side allocations, {kind}, {label}: {a} in {n} log_delivery calls after warm-up"
        );
        bad |= a != 0;
    }
    clean(&dir);
    std::process::exit(i32::from(bad));
}
