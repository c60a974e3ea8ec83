//! One reader over the four formats: recognises each line by how it starts (see
//! [`read`](crate::format::read)) and hands it to its format's reader.
//!
//! Some facts are on another line of the same message (an ec `D` line has no recipient, a
//! Postfix delivery line no sender or size); each format's reader remembers them per
//! message and forgets them when the message ends, so a [`Parser`]'s memory follows the
//! number of messages in flight, not the size of the input.

use crate::event::Timestamp;
use crate::format::imta::ImtaOptions;
use crate::format::read::{Family, Ids, LineKind, Rec};
use crate::format::{FormatContext, Level, ec, imta, json, postfix};

/// Recognises a line by how it starts; `None` when it looks like none of the formats.
pub fn detect(line: &[u8]) -> Option<LineKind> {
    if line.first() == Some(&b'{') {
        return Some(LineKind::Json);
    }
    ec::read::line_kind(line)
        .or_else(|| postfix::read::is_line(line).then_some(LineKind::Postfix))
        .or_else(|| imta::read::line_kind(line))
}

/// Turns lines into records; one parser reads all the files of one run, so that a message
/// started in one file and ended in the next (rotation) is followed.
pub struct Parser {
    ec: ec::read::Reader,
    pf: postfix::read::Reader,
    imta: imta::read::Reader,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser with no messages in flight, reading Postfix's traditional time stamps
    /// (which have no year) as of now.
    pub fn new() -> Parser {
        let ctx = FormatContext::current(Level::Error);
        Parser {
            ec: ec::read::Reader::new(),
            pf: postfix::read::Reader::new(Timestamp::now().sec),
            imta: imta::read::Reader::new(ImtaOptions::defaults(&ctx)),
        }
    }

    /// Looks at the first lines of a new file to learn the optional fields of Sun
    /// mail.log lines (they are not marked in the lines themselves).
    pub fn begin_file(&mut self, sample: &[Vec<u8>]) {
        let lines: Vec<std::borrow::Cow<'_, str>> = sample
            .iter()
            .filter(|l| detect(l) == Some(LineKind::ImtaMail))
            .map(|l| String::from_utf8_lossy(l))
            .collect();
        let lines: Vec<&str> = lines.iter().map(|l| l.as_ref()).collect();
        self.imta.begin_file(&lines);
    }

    /// Parses one line (without its newline): its kind, and the records it makes (none
    /// for lines that carry no event of their own, such as heartbeats).
    pub fn line(&mut self, line: &[u8], out: &mut Vec<Rec>) -> Result<LineKind, String> {
        let kind = detect(line).ok_or_else(|| "not a line of any known log format".to_owned())?;
        match kind.family() {
            Family::Ec => self.ec.line(kind, line, out)?,
            Family::Postfix => self.pf.line(line, out)?,
            Family::Imta => self.imta.line(kind, line, out)?,
            Family::Json => json::read::line(line, out)?,
        }
        Ok(kind)
    }

    /// At the end of the input: the receptions of Postfix messages with no delivery line
    /// yet, and those whose reception started but whose `qmgr` line is not in the input
    /// (see [`postfix::read::Reader::finish`]).
    pub fn finish(&mut self, out: &mut Vec<Rec>) {
        self.pf.finish(out);
    }

    /// The ids a line carries (for `trace`); no state is kept.
    pub fn ids(&self, kind: LineKind, line: &[u8]) -> Ids {
        match kind {
            LineKind::Postfix => postfix::read::ids(line),
            LineKind::ImtaMail => self.imta.ids(line),
            LineKind::ImtaService => Ids::default(),
            LineKind::Json => json::read::ids(line),
            _ => ec::read::ids(kind, line),
        }
    }

