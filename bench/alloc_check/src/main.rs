//! Counts the heap allocations made on the calling threads of mtalog's C ABI in the steady
//! state: `alloc_check DIR [CALLS]`.
//!
//! A counting global allocator counts every allocation made while a thread has counting
//! switched on. Each case warms up (the event pool fills), then counts over CALLS calls of
//! `log_delivery` through the vtable, as a C host calls it: full load (the producer outruns
//! the writer, in block and drop mode) and bursts of 100 calls with pauses. Prints one line
//! per case and exits 1 when any counted allocation happened.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mtalog::ffi::{
    abstract_message, domain_record, logging_infrastructure, mtalog_domain, mtalog_free,
    mtalog_message, mtalog_new,
};

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

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

struct Host {
    strings: Vec<CString>,
    msg: mtalog_message,
    dom: mtalog_domain,
}

fn host() -> Box<Host> {
    let strings: Vec<CString> = [
        "60/00-31337-EF0F3556",
        "1A/20-31337-821F3556",
        "newsletter@sender.example",
        "user0001@dest-example-provider.example",
        "outbound-pool-east",
        "vip-outbound-east-17",
        "mail-in.dest-example-provider.example",
        "198.51.100.250",
    ]
    .iter()
    .map(|s| cs(s))
    .collect();
    let p = |i: usize| strings[i].as_ptr();
    // SAFETY: all-zero is valid for these plain C structs (NULL pointers, zero numbers).
    let mut msg: mtalog_message = unsafe { std::mem::zeroed() };
    msg.id = p(0);
    msg.batch_id = p(0);
    msg.conn_id = p(1);
    msg.mail_from = p(2);
    msg.rcpt_to = p(3);
    msg.binding_group = p(4);
    msg.binding = p(5);
    msg.size = 48213;
    msg.retries = 2;
    msg.received.tv_sec = 1_795_432_137 - 144;
    // SAFETY: as above.
    let mut dom: mtalog_domain = unsafe { std::mem::zeroed() };
    dom.name = p(6);
    dom.mx_ip = p(7);
    Box::new(Host { strings, msg, dom })
}

/// Runs one case; returns the allocations counted on the producer thread.
fn case(dir: &str, extra: &str, calls: u64, burst: bool) -> u64 {
    let _ = std::fs::remove_file(format!("{dir}/main.log"));
    let kind = cs("ec_logger");
    let name = cs("alloc");
    let cfg = cs(&format!(
        "mainlog = \"{dir}/main.log\"\nrejectlog = \"{dir}/reject.log\"\npaniclog = \"{dir}/panic.log\"\nheartbeat = 0\nfsync = none\n{extra}"
    ));
    // SAFETY: valid NUL-terminated strings; the logger is used on this thread and freed
    // at the end; the host structs outlive every call.
    unsafe {
        let li: *mut logging_infrastructure = mtalog_new(kind.as_ptr(), name.as_ptr());
        assert!(!li.is_null());
        let rc = ((*li).shared.log_init.unwrap())(li, cfg.as_ptr());
        assert_eq!(rc, 0, "log_init");
        let mut h = host();
        let deliver = (*li).log_delivery.unwrap();
        let note = b"250 2.0.0 OK queued as 4821";
        let mut call = |i: u64, h: &mut Host| {
            let mut tv = libc::timeval {
                tv_sec: 1_795_432_137 + (i >> 12) as libc::time_t,
                tv_usec: (i % 1_000_000) as libc::suseconds_t,
            };
            deliver(
                li,
                (&mut h.msg as *mut mtalog_message).cast::<abstract_message>(),
                (&mut h.dom as *mut mtalog_domain).cast::<domain_record>(),
                &mut tv,
                note.as_ptr().cast(),
                note.len() as i32,
            );
        };
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
        // Warm-up: the pool and the queue reach their steady state.
        let warm = if burst { calls / 4 } else { 300_000 };
        run(0, warm, &mut h, &mut call);
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
    for (label, extra, burst) in [
        ("full load, overflow = block", "", false),
        ("full load, overflow = drop", "overflow = drop\n", false),
        ("bursts of 100 with pauses", "", true),
    ] {
        let n = if burst { calls / 10 } else { calls };
        let a = case(&dir, extra, n, burst);
        println!("producer-side allocations, {label}: {a} in {n} log_delivery calls after warm-up");
        bad |= a != 0;
    }
    for f in ["main.log", "reject.log", "panic.log"] {
        let _ = std::fs::remove_file(format!("{dir}/{f}"));
    }
    std::process::exit(i32::from(bad));
}
