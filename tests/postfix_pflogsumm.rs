//! postfix_logger through the C ABI, judged by the real pflogsumm: a C program
//! (c_tests/traffic_postfix.c) dlopens the library and logs a known traffic mix; pflogsumm's
//! report must show exactly that traffic. Without pflogsumm the test fails when CI=true and
//! is skipped (with a note) otherwise.

mod support;

use support::{local_midnight_today, pflogsumm, run_pflogsumm, scratch, traffic_postfix};

fn total(report: &str, label: &str) -> u64 {
    report
        .lines()
        .find_map(|l| {
            let t = l.trim();
            let (num, rest) = t.split_once(char::is_whitespace)?;
            rest.trim_start().starts_with(label).then(|| {
                let n = num.trim_end_matches('k');
                n.parse::<u64>().unwrap() * if num.ends_with('k') { 1024 } else { 1 }
            })
        })
        .unwrap_or_else(|| panic!("no '{label}' line in the report:\n{report}"))
}

#[test]
fn pflogsumm_counts_the_traffic_sent_through_the_c_abi() {
    let Some(pfl) = pflogsumm() else { return };
    let tmp = scratch("postfix_pflogsumm");
    traffic_postfix(&tmp, local_midnight_today());
    let report = run_pflogsumm(&pfl, &[tmp.join("mainlog"), tmp.join("paniclog")]);
    assert_eq!(total(&report, "received"), 20, "{report}");
    assert_eq!(total(&report, "delivered"), 16, "{report}");
    assert_eq!(total(&report, "deferred"), 4, "{report}");
    assert_eq!(total(&report, "bounced"), 4, "{report}");
    assert_eq!(total(&report, "rejected"), 4, "{report}");
    let received: u64 = (0..20).map(|i| 1000 + i).sum();
    let delivered: u64 = (0..20).filter(|i| i % 5 != 0).map(|i| 1000 + i).sum();
    assert_eq!(total(&report, "bytes received"), received, "{report}");
    assert_eq!(total(&report, "bytes delivered"), delivered, "{report}");
    // Per recipient domain: delivered counts (d0: i in {3,6,9,12,15,18}: 6 minus bounces 15 → 5...).
    for d in 0..3u64 {
        let sent = (0..20u64).filter(|i| i % 3 == d && i % 5 != 0).count();
        let line = report
            .lines()
            .skip_while(|l| !l.starts_with("Host/Domain Summary: Message Delivery"))
            .find(|l| l.trim_end().ends_with(&format!("d{d}.example")))
            .unwrap_or_else(|| panic!("no delivery summary for d{d}.example:\n{report}"));
        let first: u64 = line.split_whitespace().next().unwrap().parse().unwrap();
        assert_eq!(first, sent as u64, "d{d}.example: {line}");
    }
    // Per-hour traffic: one reception in each of the first 20 hours.
    let hours: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.starts_with("Per-Hour Traffic"))
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains('-'))
        .take(24)
        .collect();
    assert_eq!(hours.len(), 24, "{report}");
    for (h, line) in hours.iter().enumerate() {
        let received: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(received, u64::from(h < 20), "hour {h}: {line}");
    }
}
