//! Reading bouncelog lines back into events: a `B` record becomes a permanent failure, a
//! `T` record a transient failure, with the stage, size, envelope and text of the line
//! (heartbeats are ec_logger's `M1` lines and are read as such).
//!
//! A bouncelog line starts as a mainlog line does (`TS@ID@ID@ID@LETTER@`); `B` is its
//! own letter, and a bouncelog `T` is told from a mainlog `T` by its fields 11 to 13 (stage,
//! class and size: whole numbers, where a mainlog `T` has the queue time `44.06` in field
//! 11). The records carry [`BOUNCELOG`] as their source: they repeat the mainlog's `P`
//! and `T` lines, and a reader of both files counts each failure once.

use super::classify::BounceClass;
use crate::event::{Field, Kind, build};
use crate::format::ec::read::{ec_time, join_addr, split_at_unescaped, unescape};
use crate::format::read::{Rec, leading_digits, lossy};
use crate::format::text::num;

/// The source of the records read from a bouncelog.
pub const BOUNCELOG: &str = "(bouncelog)";

/// Fields of a `B` or `T` record.
const FIELDS: usize = 16;

/// Is `line` a bouncelog `B` or `T` record (see the module documentation)?
pub fn is_line(line: &[u8]) -> bool {
    let digits = leading_digits(line);
    if digits < 9 || line.get(digits) != Some(&b'@') {
        return false;
    }
    // The start of each field up to field 14, found by the unescaped `@` before it.
    let mut starts = [0usize; 15];
    let mut n = 1;
    let mut i = 0;
    while i < line.len() && n < starts.len() {
        match line[i] {
            b'\\' => i += 1,
            b'@' => {
                starts[n] = i + 1;
                n += 1;
                if n == 6 {
                    match &line[starts[4]..i] {
                        b"B" => return true,
                        b"T" => {}
                        _ => return false,
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    n == starts.len()
        && (11..14).all(|k| {
            let f = &line[starts[k]..starts[k + 1] - 1];
            !f.is_empty() && f.iter().all(u8::is_ascii_digit)
        })
}

/// Parses a `B` or `T` record into its event.
pub fn line(line: &[u8], out: &mut Vec<Rec>) -> Result<(), String> {
    let f = split_at_unescaped(line, FIELDS);
    let letter = f.get(4).map_or(&b""[..], |l| &l[..]);
    let kind = match letter {
        b"B" => Kind::PermanentFailure,
        b"T" => Kind::TransientFailure,
        _ => return Err(format!("not a bouncelog record: '{}'", lossy(letter))),
    };
    if f.len() != FIELDS {
        return Err(format!(
            "{} record has {} fields, expected {FIELDS}",
            lossy(letter),
            f.len()
        ));
    }
    let time = ec_time(&f[0])?;
    let u: Vec<Vec<u8>> = f.iter().map(|x| unescape(x)).collect();
    let number = |i: usize, what: &str| -> Result<u64, String> {
        num(&u[i]).ok_or_else(|| format!("the {what} '{}' is not a whole number", lossy(&u[i])))
    };
    let stage = number(11, "connection stage")?;
    let class = number(12, "bounce class")?;
    let Some(class) = u8::try_from(class)
        .ok()
        .filter(|&c| BounceClass::from_code(c).is_some())
    else {
        return Err(format!("the bounce class {class} is not one of Momentum's"));
    };
    let size = number(13, "message size")?;
    let rcpt = join_addr(&u[5], &u[6]);
    let from = join_addr(&u[7], &u[8]);
    let mut ev = build(
        kind,
        vec![
            (Field::MsgId, &u[1][..]),
            (Field::BatchId, &u[2][..]),
            (Field::ConnId, &u[3][..]),
            (Field::MailFrom, &from[..]),
            (Field::RcptTo, &rcpt[..]),
            (Field::BindingGroup, &u[9][..]),
            (Field::Binding, &u[10][..]),
            (Field::DomainName, &u[6][..]),
            (Field::MxIp, &u[14][..]),
            (Field::Note, &u[15][..]),
        ],
    );
    ev.time = time;
    ev.stage = i32::try_from(stage).unwrap_or(i32::MAX);
    ev.size = size;
    ev.class = class;
    out.push(Rec {
        ev,
        source: BOUNCELOG.to_owned(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Timestamp};
    use crate::format::bounce::{Bounce, OUT_OF_BAND_STAGE, failure_class};
    use crate::format::{Formatter, Out, Target};

    const B: &str = "1700001000@80/00-31337-8E4F3556@60/00-31337-EF0F3556@50/00-31337-6F0F3556@B@alice@dest.example@news@sender.example@group-a@vip-1@21@10@4821@198.51.100.25@550 5.1.1 user unknown";
    const MAIN_T: &str = "1700000012@60/00-31337-EF0F3556@60/00-31337-EF0F3556@0B/20-31337-A01F3556@T@dest.example@0@group-a@vip-1@4@0@14.21@198.51.100.25@421 4.7.0 try again later";

    fn read(l: &str) -> Result<Event, String> {
        let mut out = Vec::new();
        line(l.as_bytes(), &mut out)?;
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].source, BOUNCELOG);
        Ok(out.pop().unwrap().ev)
    }

    #[test]
    fn recognises_bouncelog_records_only() {
        assert!(is_line(B.as_bytes()));
        let t = B.replace("@B@", "@T@");
        assert!(is_line(t.as_bytes()));
        for other in [
            MAIN_T,
            "1700003605@60/00-31337-EF0F3556@60/00-31337-EF0F3556@4C/30-31337-01FF3556@P@dest.example@4821@group-a@vip-1@9@2@3607.48@198.51.100.26@550 5.1.1 user unknown",
            "1700000060@@@@M1",
            "1700000201@Z@*:2025@198.51.100.77:40112@admin@1@summary@operators",
            "1700000000@a@b@c@T@x",
            "12345@a@b@c@B@x",
            "",
        ] {
            assert!(!is_line(other.as_bytes()), "{other}");
        }
        // An escaped `@` in a field is not a separator.
        assert!(is_line(B.replace("@alice@", "@a\\@lice@").as_bytes()));
    }

    #[test]
    fn reads_what_the_writer_wrote() {
        let ev = read(B).unwrap();
        assert_eq!(ev.kind, Kind::PermanentFailure);
        assert_eq!(ev.time, Timestamp::new(1_700_001_000, 0));
        assert_eq!((ev.stage, ev.size), (OUT_OF_BAND_STAGE, 4821));
        assert_eq!(ev.get(Field::RcptTo), b"alice@dest.example");
        assert_eq!(ev.get(Field::MailFrom), b"news@sender.example");
        assert_eq!(ev.get(Field::DomainName), b"dest.example");
        assert_eq!(ev.get(Field::MxIp), b"198.51.100.25");
        assert_eq!(ev.get(Field::Note), b"550 5.1.1 user unknown");
        // Written again, the line is the same.
        let mut out = Out::default();
        Bounce::default().format(&ev, &mut out);
        assert_eq!(out.bufs[Target::Main as usize], format!("{B}\n").as_bytes());
        // Escapes and a raw `@` in the text.
        let l = "5@00/00-00000-00000000@00/00-00000-00000000@00/00-00000-00000000@T@r@y.example@\"a\\@b\\\\c\"@x.example@g\\@1@@4@70@0@1.2.3.4@451 4.7.1 <a@b> try\\tlater";
        let ev = read(l).unwrap();
        assert_eq!(ev.kind, Kind::TransientFailure);
        assert_eq!(ev.get(Field::MailFrom), br#""a@b\c"@x.example"#);
        assert_eq!(ev.get(Field::BindingGroup), b"g@1");
        assert_eq!(ev.get(Field::Note), b"451 4.7.1 <a@b> try\tlater");
        let mut out = Out::default();
        Bounce::default().format(&ev, &mut out);
        assert_eq!(out.bufs[Target::Main as usize], format!("{l}\n").as_bytes());
    }

    /// A record's class is the event's recorded class, which `failure_class` gives over
    /// the classifier's reading of the text (here 10, Invalid Recipient).
    #[test]
    fn a_record_keeps_its_class() {
        let ev = read(&B.replace("@21@10@", "@21@25@")).unwrap();
        assert_eq!(ev.class, 25);
        assert_eq!(failure_class(&ev), BounceClass::AdminFailure);
        let ev = read(B).unwrap();
        assert_eq!(failure_class(&ev), BounceClass::InvalidRecipient);
        let mut ev = ev;
        ev.class = 0;
        assert_eq!(failure_class(&ev), BounceClass::InvalidRecipient);
    }

    #[test]
    fn bad_records_say_why() {
        let e = read(&B.replace("@21@10@", "@21@11@")).unwrap_err();
        assert_eq!(e, "the bounce class 11 is not one of Momentum's");
        let e = read(&B.replace("@4821@", "@big@")).unwrap_err();
        assert_eq!(e, "the message size 'big' is not a whole number");
        let e = read("1700001000@a@b@c@B@x@y").unwrap_err();
        assert_eq!(e, "B record has 7 fields, expected 16");
        let e = read(MAIN_T).unwrap_err();
        assert_eq!(e, "T record has 14 fields, expected 16");
    }
}
