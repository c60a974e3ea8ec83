//! pflogsumm's command line given to `mtalog report` means what it means to pflogsumm: each
//! option is run through both programs (the real pflogsumm, live) on logs of the corpus
//! written by real Postfix, and the reports compared section by section (see
//! `report_support`; rows of equal count may differ in order, as pflogsumm's own do).
//! Without pflogsumm these tests fail when CI=true and are skipped (with a note)
//! otherwise. Also: every command's `--help`, `--mailq`, and options that are refused.

mod cli_support;
mod report_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use cli_support::*;
use report_support::*;

/// pflogsumm ARGS in `dir`; its standard output.
fn pfl_in(pfl: &Path, args: &[&str], dir: &Path) -> String {
    let out = Command::new(pfl)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pflogsumm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `mtalog report ARGS` and `pflogsumm ARGS` on the same files in `dir` give the same
/// report.
fn same_as_pflogsumm(pfl: &Path, args: &[&str], dir: &Path) -> String {
    let theirs = pfl_in(pfl, args, dir);
    let mut ours_args = vec!["report", "--no-progress"];
    ours_args.extend(args);
    let ours = ok(&ours_args, dir);
    let d = differences(&ours, &theirs);
    assert!(
        d.is_empty(),
        "{args:?}:\n{}\n--- ours\n{ours}\n--- pflogsumm's\n{theirs}",
        d.join("\n")
    );
    ours
}

/// Option sets whose lists are cut where no two rows of equal count straddle the cut (at
/// such a cut pflogsumm keeps a row chosen by hash order, so no fixed answer exists).
const OPTION_SETS: &[&[&str]] = &[
    &["-h", "3"],
    &["-u", "2"],
    &["-h", "0", "-u", "0"],
    &["--detail", "0"],
    &["--detail", "0", "-h", "3"],
    &["--bounce_detail", "1"],
    &["--bounce-detail", "0"],
    &["--deferral_detail", "0"],
    &["--deferral_detail", "5"],
    &["--reject_detail", "0"],
    &["--reject_detail", "3"],
    &["--smtp_detail", "0"],
    &["--smtpd_warning_detail", "0"],
    &["--smtpd_warning_detail", "4"],
    &["--no_bounce_detail"],
    &["--no_deferral_detail"],
    &["--no_reject_detail"],
    &["--no_smtpd_warnings"],
    &["--no_no_msg_size"],
    &["-i"],
    &["--ignore_case"],
    &["--iso_date_time"],
    &["--problems_first"],
    &["--rej_add_from"],
    &["-e", "--verbose_msg_detail"],
    &["-e", "--rej_add_from", "--problems_first"],
    &["--zero_fill"],
    &["-q"],
    &["-q", "--detail", "0"],
    &["--smtpd_stats", "--zero_fill", "-h", "1"],
    &["--smtpd-stats", "-e", "--no-reject-detail", "-u", "1"],
];

#[test]
fn every_option_means_what_it_means_to_pflogsumm() {
    let Some(pfl) = pflogsumm() else { return };
    let mut runs = 0;
    for opts in OPTION_SETS {
        for log in LOGS {
            let mut args = opts.to_vec();
            args.push(log);
            same_as_pflogsumm(&pfl, &args, &corpus());
            runs += 1;
        }
    }
    assert_eq!(runs, OPTION_SETS.len() * 3);
}

#[test]
fn detail_0_and_h_3_give_exactly_pflogsumms_text() {
    // Where no tie is left in a list, the text is the same byte for byte.
    let Some(pfl) = pflogsumm() else { return };
    for args in [
        &["-h", "3", "--detail", "0", "maillog.log"][..],
        &["--detail", "0", "syslog-traditional.log"][..],
    ] {
        let mut a = vec!["report", "--no-progress"];
        a.extend(args);
        assert_eq!(ok(&a, &corpus()), pfl_in(&pfl, args, &corpus()), "{args:?}");
    }
    // What -h 3 and --detail 0 leave: three rows per host list, no detail section.
    let ours = ok(
        &["report", "-h", "3", "--detail", "0", "maillog.log"],
        &corpus(),
    );
    let s = sections(&ours);
    let rows = |title: &str| -> Vec<String> {
        s.iter()
            .find(|x| x.0 == title)
            .unwrap_or_else(|| panic!("no '{title}' in\n{ours}"))
            .1
            .iter()
            .filter(|l| leading_count(l).is_some())
            .cloned()
            .collect()
    };
    assert_eq!(
        rows("Host/Domain Summary: Message Delivery (top 3)"),
        [
            "     46   201831        0     1.8 s   43.0 s  example.test",
            "     35   185606        0     0.0 s    0.1 s  accept.example",
            "     23   154839        0     0.0 s    0.0 s  partner.example",
        ]
    );
    assert!(!ours.contains("Senders by message count"), "{ours}");
    assert!(!ours.contains("message reject detail\n"), "{ours}");
}

/// `text` with every queue ID (10 to 12 upper-case hex digits standing alone) given
/// another first character, one that no queue ID of Postfix has (`0` to `F` become `G`
/// to `V`): the same messages under other IDs.
fn other_ids(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let is_id = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
    let alnum = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_alphanumeric());
    let mut i = 0;
    while i < b.len() {
        let mut j = i;
        while j < b.len() && is_id(b[j]) {
            j += 1;
        }
        if (10..=12).contains(&(j - i)) && (i == 0 || !alnum(i - 1)) && !alnum(j) {
            let c = b[i];
            let v = if c.is_ascii_digit() {
                c - b'0'
            } else {
                c - b'A' + 10
            };
            out[i] = b'G' + v;
        }
        i = j.max(i + 1);
    }
    String::from_utf8(out).unwrap()
}