    /// The time of a line (for putting files in order); `None` when it has none.
    pub fn time_of(&mut self, line: &[u8]) -> Option<Timestamp> {
        match detect(line)? {
            LineKind::Postfix => self.pf.time(line).ok().map(|t| t.0),
            kind @ (LineKind::ImtaMail | LineKind::ImtaService) => imta::read::time(kind, line),
            LineKind::Json => json::read::time(line),
            _ => ec::read::time(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Field, Kind, Timestamp, build, flags};
    use crate::format::imta::read::infer_imta_options;

    #[test]
    fn recognises_each_format() {
        let cases: [(&str, LineKind); 9] = [
            (
                "1700000000@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@R@alice@dest.example@news@sender.example@192.0.2.10@4821@esmtp@group-a@vip-1",
                LineKind::EcMain,
            ),
            ("1700000060@@@@M1", LineKind::EcMain),
            (
                "1700000100: R=\"203.0.113.9:51234\" L=\"\" C=\"\" PATH=\"\" PATH_GRP=\"\" P=\"unknown\" E=421 M= CTXCONN=[] CTXMESS=[] 421 busy",
                LineKind::EcReject,
            ),
            (
                "1700000005:scriptlet: something went wrong",
                LineKind::EcPanic,
            ),
            (
                "1700000201@Z@*:2025@198.51.100.77:40112@admin@1@summary@operators",
                LineKind::EcAcct,
            ),
            (
                "1700000400@32/10-04242-0001E5F5@I@32/10-04242-0001E5F5@1@/var/spool/restore",
                LineKind::EcImport,
            ),
            (
                "Nov  3 09:15:03 mta1 postfix/qmgr[4242]: 3F2A91C0B7: removed",
                LineKind::Postfix,
            ),
            (
                "07-Mar-2024 09:15:02.37 tcp_local    tcp_local    E 3 alice@example.org rfc822;bob@example.com bob@example.com",
                LineKind::ImtaMail,
            ),
            (
                "[07/Mar/2024:09:15:02 +0000] mx1 ecelerity[18972]: General Error: cannot resolve relay: timeout",
                LineKind::ImtaService,
            ),
        ];
        for (l, k) in cases {
            assert_eq!(detect(l.as_bytes()), Some(k), "{l}");
        }
        assert_eq!(detect(b"hello world"), None);
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn ec_delivery_gets_its_recipient_from_the_reception() {
        let mut p = Parser::new();
        let mut out = Vec::new();
        p.line(b"1700000000@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@R@alice@dest.example@news@sender.example@192.0.2.10@4821@esmtp@group-a@vip-1", &mut out).unwrap();
        p.line(b"1700000042@60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556@D@dest.example@4821@group-a@vip-1@0@44.06@198.51.100.25", &mut out).unwrap();
        assert_eq!(out.len(), 2);
        let d = &out[1].ev;
        assert_eq!(d.kind, Kind::Delivery);
        assert_eq!(d.get(Field::RcptTo), b"alice@dest.example");
        assert_eq!(d.get(Field::MailFrom), b"news@sender.example");
        assert_eq!(d.time.micros_since(d.received), 44_060_000);
        assert!(p.ec.is_empty());
    }

    #[test]
    fn bad_ec_lines_say_why() {
        let mut p = Parser::new();
        let mut out = Vec::new();
        let e = p.line(b"1700000000@a@b@c@Q@x", &mut out).unwrap_err();
        assert!(e.contains("unknown record type"), "{e}");
        let e = p.line(b"1700000000@a@b@c@D@x@1", &mut out).unwrap_err();
        assert!(e.contains("expected 12"), "{e}");
    }

    #[test]
    fn rfc3339_postfix_and_hires_ec_stamps() {
        let mut p = Parser::new();
        let t = p
            .time_of(b"2026-11-23T12:00:01.5+01:00 mx postfix/qmgr[1]: ABC: removed")
            .unwrap();
        assert_eq!((t.sec, t.usec), (1_795_431_601, 500_000));
        let t = p.time_of(b"1700000060000005@@@@M1").unwrap();
        assert_eq!((t.sec, t.usec), (1_700_000_060, 5));
    }

    /// Lines the library writes with a set of Sun options are read back with those
    /// options inferred from the lines alone.
    fn sun_lines(o: &ImtaOptions) -> Vec<String> {
        use crate::format::{Formatter, Out};
        let mut f = imta::Imta::new(o.clone());
        let mut out = Out::default();
        for (kind, note) in [
            (Kind::Reception, &b""[..]),
            (Kind::TransientFailure, b"451 4.7.1 later"),
            (Kind::Delivery, b"250 2.0.0 ok"),
            (Kind::PermanentFailure, b"550 5.1.1 unknown user"),
        ] {
            let mut ev = build(
                kind,
                vec![
                    (Field::MsgId, b"60/00-31337-EF0F3556"),
                    (Field::MailFrom, b"alice@example.org"),
                    (Field::RcptTo, b"bob@example.com"),
                    (Field::MessageIdHeader, b"<a1@example.org>"),
                    (Field::DomainName, b"example.com"),
                    (Field::MxHost, b"mx.example.com"),
                    (Field::MxIp, b"203.0.113.10"),
                    (Field::PeerIp, b"192.0.2.25"),
                    (Field::Helo, b"mail.example.org"),
                    (Field::Note, note),
                ],
            );
            ev.time = Timestamp::new(1_709_802_902, 0);
            ev.received = Timestamp::new(1_709_802_812, 0);
            ev.flags |= flags::HAS_RECEIVED;
            ev.size = 3000;
            f.format(&ev, &mut out);
        }
        String::from_utf8(out.bufs[0].clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn sun_options_are_inferred_from_the_lines() {
        let base = ImtaOptions::defaults(&FormatContext::current(Level::Error));
        let mut variants = vec![base.clone()];
        let mut o = base.clone();
        o.log_message_id = true;
        variants.push(o.clone());
        o.log_filename = true;
        o.log_process = true;
        o.log_connection = imta::CONN_INFO | imta::CONN_TRANSPORT;
        variants.push(o.clone());
        o.log_format = 3;
        variants.push(o.clone());
        o.log_format = 1;
        o.log_username = true;
        o.log_notary = true;
        o.log_envelope_id = true;
        o.log_queue_time = true;
        o.process_user = "mailsrv".into();
        variants.push(o);
        for want in variants {
            let lines = sun_lines(&want);
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let got = infer_imta_options(&refs, &base).expect("some options read the lines");
            // One damaged line does not change the answer.
            let mut damaged = refs.clone();
            damaged.insert(1, "07-Mar-2024 09:15:02.00 garbage");
            assert_eq!(infer_imta_options(&damaged, &base).as_ref(), Some(&got));
            assert_eq!(
                (
                    got.log_message_id,
                    got.log_filename,
                    got.log_process,
                    got.log_connection,
                    got.log_format,
                    (got.log_username, got.log_notary),
                    (got.log_envelope_id, got.log_queue_time),
                ),
                (
                    want.log_message_id,
                    want.log_filename,
                    want.log_process,
                    want.log_connection,
                    want.log_format,
                    (want.log_username, want.log_notary),
                    (want.log_envelope_id, want.log_queue_time),
                ),
                "{lines:#?}"
            );
            let mut p = Parser::new();
            p.begin_file(
                &lines
                    .iter()
                    .map(|l| l.as_bytes().to_vec())
                    .collect::<Vec<_>>(),
            );
            let mut out = Vec::new();
            for l in &lines {
                p.line(l.as_bytes(), &mut out).unwrap();
            }
            assert_eq!(out.len(), 4);
            assert_eq!(out[2].ev.get(Field::RcptTo), b"bob@example.com");
        }
    }
}
