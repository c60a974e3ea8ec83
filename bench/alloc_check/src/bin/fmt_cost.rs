//! Nanoseconds per ec_logger and json_logger D line of the formatter alone (thread CPU
//! time, best of 40 rounds of 200,000 lines into a buffer cleared every 64 KiB): the
//! writer's share of the work without I/O.

use alloc_check::thread_cpu_ns;
use mtalog::event::{Event, Field, Kind, Timestamp, flags};
use mtalog::format::ec::Ec;
use mtalog::format::json::Json;
use mtalog::format::{Formatter, Level, Out, Target};

fn main() {
    let mut evs: Vec<Event> = (0..1024u32)
        .map(|i| {
            let id = format!(
                "{:02X}/{:02X}-31337-{:08X}",
                (i * 7) & 0xff,
                i & 0xff,
                0xEF0F_3556u32 + i
            );
            let conn = format!("1A/20-31337-{:08X}", 0x821F_3556u32 + i / 4);
            let mut e = Event::new(Kind::Delivery);
            e.push(Field::MsgId, id.as_bytes(), 4096);
            e.push(Field::BatchId, id.as_bytes(), 4096);
            e.push(Field::ConnId, conn.as_bytes(), 4096);
            e.push(Field::MailFrom, b"newsletter@sender.example", 4096);
            e.push(
                Field::RcptTo,
                b"user0001@dest-example-provider.example",
                4096,
            );
            e.push(Field::BindingGroup, b"outbound-pool-east", 4096);
            e.push(Field::Binding, b"vip-outbound-east-17", 4096);
            e.push(
                Field::DomainName,
                b"mail-in.dest-example-provider.example",
                4096,
            );
            e.push(Field::MxHost, b"mx1.dest-example-provider.example", 4096);
            e.push(Field::MxIp, b"198.51.100.250", 4096);
            e.push(Field::Note, b"250 2.0.0 OK queued as 4821", 4096);
            e.size = 48213;
            e.retries = 2;
            e.received = Timestamp::new(1_795_432_137 - 144, 940_000);
            e.flags |= flags::HAS_RECEIVED;
            e
        })
        .collect();
    for (name, mut f) in [
        ("ec", Box::new(Ec::default()) as Box<dyn Formatter>),
        (
            "json",
            Box::new(Json::new(
                "bench",
                "mx1.bench.example",
                4242,
                0x0123_4567_89ab_cdef,
                Target::Main,
                Level::Error,
            )),
        ),
    ] {
        let mut out = Out::default();
        let mut best = f64::MAX;
        let mut bytes = 0usize;
        for _ in 0..40 {
            let t0 = thread_cpu_ns();
            for i in 0..200_000u64 {
                let e = &mut evs[i as usize & 1023];
                e.time = Timestamp::new(
                    1_795_432_137 + (i >> 12) as i64,
                    (i * 977 % 1_000_000) as i64,
                );
                f.format(e, &mut out);
                let b = &mut out.bufs[0];
                if b.len() >= 64 * 1024 {
                    bytes = b.len();
                    b.clear();
                }
            }
            best = best.min((thread_cpu_ns() - t0) as f64 / 2e5);
        }
        println!(
            "{name} D line format: {best:.1} ns/line (thread CPU time, best of 40 rounds of 200,000; {bytes} bytes in the last chunk)"
        );
    }
}