/// The traditional corpus log with its day (`Dec  7`) replaced: once dated `first`, then
/// again dated `second` with other queue IDs (a queue ID is one message for the whole of
/// a pflogsumm run, see docs/command.md).
fn two_days(dir: &Path, first: &str, second: &str) -> PathBuf {
    let log = std::fs::read_to_string(corpus().join("syslog-traditional.log")).unwrap();
    let day = &log[..6];
    let mut t = String::new();
    for (d, text) in [(first, log.clone()), (second, other_ids(&log))] {
        for l in text.lines() {
            t.push_str(d);
            t.push_str(l.strip_prefix(day).unwrap());
            t.push('\n');
        }
    }
    let p = dir.join("two-days.log");
    std::fs::write(&p, t).unwrap();
    p
}

/// `Mmm dd` (day space-padded) of now minus `days_back` days, local time.
fn syslog_day(days_back: i64) -> String {
    let out = Command::new("date")
        .arg(format!("--date=-{days_back} days"))
        .arg("+%b %e")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

#[test]
fn d_today_and_yesterday_keep_the_lines_of_that_day() {
    let Some(pfl) = pflogsumm() else { return };
    let dir = scratch("report_days");
    let (yesterday, today) = (syslog_day(1), syslog_day(0));
    two_days(&dir, &yesterday, &today);
    for day in ["today", "yesterday"] {
        let ours = same_as_pflogsumm(&pfl, &["-d", day, "two-days.log"], &dir);
        assert!(ours.contains("\n     86   received\n"), "{ours}");
    }
    // Both days: every message twice, a per-day table and the per-hour daily average.
    for opts in [&[][..], &["--iso_date_time"][..], &["--zero_fill"][..]] {
        let mut args = opts.to_vec();
        args.push("two-days.log");
        let ours = same_as_pflogsumm(&pfl, &args, &dir);
        assert!(ours.contains("\n    172   received\n"), "{ours}");
        assert!(ours.contains("Per-Day Traffic Summary"), "{ours}");
        assert!(ours.contains("Per-Hour Traffic Daily Average"), "{ours}");
    }
    let ours = ok(
        &["report", "-d", "today", "--detail", "0", "two-days.log"],
        &dir,
    );
    assert!(!ours.contains("Per-Day Traffic Summary"), "{ours}");
    // A day with no line: an empty report, as pflogsumm gives.
    two_days(&dir, &syslog_day(3), &syslog_day(2));
    same_as_pflogsumm(&pfl, &["-d", "today", "two-days.log"], &dir);
    let ours = ok(&["report", "-d", "today", "two-days.log"], &dir);
    assert!(ours.contains("\n      0   received\n"), "{ours}");
}

#[test]
fn syslog_name_reads_another_instances_lines() {
    let Some(pfl) = pflogsumm() else { return };
    let dir = scratch("report_syslog_name");
    let log = std::fs::read_to_string(corpus().join("maillog.log")).unwrap();
    std::fs::write(dir.join("other.log"), log.replace(" postfix/", " mailout/")).unwrap();
    let named = same_as_pflogsumm(&pfl, &["--syslog_name", "mailout", "other.log"], &dir);
    same_as_pflogsumm(&pfl, &["--syslog-name=mailout", "other.log"], &dir);
    assert!(named.contains("\n     86   received\n"), "{named}");
    // Without it the lines are someone else's: nothing counted.
    let plain = same_as_pflogsumm(&pfl, &["other.log"], &dir);
    assert!(plain.contains("\n      0   received\n"), "{plain}");
}

#[test]
fn mailq_runs_mailq_after_the_report_and_fails_without_it() {
    let dir = scratch("report_mailq");
    std::fs::copy(corpus().join("maillog.log"), dir.join("maillog.log")).unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let run = |path: &Path| {
        Command::new(env!("CARGO_BIN_EXE_mtalog"))
            .args(["report", "--mailq", "--detail", "0", "maillog.log"])
            .current_dir(&dir)
            .env("PATH", path)
            .output()
            .unwrap()
    };
    // No mailq to run: the report, then a message and exit status 1.
    let o = run(&bin);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("\n     86   received\n"));
    assert!(
        stderr(&o).starts_with("mtalog: --mailq: cannot run mailq: "),
        "{}",
        stderr(&o)
    );
    // A mailq: its output under pflogsumm's heading.
    let mailq = bin.join("mailq");
    std::fs::write(&mailq, "#!/bin/sh\necho 'Mail queue is empty'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&mailq, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = run(&bin);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).ends_with("\nCurrent Mail Queue\n------------------\nMail queue is empty\n"),
        "{}",
        stdout(&o)
    );
    // A mailq that fails: its status is reported.
    std::fs::write(
        &mailq,
        "#!/bin/sh\necho 'postqueue: fatal: no queue' >&2\nexit 69\n",
    )
    .unwrap();
    let o = run(&bin);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("mtalog: --mailq: mailq failed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_command_prints_its_usage_with_help() {
    let dir = scratch("report_help");
    for (cmd, first) in [
        (
            "report",
            "usage: mtalog report [-d today|yesterday|YYYY-MM-DD]",
        ),
        ("trace", "usage: mtalog trace ID"),
        ("convert", "usage: mtalog convert --to postfix|ec|imta|json"),
        ("check", "usage: mtalog check"),
        (
            "ctl",
            "usage: mtalog ctl [--timeout SECONDS] SOCKET COMMAND...",
        ),
    ] {
        // ctl's words after the socket are the console command's, so only before it.
        let second = if cmd == "ctl" {
            vec![cmd, "--help", "x.sock"]
        } else {
            vec![cmd, "x.log", "--help"]
        };
        for args in [vec![cmd, "--help"], second] {
            let o = mtalog(&args, &dir);
            assert!(o.status.success(), "{args:?}: {}", stderr(&o));
            assert!(stdout(&o).starts_with(first), "{args:?}: {}", stdout(&o));
            assert_eq!(stderr(&o), "", "{args:?}");
        }
    }
    let o = mtalog(&["--help"], &dir);
    assert!(stdout(&o).starts_with("usage:\n  mtalog report"));
    // report's usage names every pflogsumm option.
    let u = ok(&["report", "--help"], &dir);
    for opt in [
        "-d today|yesterday",
        "[-e]",
        "[-h N]",
        "[-u N]",
        "-i|--ignore_case",
        "--iso_date_time",
        "--mailq",
        "--problems_first",
        "--rej_add_from",
        "--verbose_msg_detail",
        "--zero_fill",
        "--detail N",
        "--bounce_detail N",
        "--deferral_detail N",
        "--reject_detail N",
        "--smtp_detail N",
        "--smtpd_warning_detail N",
        "--no_bounce_detail",
        "--no_deferral_detail",
        "--no_reject_detail",
        "--no_smtpd_warnings",
        "--no_no_msg_size",
        "--smtpd_stats",
        "[-q]",
        "--syslog_name NAME",
    ] {
        assert!(u.contains(opt), "{opt} not in\n{u}");
    }
}

#[test]
fn bad_options_are_refused_with_a_reason() {
    let dir = scratch("report_bad_opts");
    for (args, msg) in [
        (
            &["report", "-h", "x"][..],
            "mtalog: -h wants a number, not 'x'",
        ),
        (
            &["report", "--detail"][..],
            "mtalog: --detail needs a value",
        ),
        (
            &["report", "-d", "monday"][..],
            "mtalog: -d wants today, yesterday or YYYY-MM-DD, not 'monday'",
        ),
        (
            &["report", "--no_such_thing"][..],
            "mtalog: unknown option '--no_such_thing'",
        ),
        (
            &["report", "-m"][..],
            "mtalog: -m (pflogsumm's address munging) is not supported",
        ),
        (
            &["report", "--verp_mung"][..],
            "mtalog: --verp_mung (pflogsumm's address munging) is not supported",
        ),
    ] {
        let o = mtalog(args, &dir);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).starts_with(msg), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{args:?}");
    }
}

