//! `mtalog report` on every log of the corpus written by real Postfix
//! (`tests/corpus/postfix/`), compared with the report the real pflogsumm printed for it
//! (committed next to the log), section by section (see `report_support`).

mod cli_support;
mod report_support;

use cli_support::*;
use report_support::*;

/// (suffix of the committed report, options given to both programs)
const VARIANTS: [(&str, &[&str]); 4] = [
    ("", &[]),
    ("-e", &["-e"]),
    ("-smtpd", &["--smtpd_stats"]),
    ("-smtpd-e", &["--smtpd_stats", "-e"]),
];

fn report(log: &str, opts: &[&str]) -> String {
    let mut args = vec!["report", "--no-progress"];
    args.extend(opts);
    args.push(log);
    ok(&args, &corpus())
}

#[test]
fn report_equals_pflogsumm_on_every_corpus_log() {
    let mut compared = 0;
    let mut all = Vec::new();
    for log in LOGS {
        for (suffix, opts) in VARIANTS {
            let theirs =
                std::fs::read_to_string(corpus().join(format!("{log}.pflogsumm{suffix}"))).unwrap();
            let ours = report(log, opts);
            for d in differences(&ours, &theirs) {
                all.push(format!("{log} {opts:?}: {d}"));
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 12);
    assert!(all.is_empty(), "{}", all.join("\n"));
}

#[test]
fn the_grand_totals_of_the_corpus_are_the_ones_its_readme_lists() {
    // The figures of the corpus README, read from our report: a check that the
    // comparison above looks at these labels at all.
    for log in LOGS {
        let ours = report(log, &[]);
        let s = sections(&ours);
        let g = grand_totals(&s.iter().find(|s| s.0 == "Grand Totals").unwrap().1);
        for (label, fig) in [
            ("received", "86"),
            ("delivered", "120"),
            ("forwarded", "19"),
            ("bounced", "6"),
            ("rejected", "25 (16%)"),
            ("reject warnings", "5"),
            ("held", "3"),
            ("discarded", "3 (2%)"),
            ("senders", "8"),
            ("sending hosts/domains", "4"),
            ("recipients", "22"),
            ("recipient hosts/domains", "7"),
        ] {
            assert_eq!(g.get(label).map(String::as_str), Some(fig), "{log} {label}");
        }
        let deferred = if log == "maillog.log" {
            "6 (27 deferrals)"
        } else {
            "6 (25 deferrals)"
        };
        assert_eq!(g["deferred"], deferred, "{log}");
        let bytes = match log {
            "maillog.log" => "390826",
            "syslog-traditional.log" => "390824",
            _ => "391151",
        };
        assert_eq!(g["bytes received"], bytes, "{log}");
    }
}

#[test]
fn the_comparison_sees_a_changed_count_and_ignores_only_the_order_of_ties() {
    let theirs = std::fs::read_to_string(corpus().join("maillog.log.pflogsumm-smtpd-e")).unwrap();
    assert!(differences(&theirs, &theirs).is_empty());
    // Two rows of equal count swapped: the same report.
    let swapped = theirs.replace(
        "      0        0        6     0.0 s    3.5 m  nosuch.example\n      0        0        6     0.0 s    3.6 m  tempfail.example\n",
        "      0        0        6     0.0 s    3.6 m  tempfail.example\n      0        0        6     0.0 s    3.5 m  nosuch.example\n",
    );
    assert!(swapped != theirs);
    assert!(differences(&swapped, &theirs).is_empty());
    // Rows of different counts swapped: a difference.
    let reordered = theirs.replace(
        "     46   201831        0     1.8 s   43.0 s  example.test\n     35   185606        0     0.0 s    0.1 s  accept.example\n",
        "     35   185606        0     0.0 s    0.1 s  accept.example\n     46   201831        0     1.8 s   43.0 s  example.test\n",
    );
    assert!(reordered != theirs);
    assert_eq!(differences(&reordered, &theirs).len(), 1);
    // A count changed, in a section and in Grand Totals.
    for (from, to) in [
        (
            "      2   news@shady.example",
            "      3   news@shady.example",
        ),
        ("      3   held", "      4   held"),
        ("     25   rejected (16%)", "     25   rejected (17%)"),
        ("    658k  bytes delivered", "    659k  bytes delivered"),
        ("           1   pipeline.example\n", ""),
    ] {
        let changed = theirs.replacen(from, to, 1);
        assert!(changed != theirs, "{from}");
        assert!(!differences(&changed, &theirs).is_empty(), "{from} -> {to}");
    }
    // A tied group moved with its children: the whole subtree follows its line.
    let a = "  x (total: 1)\n         1   a\n  y (total: 1)\n         1   b\n";
    let b = "  y (total: 1)\n         1   b\n  x (total: 1)\n         1   a\n";
    let wrap = |s: &str| format!("T\n-\n{s}");
    assert!(!differences(&wrap(a), &wrap(b)).is_empty());
    let a = "      1   p\n        x\n      1   q\n        y\n";
    let b = "      1   q\n        y\n      1   p\n        x\n";
    assert!(differences(&wrap(a), &wrap(b)).is_empty());
    let c = "      1   q\n        x\n      1   p\n        y\n";
    assert!(!differences(&wrap(a), &wrap(c)).is_empty());
}

#[test]
fn every_cut_of_every_corpus_line_is_read_without_a_crash() {
    // Logs end mid-line (a full disk, a copy taken while written): every line of the
    // corpus cut at every byte is read by report (text, -e and --smtpd_stats), convert
    // and trace without a crash; a cut line is counted or left out, never fatal.
    let dir = scratch("corpus_cuts");
    let mut cuts = String::new();
    let mut n = 0;
    for log in LOGS {
        let text = std::fs::read_to_string(corpus().join(log)).unwrap();
        for l in text.lines() {
            for end in (1..=l.len()).filter(|e| l.is_char_boundary(*e)) {
                cuts.push_str(&l[..end]);
                cuts.push('\n');
                n += 1;
            }
        }
    }
    assert!(n > 300_000, "{n}");
    std::fs::write(dir.join("cuts.log"), &cuts).unwrap();
    for args in [
        &["report", "--no-progress", "cuts.log"][..],
        &["report", "--no-progress", "-e", "--smtpd_stats", "cuts.log"][..],
        &["report", "--no-progress", "--json", "cuts.log"][..],
        &["report", "--no-progress", "--html", "cuts.log"][..],
        &["convert", "--no-progress", "--to", "ec", "cuts.log"][..],
        &["trace", "110129942F9", "--no-progress", "cuts.log"][..],
    ] {
        let o = mtalog(args, &dir);
        assert!(
            o.status.success(),
            "{args:?}: {:?} {}",
            o.status,
            &stderr(&o)[..stderr(&o).len().min(2000)]
        );
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}
