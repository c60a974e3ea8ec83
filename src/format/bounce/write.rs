//! The bouncelog of Momentum's `bounce_logger` (spec/momentum.md §9): `B` records for
//! in-band and out-of-band bounces, `T` records for transient failures, heartbeat `M1`
//! lines.
//!
//! ```text
//! ts@msgid@batchid@connid@B@rcpt-local@rcpt-domain@from-local@from-domain@bgroup@binding@stage@class@size@ip@text
//! ```
//!
//! The fields are escaped as ec_logger escapes the mainlog (the same functions): `@` and
//! `\` get a `\` in front and control bytes become `\n`, `\r`, `\t` or `\xHH`; the trailing
//! text keeps `@` raw. The ids fall back as the mainlog's do (batch-ID to the message-ID,
//! a missing id to `00/00-00000-00000000`). The class (field 12) is [`classify`]'s reading
//! of the failure text. The bouncelog is the kind's only file, written through
//! [`Target::Main`].

use std::path::PathBuf;
use std::time::Duration;

use super::classify::{BounceClass, classify, parse_reply};
use crate::config::{ConfigError, Options};
use crate::event::{Event, Field, Kind, Timestamp};
use crate::format::ec::{DEFAULT_DIR, Ec, push_field, push_text, split_address};
use crate::format::{
    FileSpec, FormatContext, Formatter, KindSetup, Out, Target, push_i64, push_u64,
    strip_one_newline,
};

/// The connection stage of an out-of-band bounce (spec §10): a permanent failure with
/// this stage is logged as out-of-band.
pub const OUT_OF_BAND_STAGE: i32 = 21;

/// The bouncelog's file name in Momentum's default directory.
pub const DEFAULT_FILE: &str = "bouncelog.ec";

/// Which records the bouncelog gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `B` records for permanent failures of a delivery attempt (`log_inband_bounces`).
    pub inband: bool,
    /// `B` records for bounces that arrive later (`log_outofband_bounces`).
    pub outofband: bool,
    /// `T` records for transient failures (`log_transient_failures`).
    pub transient: bool,
    /// Microsecond timestamps (`log_hires_timestamp`, as for ec_logger).
    pub hires: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            inband: true,
            outofband: true,
            transient: true,
            hires: false,
        }
    }
}

/// Reads bounce_logger's own options: `bouncelog` (default
/// `/var/log/ecelerity/bouncelog.ec`), `bouncelog_mode` (`0644`), `heartbeat` (60 s; `0`
/// is off), `log_inband_bounces`, `log_outofband_bounces`, `log_transient_failures` (all
/// on) and `log_hires_timestamp` (off).
pub fn setup(o: &mut Options<'_>, _ctx: &FormatContext) -> Result<KindSetup, ConfigError> {
    let mode = o.mode(&["bouncelog_mode"], 0o644)?;
    let path = match o.path("bouncelog")? {
        Some(p) => p,
        None => PathBuf::from(DEFAULT_DIR).join(DEFAULT_FILE),
    };
    let heartbeat = o.duration(&["heartbeat"], Duration::from_secs(60))?;
    let settings = Settings {
        inband: o.boolean("log_inband_bounces", true)?,
        outofband: o.boolean("log_outofband_bounces", true)?,
        transient: o.boolean("log_transient_failures", true)?,
        hires: o.boolean("log_hires_timestamp", false)?,
    };
    Ok(KindSetup {
        files: vec![FileSpec {
            target: Target::Main,
            path,
            mode,
            key: "bouncelog",
        }],
        formatter: Box::new(Bounce::new(settings)),
        heartbeat: (!heartbeat.is_zero()).then_some(heartbeat),
        records: false,
    })
}

/// The class of a failure: the one a log line read back recorded ([`Event::class`]: what
/// Momentum, with a site's own rules, decided), else the reply code and enhanced code found
/// in its text (the event's own reply code when the text has none), then [`classify`].
pub fn failure_class(ev: &Event) -> BounceClass {
    if let Some(class) = BounceClass::from_code(ev.class) {
        return class;
    }
    let text = strip_one_newline(ev.get(Field::Note));
    let reply = parse_reply(text);
    let code = reply.code.or_else(|| {
        u16::try_from(ev.code)
            .ok()
            .filter(|c| (200..600).contains(c))
    });
    classify(code, reply.enhanced, text)
}

