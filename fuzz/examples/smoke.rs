//! A deterministic driver for the fuzz checks that needs no fuzzing toolchain: feeds each
//! check pseudo-random inputs built from hostile bytes and config-like tokens.
//!
//! `cargo run --release --no-default-features --example smoke [ITERATIONS] [SEED]`

use std::panic::{AssertUnwindSafe, catch_unwind};

/// A check's name, function, and whether its input is configuration text.
type Check = (&'static str, fn(&[u8]), bool);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const HOSTILE: &[u8] = b"\r\n\t\x00\x01\x1b\x7f@\\\" ;<>=[]:(),|\x80\xff\xc3\xe2rfc822;<>";
const TOKENS: &[&str] = &[
    "ec_logger",
    "postfix_logger",
    "imta_logger",
    "json_logger",
    "\"x\"",
    "{",
    "}",
    "=",
    "\n",
    "#",
    "\"",
    "\\",
    "mainlog",
    "queue_size",
    "overflow",
    "block",
    "drop",
    "block_timeout",
    "250ms",
    "5m",
    "1d",
    "10M",
    "1G",
    "0640",
    "0999",
    "true",
    "off",
    "log_format",
    "3",
    "log_connection",
    "99",
    "max_field",
    "heartbeat",
    "0",
    "18446744073709551616",
    "-1",
    "/tmp/x",
    "jlog://a",
    "log_owner",
    "timestamp_style",
    "rfc3339",
    " ",
    ";",
];

fn input(r: &mut Rng, config: bool) -> Vec<u8> {
    let cap = if r.below(20) == 0 { 4000 } else { 200 };
    let len = r.below(cap) as usize;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        match r.below(4) {
            0 if config => {
                v.extend_from_slice(TOKENS[r.below(TOKENS.len() as u64) as usize].as_bytes())
            }
            1 => v.push(HOSTILE[r.below(HOSTILE.len() as u64) as usize]),
            2 => v.push(b"abcdefghijklmnopqrstuvwxyz0123456789.-"[r.below(38) as usize]),
            _ => v.push(r.next() as u8),
        }
    }
    v
}

fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: u64 = args
        .next()
        .map_or(20_000, |a| a.parse().expect("ITERATIONS"));
    let seed: u64 = args.next().map_or(1, |a| a.parse().expect("SEED"));
    let checks: [Check; 5] = [
        ("config", mtalog_fuzz::config, true),
        ("format_ec", mtalog_fuzz::ec, false),
        ("format_postfix", mtalog_fuzz::postfix, false),
        ("format_imta", mtalog_fuzz::imta, false),
        ("format_json", mtalog_fuzz::json, false),
    ];
    let mut failed = 0;
    for (name, check, config) in checks {
        let mut r = Rng(seed);
        for i in 0..iterations {
            let data = input(&mut r, config);
            if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
                eprintln!("{name}: iteration {i} failed on input {data:02x?}");
                failed += 1;
                break;
            }
        }
        println!("{name}: {iterations} inputs");
    }
    println!("{} passed, {failed} failed", checks.len() - failed);
    std::process::exit(i32::from(failed > 0));
}
