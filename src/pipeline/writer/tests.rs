use super::*;
use crate::config::Options;
use crate::file::OpenPolicy;

/// Writes `partial` then panics on events of size 13; otherwise one whole line.
struct Flaky;

impl Formatter for Flaky {
    fn format(&mut self, ev: &Event, out: &mut Out) {
        if ev.kind == Kind::Error {
            out.buf(Target::Panic)
                .extend_from_slice(ev.get(Field::Note));
            out.buf(Target::Panic).push(b'\n');
            return;
        }
        out.buf(Target::Main).extend_from_slice(b"partial");
        assert!(ev.size != 13, "cannot format size 13");
        out.buf(Target::Main).extend_from_slice(b" line\n");
    }
}

#[test]
fn an_event_that_cannot_be_formatted_is_dropped_and_the_writer_goes_on() {
    let d = std::env::temp_dir().join(format!("mtalog-worker-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let settings = Arc::new(Settings::parse(&mut Options::new(&[])).unwrap());
    let policy = OpenPolicy::default();
    let files = vec![
        (
            Target::Main,
            SharedFile::open(&d.join("main"), 0o644, &policy).unwrap(),
        ),
        (
            Target::Panic,
            SharedFile::open(&d.join("panic"), 0o644, &policy).unwrap(),
        ),
    ];
    let shared = Arc::new(Shared::default());
    let (tx, rx) = crossbeam_channel::bounded(64);
    let w = Writer::new(
        rx,
        Arc::new(Pool::new(64, true, None)),
        Arc::clone(&shared),
        settings,
        Box::new(Flaky),
        files,
    );
    let t = std::thread::spawn(move || w.run());
    for size in [1, 13, 2, 13, 3] {
        let mut ev = Box::new(Event::new(Kind::Delivery));
        ev.size = size;
        tx.send(Msg::Event(ev)).unwrap();
    }
    let (ack, done) = crossbeam_channel::bounded(1);
    tx.send(Msg::Control(Control::Shutdown(ack))).unwrap();
    t.thread().unpark();
    done.recv().unwrap().unwrap();
    t.join().unwrap();
    let main = std::fs::read_to_string(d.join("main")).unwrap();
    assert_eq!(main, "partial line\n".repeat(3));
    let panic = std::fs::read_to_string(d.join("panic")).unwrap();
    assert_eq!(
        panic
            .matches("internal error formatting a delivery event")
            .count(),
        1,
        "{panic}"
    );
    assert_eq!(
        shared
            .stats
            .counter(Counter::panics)
            .load(Ordering::Relaxed),
        2
    );
    assert_eq!(
        shared.stats.dropped(Kind::Delivery).load(Ordering::Relaxed),
        2
    );
    assert_eq!(
        shared
            .stats
            .counter(Counter::written)
            .load(Ordering::Relaxed),
        3
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// One `event` line per event, and `M1` at each heartbeat.
struct Beats;

impl Formatter for Beats {
    fn format(&mut self, _ev: &Event, out: &mut Out) {
        out.buf(Target::Main).extend_from_slice(b"event\n");
    }

    fn heartbeat(&mut self, _now: Timestamp, out: &mut Out) {
        out.buf(Target::Main).extend_from_slice(b"M1\n");
    }
}

/// A heartbeat line followed in the buffer by an event's line goes to a syslog destination
/// as `info` with its own time, not with the severity and time of the event after it.
#[test]
fn a_heartbeat_goes_to_syslog_as_info_of_its_own_time() {
    use crate::file::syslog::{Endpoint, LineStyle, Syslog, SyslogOptions};
    use crate::format::Level;
    use std::os::unix::net::UnixDatagram;

    let d = std::env::temp_dir().join(format!("mtalog-heartbeat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let sock = d.join("log.sock");
    let receiver = UnixDatagram::bind(&sock).unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let style = LineStyle {
        app: Some("ecelerity"),
        pid: "42".into(),
        hostname: "host.example".into(),
    };
    let name = format!("syslog:{}", sock.display());
    let endpoint = Endpoint::Local(sock.clone());
    let syslog = Syslog::open(&name, &endpoint, &SyslogOptions::default(), style, false).unwrap();
    let mut settings = Settings::parse(&mut Options::new(&[])).unwrap();
    settings.heartbeat = Some(Duration::from_secs(1));
    let (_tx, rx) = crossbeam_channel::bounded(64);
    let mut w = Writer::new(
        rx,
        Arc::new(Pool::new(64, true, None)),
        Arc::new(Shared::default()),
        Arc::new(settings),
        Box::new(Beats),
        Vec::new(),
    )
    .with_destinations(Destinations::new(
        vec![(vec![Target::Main], syslog)],
        Level::Error,
    ));
    let now = Instant::now();
    w.next_heartbeat = Some(now);
    w.timers(now);
    let mut ev = Event::new(Kind::PermanentFailure);
    ev.time = Timestamp::new(978_307_200, 0); // 2001-01-01
    w.event(&ev);
    assert!(w.write_out());
    let mut buf = [0u8; 512];
    let mut next = || {
        let n = receiver.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let (beat, event) = (next(), next());
    assert!(beat.ends_with(": M1"), "{beat}");
    assert!(event.ends_with(": event"), "{event}");
    // mail.info and mail.warning.
    assert!(beat.starts_with("<22>"), "{beat}");
    assert!(event.starts_with("<20>"), "{event}");
    // The stamps (`Mmm dd hh:mm:ss`): the heartbeat's is now, not 2001's.
    assert_ne!(beat[4..19], event[4..19], "{beat} / {event}");
    let _ = std::fs::remove_dir_all(&d);
}
