//! What a slot of `queue_size` costs in memory from `log_init` on (docs/queue-memory.md):
//! the figure is measured here, in a process of its own, from the resident set size.

use mtalog::logger::Logger;

/// Resident set size of this process in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Resident bytes a running logger with `queue_size` slots takes, beyond one with 16.
fn cost(d: &std::path::Path, overflow: &str, queue_size: u64) -> u64 {
    let cfg = |name: &str, q: u64| {
        format!(
            "mainlog = \"{0}/{name}.main\"\nrejectlog = \"{0}/{name}.reject\"\npaniclog = \"{0}/{name}.panic\"\nheartbeat = 0\noverflow = {overflow}\nqueue_size = {q}\n",
            d.display()
        )
    };
    let before = rss();
    let small = Logger::open("ec_logger", "small", &cfg("small", 16)).unwrap();
    let base = rss() - before;
    let before = rss();
    let big = Logger::open("ec_logger", "big", &cfg("big", queue_size)).unwrap();
    let grown = rss() - before;
    small.close().unwrap();
    big.close().unwrap();
    grown.saturating_sub(base)
}

#[test]
fn each_queue_slot_costs_what_the_docs_say() {
    let d = std::env::temp_dir().join(format!("mtalog-queue-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let slots = 1u64 << 20;
    for overflow in ["block", "drop"] {
        let bytes = cost(&d, overflow, slots);
        let per_slot = bytes as f64 / (slots - 16) as f64;
        println!("overflow = {overflow}: {per_slot:.1} bytes per queue slot, idle");
        // The documented 64 bytes: 32 for the slot of the event channel (a stamp and a
        // message) and 16 for each of the event pool's two channels, all made at
        // log_init. Outside this range the document is out of date.
        assert!(
            (56.0..=72.0).contains(&per_slot),
            "{per_slot} bytes per slot"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}
