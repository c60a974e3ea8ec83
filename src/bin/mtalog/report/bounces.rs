//! The report's "bounces by class" section: every permanent failure it reads (an ec `P`
//! line, a Postfix `status=bounced` line — not `status=expired`, which pflogsumm does not
//! count as bounced either — a Sun `R` or `K` entry, a bouncelog `B` record, a JSON
//! `permanent_failure`) in Momentum's bounce classes: the class the record gives (a
//! bouncelog's field 12, a JSON `bounce_class`), else read from the failure's text by the
//! classifier bounce_logger writes with ([`failure_class`]); per class the count, its share
//! of the bounces and the most frequent reply texts.
//!
//! A bouncelog repeats the mainlog's in-band bounces and adds the out-of-band ones, so the
//! bouncelog's records and the other logs' are counted apart, and the section shows the
//! bouncelog's when the input had one: every bounce, each once.

use std::fmt::Write as _;

use mtalog::event::{Field, Kind};
use mtalog::format::bounce::read::BOUNCELOG;
use mtalog::format::bounce::{BounceClass, classify_reply, failure_class};
use mtalog::format::read::{Map, Rec};

use super::output::{esc, js, thousands};
use super::text::{by_count, heading};

/// Reply texts shown per class (fewer with a smaller `--top`).
const TEXTS: usize = 5;

/// Longest reply text shown, in characters.
const TEXT_CHARS: usize = 120;

/// One class's bounces.
#[derive(Default)]
struct Tally {
    count: u64,
    /// Reply texts (addresses left out) and their counts.
    texts: Map<Vec<u8>, u64>,
}

/// Bounces by class, per [`BounceClass::ALL`] position.
#[derive(Default)]
struct ByClass {
    classes: [Tally; BounceClass::ALL.len()],
    total: u64,
}

impl ByClass {
    fn count(&mut self, class: BounceClass, note: &[u8]) {
        let i = BounceClass::ALL
            .iter()
            .position(|c| *c == class)
            .expect("every class is in ALL");
        let t = &mut self.classes[i];
        t.count += 1;
        *t.texts.entry(text_key(note).into_bytes()).or_default() += 1;
        self.total += 1;
    }
}

/// One class in the output.
struct Row {
    class: BounceClass,
    count: u64,
    /// Of the bounces, in percent.
    share: f64,
    /// The most frequent texts and their counts.
    texts: Vec<(String, u64)>,
}

/// The section's figures.
#[derive(Default)]
pub struct BounceClasses {
    /// From the mainlog, Postfix and Sun lines.
    logs: ByClass,
    /// From bouncelog `B` records.
    bouncelog: ByClass,
    /// The class and text of the event whose Postfix lines are being counted (see
    /// [`BounceClasses::hold`]).
    held: Option<(BounceClass, Vec<u8>)>,
}

/// A reply text for grouping: blanks squeezed, a token with an `@` (an address) shown as
/// `<address>`, at most [`TEXT_CHARS`] characters.
fn text_key(note: &[u8]) -> String {
    let s = String::from_utf8_lossy(note);
    let mut out = String::new();
    for tok in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if tok.contains('@') {
            out.push_str("<address>");
            if tok.ends_with(':') {
                out.push(':');
            }
        } else {
            out.push_str(tok);
        }
    }
    if out.is_empty() {
        return "(no text)".into();
    }
    match out.char_indices().nth(TEXT_CHARS) {
        Some((i, _)) => out[..i].to_owned(),
        None => out,
    }
}

impl BounceClasses {
    /// Counts a record when it is a bounce.
    pub fn add(&mut self, rec: &Rec) {
        if rec.ev.kind != Kind::PermanentFailure {
            return;
        }
        let by = if rec.source == BOUNCELOG {
            &mut self.bouncelog
        } else {
            &mut self.logs
        };
        by.count(failure_class(&rec.ev), rec.ev.get(Field::Note));
    }

    /// Holds the class of a bounce of another format until its Postfix line is counted
    /// ([`BounceClasses::counted`]): the class comes from the event itself, and the line
    /// decides whether it is counted at all (`-d`). A bouncelog record is counted at once.
    pub fn hold(&mut self, rec: &Rec) {
        self.held = None;
        if rec.ev.kind != Kind::PermanentFailure {
            return;
        }
        if rec.source == BOUNCELOG {
            self.add(rec);
        } else {
            self.held = Some((failure_class(&rec.ev), rec.ev.get(Field::Note).to_vec()));
        }
    }