/// The fields the bouncelog reads, per event kind (see
/// [`LoggerKind::fields_used`](crate::format::LoggerKind::fields_used)): the ids, the
/// envelope, the binding, the MX address and the text of a failure; nothing of the other
/// events, which it never writes.
pub fn fields_used(kind: Kind) -> u64 {
    use Field::*;
    match kind {
        Kind::TransientFailure | Kind::PermanentFailure => [
            MsgId,
            BatchId,
            ConnId,
            MailFrom,
            RcptTo,
            BindingGroup,
            Binding,
            MxIp,
            Note,
        ]
        .iter()
        .fold(0u64, |m, f| m | 1 << *f as u64),
        _ => 0,
    }
}

/// bounce_logger formatter.
#[derive(Clone, Debug)]
pub struct Bounce {
    /// Which records are written.
    pub settings: Settings,
    /// The mainlog formatter, for the id fields it writes the same way.
    ec: Ec,
}

impl Default for Bounce {
    fn default() -> Self {
        Bounce::new(Settings::default())
    }
}

impl Bounce {
    /// A formatter with these settings.
    pub fn new(settings: Settings) -> Bounce {
        Bounce {
            settings,
            ec: Ec::new(settings.hires),
        }
    }

    /// Does `ev` get a record, and with which letter?
    pub fn letter(&self, ev: &Event) -> Option<u8> {
        let s = &self.settings;
        match ev.kind {
            Kind::PermanentFailure if ev.stage == OUT_OF_BAND_STAGE => s.outofband.then_some(b'B'),
            Kind::PermanentFailure => s.inband.then_some(b'B'),
            Kind::TransientFailure => s.transient.then_some(b'T'),
            _ => None,
        }
    }

    /// Appends the `B` or `T` record of a failure with `letter`.
    pub fn record(&self, ev: &Event, letter: u8, buf: &mut Vec<u8>) {
        self.ec.push_ids(buf, ev);
        buf.push(letter);
        let (rl, rd) = split_address(ev.get(Field::RcptTo));
        let (fl, fd) = split_address(ev.get(Field::MailFrom));
        for part in [
            rl,
            rd,
            fl,
            fd,
            ev.get(Field::BindingGroup),
            ev.get(Field::Binding),
        ] {
            buf.push(b'@');
            push_field(buf, part);
        }
        buf.push(b'@');
        push_i64(buf, ev.stage as i64);
        buf.push(b'@');
        push_u64(buf, failure_class(ev).code() as u64);
        buf.push(b'@');
        push_u64(buf, ev.size);
        buf.push(b'@');
        push_field(buf, ev.get(Field::MxIp));
        buf.push(b'@');
        push_text(buf, strip_one_newline(ev.get(Field::Note)));
        buf.push(b'\n');
    }

    fn push_ts(&self, buf: &mut Vec<u8>, t: Timestamp) {
        if self.settings.hires {
            push_u64(buf, t.as_micros().max(0) as u64);
        } else {
            push_i64(buf, t.sec);
        }
    }
}

impl Formatter for Bounce {
    fn format(&mut self, ev: &Event, out: &mut Out) {
        if let Some(letter) = self.letter(ev) {
            self.record(ev, letter, out.buf(Target::Main));
        }
    }

    fn heartbeat(&mut self, now: Timestamp, out: &mut Out) {
        let m = out.buf(Target::Main);
        self.push_ts(m, now);
        m.extend_from_slice(b"@@@@M1\n");
    }

    /// Permanent failures when in-band bounces are on (the hook's; out-of-band bounces
    /// come through [`Formatter::out_of_band`]), transient failures when they are on,
    /// nothing else.
    fn writes(&self, kind: Kind) -> bool {
        match kind {
            Kind::PermanentFailure => self.settings.inband,
            Kind::TransientFailure => self.settings.transient,
            _ => false,
        }
    }