#[test]
fn a_day_with_deliveries_only_has_pflogsumms_short_per_day_row() {
    // pflogsumm prints a day's row up to its last column that was counted: a day with
    // deliveries only shows two figures (received 0, delivered N), not five.
    let Some(pfl) = pflogsumm() else { return };
    let dir = scratch("report_short_day_row");
    let log = std::fs::read_to_string(corpus().join("syslog-traditional.log")).unwrap();
    let day = &log[..6];
    let (first, second) = (syslog_day(1), syslog_day(0));
    let mut t = String::new();
    for l in log.lines() {
        t.push_str(&format!("{first}{}\n", l.strip_prefix(day).unwrap()));
    }
    for l in other_ids(&log)
        .lines()
        .filter(|l| l.contains(", status=sent "))
    {
        t.push_str(&format!("{second}{}\n", l.strip_prefix(day).unwrap()));
    }
    std::fs::write(dir.join("short.log"), t).unwrap();
    let ours = same_as_pflogsumm(&pfl, &["--detail", "0", "short.log"], &dir);
    let row = ours
        .lines()
        .skip_while(|l| !l.starts_with("Per-Day Traffic Summary"))
        .nth(5)
        .unwrap();
    assert_eq!(row.split_whitespace().count(), 3 + 2, "{row:?}");
    assert!(row.trim_end().ends_with("         0        120"), "{row:?}");
    // --zero_fill sets the last column of every day: five figures.
    let filled = same_as_pflogsumm(&pfl, &["--detail", "0", "--zero_fill", "short.log"], &dir);
    let row = filled
        .lines()
        .skip_while(|l| !l.starts_with("Per-Day Traffic Summary"))
        .nth(5)
        .unwrap();
    assert_eq!(row.split_whitespace().count(), 3 + 5, "{row:?}");
}
