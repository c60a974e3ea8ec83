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