    fn out_of_band(&self) -> Option<bool> {
        Some(self.settings.outofband)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Entry;
    use crate::event::{build, flags};
    use crate::format::Level;

    fn lines(f: &mut Bounce, ev: &Event) -> String {
        let mut out = Out::default();
        f.format(ev, &mut out);
        for (i, b) in out.bufs.iter().enumerate() {
            assert!(
                i == Target::Main as usize || b.is_empty(),
                "only the bouncelog"
            );
        }
        String::from_utf8(out.bufs[Target::Main as usize].clone()).unwrap()
    }

    fn line(ev: &Event) -> String {
        lines(&mut Bounce::default(), ev)
    }

    fn failure(kind: Kind, note: &'static [u8]) -> Event {
        let mut ev = build(
            kind,
            vec![
                (Field::MsgId, b"80/00-31337-8E4F3556"),
                (Field::BatchId, b"60/00-31337-EF0F3556"),
                (Field::ConnId, b"50/00-31337-6F0F3556"),
                (Field::MailFrom, b"news@sender.example"),
                (Field::RcptTo, b"alice@dest.example"),
                (Field::BindingGroup, b"group-a"),
                (Field::Binding, b"vip-1"),
                (Field::DomainName, b"dest.example"),
                (Field::MxIp, b"198.51.100.25"),
                (Field::Note, note),
            ],
        );
        ev.time = Timestamp {
            sec: 1_700_001_000,
            usec: 0,
        };
        ev.received = Timestamp {
            sec: 1_699_999_997,
            usec: 0,
        };
        ev.flags |= flags::HAS_RECEIVED;
        ev.size = 4821;
        ev
    }

    #[test]
    fn out_of_band_bounce_is_the_spec_example() {
        let mut ev = failure(Kind::PermanentFailure, b"550 5.1.1 user unknown");
        ev.stage = OUT_OF_BAND_STAGE;
        assert_eq!(
            line(&ev),
            "1700001000@80/00-31337-8E4F3556@60/00-31337-EF0F3556@50/00-31337-6F0F3556@B@alice@dest.example@news@sender.example@group-a@vip-1@21@10@4821@198.51.100.25@550 5.1.1 user unknown\n"
        );
    }

    #[test]
    fn in_band_bounce_and_transient_failure() {
        let mut ev = failure(
            Kind::PermanentFailure,
            b"552 5.2.2 <alice@dest.example>: user is over quota\r\n",
        );
        ev.stage = 9;
        assert_eq!(
            line(&ev),
            "1700001000@80/00-31337-8E4F3556@60/00-31337-EF0F3556@50/00-31337-6F0F3556@B@alice@dest.example@news@sender.example@group-a@vip-1@9@22@4821@198.51.100.25@552 5.2.2 <alice@dest.example>: user is over quota\n"
        );
        let mut ev = failure(
            Kind::TransientFailure,
            b"421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints",
        );
        ev.stage = 3;
        assert_eq!(
            line(&ev),
            "1700001000@80/00-31337-8E4F3556@60/00-31337-EF0F3556@50/00-31337-6F0F3556@T@alice@dest.example@news@sender.example@group-a@vip-1@3@51@4821@198.51.100.25@421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints\n"
        );
    }

    #[test]
    fn missing_values_and_the_events_own_code() {
        let mut ev = build(Kind::TransientFailure, vec![(Field::Note, b"no luck")]);
        ev.time = Timestamp { sec: 7, usec: 0 };
        assert_eq!(
            line(&ev),
            "7@00/00-00000-00000000@00/00-00000-00000000@00/00-00000-00000000@T@@@@@@@0@1@0@@no luck\n"
        );
        ev.code = 451;
        assert!(line(&ev).ends_with("@T@@@@@@@0@70@0@@no luck\n"));
        let mut ev = build(Kind::PermanentFailure, vec![]);
        ev.code = 550;
        assert!(line(&ev).ends_with("@B@@@@@@@0@40@0@@\n"), "{}", line(&ev));
    }

    #[test]
    fn values_are_escaped_like_the_mainlog() {
        let mut ev = build(
            Kind::PermanentFailure,
            vec![
                (Field::MailFrom, br#""a@b\c"@x.example"#),
                (Field::RcptTo, b"<r@y.example>"),
                (Field::BindingGroup, b"g@1"),
                (Field::MxIp, b"1.2.3.4\n5"),
                (Field::Note, b"550 5.7.1 a@b\\c\nnext\tline"),
            ],
        );
        ev.time = Timestamp { sec: 5, usec: 0 };
        ev.stage = 4;
        assert_eq!(
            line(&ev),
            "5@00/00-00000-00000000@00/00-00000-00000000@00/00-00000-00000000@B@r@y.example@\"a\\@b\\\\c\"@x.example@g\\@1@@4@50@0@1.2.3.4\\n5@550 5.7.1 a@b\\\\c\\nnext\\tline\n"
        );
    }

    #[test]
    fn options_choose_the_records() {
        let perm = failure(Kind::PermanentFailure, b"550 5.1.1 user unknown");
        let mut oob = perm.clone();
        oob.stage = OUT_OF_BAND_STAGE;
        let temp = failure(Kind::TransientFailure, b"451 4.3.0 try again later");
        let others = [
            failure(Kind::Delivery, b"250 ok"),
            failure(Kind::Reception, b""),
            failure(Kind::Rejection, b"550 no"),
            failure(Kind::Error, b"x"),
        ];
        for (inband, outofband, transient) in [
            (true, true, true),
            (false, true, true),
            (true, false, true),
            (true, true, false),
            (false, false, false),
        ] {
            let mut f = Bounce::new(Settings {
                inband,
                outofband,
                transient,
                hires: false,
            });
            assert_eq!(!lines(&mut f, &perm).is_empty(), inband);
            assert_eq!(!lines(&mut f, &oob).is_empty(), outofband);
            assert_eq!(!lines(&mut f, &temp).is_empty(), transient);
            for ev in &others {
                assert_eq!(lines(&mut f, ev), "");
            }
        }
    }

    #[test]
    fn heartbeats_and_hires() {
        let now = Timestamp {
            sec: 1_700_000_060,
            usec: 5,
        };
        let mut out = Out::default();
        Bounce::default().heartbeat(now, &mut out);
        assert_eq!(out.bufs[Target::Main as usize], b"1700000060@@@@M1\n");
        let mut f = Bounce::new(Settings {
            hires: true,
            ..Settings::default()
        });
        let mut out = Out::default();
        f.heartbeat(now, &mut out);
        assert_eq!(out.bufs[Target::Main as usize], b"1700000060000005@@@@M1\n");
        let mut ev = failure(Kind::PermanentFailure, b"550 5.1.1 user unknown");
        ev.time = now;
        assert!(lines(&mut f, &ev).starts_with("1700000060000005@80/00-31337-8E4F3556@"));
    }

    fn opts(pairs: &[(&str, &str)]) -> Vec<Entry> {
        pairs
            .iter()
            .enumerate()
            .map(|(i, (k, v))| Entry {
                key: (*k).into(),
                value: (*v).into(),
                line: i + 1,
            })
            .collect()
    }

    fn setup_with(pairs: &[(&str, &str)]) -> Result<KindSetup, ConfigError> {
        let ctx = FormatContext {
            error_default_level: Level::Error,
            pid: 99,
            hostname: "mx.example.test".into(),
        };
        let entries = opts(pairs);
        let mut o = Options::new(&entries);
        let r = setup(&mut o, &ctx);
        if r.is_ok() {
            o.finish()?;
        }
        r
    }

    #[test]
    fn setup_defaults_and_options() {
        let k = setup_with(&[]).unwrap();
        assert_eq!(
            k.files,
            vec![FileSpec {
                target: Target::Main,
                path: PathBuf::from("/var/log/ecelerity/bouncelog.ec"),
                mode: 0o644,
                key: "bouncelog",
            }]
        );
        assert_eq!(k.heartbeat, Some(Duration::from_secs(60)));
        assert!(!k.records);
        let mut k = setup_with(&[
            ("bouncelog", "/var/log/mta/bounces.ec"),
            ("bouncelog_mode", "0640"),
            ("heartbeat", "0"),
            ("log_inband_bounces", "false"),
            ("log_outofband_bounces", "off"),
            ("log_transient_failures", "no"),
            ("log_hires_timestamp", "true"),
        ])
        .unwrap();
        assert_eq!(k.files[0].path, PathBuf::from("/var/log/mta/bounces.ec"));
        assert_eq!(k.files[0].mode, 0o640);
        assert_eq!(k.heartbeat, None);
        let ev = failure(Kind::PermanentFailure, b"550 x");
        let mut out = Out::default();
        k.formatter.format(&ev, &mut out);
        assert!(out.bufs.iter().all(|b| b.is_empty()));
        k.formatter
            .heartbeat(Timestamp { sec: 1, usec: 2 }, &mut out);
        assert_eq!(out.bufs[Target::Main as usize], b"1000002@@@@M1\n");
        assert!(setup_with(&[("bouncelog_mode", "rw")]).is_err());
        assert!(setup_with(&[("log_inband_bounces", "maybe")]).is_err());
        assert!(setup_with(&[("bouncelog", "")]).is_err());
        assert!(
            setup_with(&[("mainlog", "/var/log/mta/mainlog.ec")]).is_err(),
            "not an option of this kind"
        );
    }
}
