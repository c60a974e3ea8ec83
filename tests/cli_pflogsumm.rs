//! `mtalog report` against the real pflogsumm on the same Postfix logs, and
//! `mtalog convert` from ec_logger to Postfix judged by pflogsumm. Without pflogsumm these
//! tests fail when CI=true and are skipped (with a note) otherwise.

mod cli_support;
mod report_support;

use cli_support::*;

/// Totals and per-domain figures of our report equal pflogsumm's.
fn compare(ours: &str, theirs: &str) {
    for label in [
        "received",
        "delivered",
        "deferred",
        "bounced",
        "rejected",
        "bytes received",
        "bytes delivered",
        "senders",
        "sending hosts/domains",
        "recipients",
        "recipient hosts/domains",
    ] {
        let mine = total(ours, label);
        let pfl = total(theirs, label);
        assert_eq!(mine, pfl, "{label}\n{ours}\n{theirs}");
    }
    let deferrals = |r: &str| {
        r.lines()
            .find(|l| l.contains("deferrals)"))
            .and_then(|l| l.split('(').nth(1))
            .and_then(|t| t.split_whitespace().next())
            .unwrap_or("0")
            .to_owned()
    };
    assert_eq!(deferrals(ours), deferrals(theirs));
    let a = delivery_rows(ours);
    let b = delivery_rows(theirs);
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "recipient domains\n{ours}\n{theirs}"
    );
    assert_eq!(a, b, "recipient domains\n{ours}\n{theirs}");
}

#[test]
fn report_equals_pflogsumm_on_the_known_traffic_mix() {
    let Some(pfl) = pflogsumm() else { return };
    let dir = scratch("pfl_mix");
    traffic_postfix(&dir, local_midnight_today(), "");
    let files = [dir.join("mainlog"), dir.join("paniclog")];
    let theirs = run_pflogsumm(&pfl, &files);
    let ours = ok(&["report", "mainlog", "paniclog"], &dir);
    compare(&ours, &theirs);
    assert_eq!(total(&ours, "received"), "20");
    assert_eq!(total(&ours, "rejected"), "4");
}

#[test]
fn report_equals_pflogsumm_on_the_example_mta_day() {
    let Some(pfl) = pflogsumm() else { return };
    let dir = scratch("pfl_example");
    let sent = run_example(&dir, 1500);
    let files = [
        dir.join("logs/postfix/mainlog"),
        dir.join("logs/postfix/paniclog"),
    ];
    let theirs = run_pflogsumm(&pfl, &files);
    let ours = ok(
        &["report", "logs/postfix/mainlog", "logs/postfix/paniclog"],
        &dir,
    );
    compare(&ours, &theirs);
    assert_eq!(total(&ours, "received"), sent["receptions"].to_string());
    assert_eq!(total(&ours, "bounced"), sent["bounces"].to_string());
}

#[test]
fn ec_converted_to_postfix_gives_pflogsumm_the_original_totals() {
    let Some(pfl) = pflogsumm() else { return };
    let dir = scratch("pfl_convert");
    let sent = run_example(&dir, 1500);
    let converted = ok(
        &[
            "convert",
            "--to",
            "postfix",
            "logs/mainlog.ec",
            "logs/rejectlog.ec",
            "logs/paniclog.ec",
        ],
        &dir,
    );
    std::fs::write(dir.join("converted"), &converted).unwrap();
    let theirs = run_pflogsumm(&pfl, &[dir.join("converted")]);
    let n = |label: &str| total(&theirs, label);
    assert_eq!(n("received"), sent["receptions"].to_string(), "{theirs}");
    assert_eq!(n("delivered"), sent["deliveries"].to_string(), "{theirs}");
    assert_eq!(n("bounced"), sent["bounces"].to_string(), "{theirs}");
    assert_eq!(n("rejected"), sent["rejections"].to_string(), "{theirs}");
    let squeezed = theirs.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        squeezed.contains(&format!("({} deferrals)", sent["deferrals"])),
        "{theirs}"
    );
    // The same figures as pflogsumm on the Postfix log the library wrote for that traffic.
    let original = run_pflogsumm(
        &pfl,
        &[
            dir.join("logs/postfix/mainlog"),
            dir.join("logs/postfix/paniclog"),
        ],
    );
    for label in [
        "received",
        "delivered",
        "deferred",
        "bounced",
        "rejected",
        "bytes received",
        "bytes delivered",
        "senders",
        "recipients",
        "recipient hosts/domains",
    ] {
        assert_eq!(total(&theirs, label), total(&original, label), "{label}");
    }
    assert_eq!(delivery_rows(&theirs), delivery_rows(&original));
    // And our own report reads the converted file like the original.
    let ours = ok(&["report", "converted"], &dir);
    compare(&ours, &theirs);
}

#[test]
fn report_equals_pflogsumm_section_by_section_on_the_example_mta_day() {
    // The whole report, not only the totals: every section, row and count, with the
    // options that change what is counted or shown (rows of equal count in any order).
    let Some(pfl) = pflogsumm() else { return };
    let dir = scratch("pfl_example_sections");
    run_example(&dir, 1500);
    for opts in [
        &[][..],
        &["-e"][..],
        &["--smtpd_stats"][..],
        &["--iso_date_time", "--zero_fill"][..],
        &[
            "-i",
            "--problems_first",
            "--rej_add_from",
            "--verbose_msg_detail",
        ][..],
    ] {
        let mut args: Vec<&str> = opts.to_vec();
        args.extend(["logs/postfix/mainlog", "logs/postfix/paniclog"]);
        let out = std::process::Command::new(&pfl)
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success());
        let theirs = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut ours_args = vec!["report", "--no-progress"];
        ours_args.extend(&args);
        let ours = ok(&ours_args, &dir);
        let d = report_support::differences(&ours, &theirs);
        assert!(d.is_empty(), "{opts:?}:\n{}", d.join("\n"));
        assert!(ours.len() > 2000, "{ours}");
    }
}
