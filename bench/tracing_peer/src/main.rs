//! The benchmark's tracing-appender peer: `tracing_peer N THREADS load|burst PATH`.
//!
//! The same ec_logger D lines as the C driver writes through mtalog, logged with `info!`
//! through tracing-subscriber's fmt layer (message only: no time, level or target) into
//! tracing-appender's non_blocking writer (lossless, 65,536 buffered lines) over a 64 KiB
//! `BufWriter<File>`. Prints `seconds p50 p99 p99.9 max` (nanoseconds) on stdout.

use std::fs::OpenOptions;
use std::io::BufWriter;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use tracing::info;

const NJOBS: usize = 1024;
const BASE_SEC: i64 = 1_795_432_137;
const SAMPLE_EVERY: u64 = 16;
const BURST: u64 = 100;
const BURST_PAUSE: Duration = Duration::from_micros(200);

struct Job {
    id: String,
    conn: String,
}

fn jobs() -> Vec<Job> {
    (0..NJOBS as u32)
        .map(|i| Job {
            id: format!(
                "{:02X}/{:02X}-31337-{:08X}",
                (i * 7) & 0xff,
                i & 0xff,
                0xEF0F_3556u32.wrapping_add(i)
            ),
            conn: format!("1A/20-31337-{:08X}", 0x821F_3556u32 + i / 4),
        })
        .collect()
}

#[inline]
fn emit(jobs: &[Job], i: u64) {
    let j = &jobs[i as usize & (NJOBS - 1)];
    let sec = BASE_SEC + (i >> 12) as i64;
    let usec = (i * 977 % 1_000_000) as i64;
    let us = (sec - (BASE_SEC - 144)) * 1_000_000 + (usec - 940_000);
    let u = us.max(0) as u64;
    let centis = u / 10_000 + u64::from(u % 10_000 >= 5_000);
    info!(
        "{}@{}@{}@{}@D@{}@{}@{}@{}@{}@{}.{:02}@{}",
        sec,
        j.id,
        j.id,
        j.conn,
        "mail-in.dest-example-provider.example",
        48213u64,
        "outbound-pool-east",
        "vip-outbound-east-17",
        2u32,
        centis / 100,
        centis % 100,
        "198.51.100.250"
    );
}

fn produce(jobs: &[Job], from: u64, to: u64, burst: bool) -> Vec<u32> {
    let mut samples =
        Vec::with_capacity(((to - from) / if burst { 1 } else { SAMPLE_EVERY }) as usize + 2);
    let mut i = from;
    while i < to {
        if burst {
            let end = (i + BURST).min(to);
            while i < end {
                let t0 = Instant::now();
                emit(jobs, i);
                samples.push(t0.elapsed().as_nanos().min(u32::MAX as u128) as u32);
                i += 1;
            }
            std::thread::sleep(BURST_PAUSE);
        } else {
            if i.is_multiple_of(SAMPLE_EVERY) {
                let t0 = Instant::now();
                emit(jobs, i);
                samples.push(t0.elapsed().as_nanos().min(u32::MAX as u128) as u32);
            } else {
                emit(jobs, i);
            }
            i += 1;
        }
    }
    samples
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: tracing_peer N THREADS load|burst PATH");
        std::process::exit(2);
    }
    let n: u64 = args[1].parse().expect("N");
    let threads: u64 = args[2].parse().expect("THREADS");
    let burst = args[3] == "burst";
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args[4])
        .expect("open");
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(65_536)
        .finish(BufWriter::with_capacity(64 * 1024, file));
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .without_time()
        .with_level(false)
        .with_target(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("subscriber");

    let jobs = Arc::new(jobs());
    let start = Arc::new(Barrier::new(threads as usize + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let jobs = Arc::clone(&jobs);
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                produce(&jobs, n * t / threads, n * (t + 1) / threads, burst)
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    let mut all: Vec<u32> = Vec::new();
    for h in handles {
        all.extend(h.join().expect("producer"));
    }
    // Dropping the guard flushes every queued line and joins the worker.
    drop(guard);
    let secs = t0.elapsed().as_secs_f64();
    all.sort_unstable();
    let at = |q: usize| all.get(all.len() * q / 1000).copied().unwrap_or(0);
    println!(
        "{secs:.6} {} {} {} {}",
        at(500),
        at(990),
        at(999),
        all.last().copied().unwrap_or(0)
    );
}