    /// Counts the held bounce: its `status=bounced` line was counted.
    pub fn counted(&mut self) {
        if let Some((class, note)) = self.held.take() {
            self.logs.count(class, &note);
        }
    }

    /// Counts the bounce of a Postfix `status=bounced` line: its reply text (see
    /// [`reply_of`](mtalog::format::postfix::read::reply_of)), read by the same classifier.
    pub fn add_reply(&mut self, reply: &[u8]) {
        self.logs.count(classify_reply(reply), reply);
    }

    /// The figures shown and where they come from (`bouncelog` or `logs`).
    fn shown(&self) -> (&'static str, &ByClass) {
        if self.bouncelog.total > 0 {
            ("bouncelog", &self.bouncelog)
        } else {
            ("logs", &self.logs)
        }
    }

    /// The classes with bounces, most first.
    fn rows(&self, top: usize) -> Vec<Row> {
        let (_, by) = self.shown();
        let mut rows: Vec<_> = BounceClass::ALL
            .iter()
            .zip(&by.classes)
            .filter(|(_, t)| t.count > 0)
            .map(|(c, t)| {
                let share = t.count as f64 * 100.0 / by.total as f64;
                let texts = by_count(&t.texts)
                    .into_iter()
                    .take(top.min(TEXTS))
                    .map(|(k, n)| (String::from_utf8_lossy(k).into_owned(), n))
                    .collect();
                Row {
                    class: *c,
                    count: t.count,
                    share,
                    texts,
                }
            })
            .collect();
        rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.class.cmp(&b.class)));
        rows
    }

    /// The text section (`message bounces by class: none` when there are none, as
    /// pflogsumm words an empty section, and nothing then with `quiet`).
    pub fn text(&self, o: &mut String, top: usize, quiet: bool) {
        let (source, by) = self.shown();
        if !heading(o, "message bounces by class", by.total == 0, quiet) {
            return;
        }
        let _ = writeln!(o, " {:8}   bounces, read from the {source}\n", by.total);
        let _ = writeln!(o, "    count   share   class");
        for r in self.rows(top) {
            let c = r.class;
            let _ = writeln!(
                o,
                " {:8}  {:5.1}%   {} {} ({})",
                r.count,
                r.share,
                c.code(),
                c.name(),
                c.category().name()
            );
            for (t, k) in r.texts {
                let _ = writeln!(o, "             {k:8}   {t}");
            }
        }
    }

    /// The JSON member (with its leading comma): `"bounce_classes":{...}`.
    pub fn json(&self, o: &mut String, top: usize) {
        let (source, by) = self.shown();
        let classes: Vec<String> = self
            .rows(top)
            .iter()
            .map(|r| {
                let texts: Vec<String> = r
                    .texts
                    .iter()
                    .map(|(t, k)| format!("{{\"text\":{},\"count\":{k}}}", js(t)))
                    .collect();
                format!(
                    "{{\"class\":{},\"name\":{},\"category\":{},\"count\":{},\"share\":{:.1},\"texts\":[{}]}}",
                    r.class.code(),
                    js(r.class.name()),
                    js(r.class.category().name()),
                    r.count,
                    r.share,
                    texts.join(",")
                )
            })
            .collect();
        let _ = write!(
            o,
            ",\"bounce_classes\":{{\"source\":{},\"bounces\":{},\"classes\":[{}]}}",
            js(source),
            by.total,
            classes.join(",")
        );
    }

    /// The HTML section.
    pub fn html(&self, o: &mut String, top: usize) {
        let (source, by) = self.shown();
        if by.total == 0 {
            o.push_str("<h2>Bounces by class</h2>\n<p>none</p>\n");
            return;
        }
        let _ = write!(
            o,
            "<h2>Bounces by class</h2>\n<p>{} bounces, read from the {source}</p>\n<table><tr><th>count</th><th>share</th><th class=\"l\">class</th><th class=\"l\">top reply texts</th></tr>",
            thousands(by.total)
        );
        for r in self.rows(top) {
            let texts: Vec<String> = r
                .texts
                .iter()
                .map(|(t, k)| format!("{} &times; {}", thousands(*k), esc(t)))
                .collect();
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{:.1}%</td><td class=\"l\">{} {} ({})</td><td class=\"l\">{}</td></tr>",
                thousands(r.count),
                r.share,
                r.class.code(),
                esc(r.class.name()),
                r.class.category().name(),
                texts.join("<br>")
            );
        }
        o.push_str("</table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtalog::event::{Field, build};

    fn rec(kind: Kind, note: &'static [u8], source: &str) -> Rec {
        Rec {
            ev: build(kind, vec![(Field::Note, note)]),
            source: source.to_owned(),
        }
    }

    fn counted(notes: &[(&'static [u8], &str)]) -> BounceClasses {
        let mut b = BounceClasses::default();
        for (n, s) in notes {
            b.add(&rec(Kind::PermanentFailure, n, s));
        }
        b
    }

    #[test]
    fn texts_group_without_their_addresses() {
        assert_eq!(
            text_key(b"550 5.1.1 <alice@x.example>:  Recipient address rejected:\r\n"),
            "550 5.1.1 <address>: Recipient address rejected:"
        );
        assert_eq!(text_key(b""), "(no text)");
        assert_eq!(text_key("é".repeat(200).as_bytes()).chars().count(), 120);
    }

    #[test]
    fn counts_shares_and_texts_per_class() {
        let mut b = counted(&[
            (b"550 5.1.1 <a@x.example>: user unknown", ""),
            (b"550 5.1.1 <b@x.example>: user unknown", ""),
            (b"550 5.1.1 no such user", ""),
            (b"552 5.2.2 mailbox full", ""),
        ]);
        b.add(&rec(Kind::TransientFailure, b"451 4.7.1 later", ""));
        b.add(&rec(Kind::Delivery, b"250 ok", ""));
        let mut o = String::new();
        b.text(&mut o, 20, false);
        assert_eq!(
            o,
            concat!(
                "\nmessage bounces by class\n------------------------\n",
                "        4   bounces, read from the logs\n\n",
                "    count   share   class\n",
                "        3   75.0%   10 Invalid Recipient (Hard)\n",
                "                    2   550 5.1.1 <address>: user unknown\n",
                "                    1   550 5.1.1 no such user\n",
                "        1   25.0%   22 Mailbox Full (Soft)\n",
                "                    1   552 5.2.2 mailbox full\n",
            )
        );
        let mut j = String::new();
        b.json(&mut j, 1);
        assert_eq!(
            j,
            ",\"bounce_classes\":{\"source\":\"logs\",\"bounces\":4,\"classes\":[\
             {\"class\":10,\"name\":\"Invalid Recipient\",\"category\":\"Hard\",\"count\":3,\"share\":75.0,\"texts\":[{\"text\":\"550 5.1.1 <address>: user unknown\",\"count\":2}]},\
             {\"class\":22,\"name\":\"Mailbox Full\",\"category\":\"Soft\",\"count\":1,\"share\":25.0,\"texts\":[{\"text\":\"552 5.2.2 mailbox full\",\"count\":1}]}]}"
        );
    }

    #[test]
    fn a_bouncelog_is_counted_instead_of_the_other_logs() {
        let b = counted(&[
            (b"550 5.1.1 user unknown", ""),
            (b"550 5.1.1 user unknown", BOUNCELOG),
            (b"Automatic reply: away", BOUNCELOG),
        ]);
        let mut j = String::new();
        b.json(&mut j, 20);
        assert!(
            j.starts_with(",\"bounce_classes\":{\"source\":\"bouncelog\",\"bounces\":2,"),
            "{j}"
        );
        assert!(j.contains("\"class\":60,\"name\":\"Auto-Reply\""), "{j}");
        let mut o = String::new();
        BounceClasses::default().text(&mut o, 20, false);
        assert_eq!(o, "\nmessage bounces by class: none\n");
        let mut o = String::new();
        BounceClasses::default().text(&mut o, 20, true);
        assert_eq!(o, "");
        let mut h = String::new();
        BounceClasses::default().html(&mut h, 20);
        assert_eq!(h, "<h2>Bounces by class</h2>\n<p>none</p>\n");
    }
}
