//! postfix_logger through the C ABI, judged by the real pflogsumm: a C program
//! (c_tests/traffic_postfix.c) dlopens the library and logs a known traffic mix; pflogsumm's
//! report must show exactly that traffic. Without pflogsumm the test fails when CI=true and
//! is skipped (with a note) otherwise.

mod support;

use support::{
    assert_traffic_report, local_midnight_today, pflogsumm, run_pflogsumm, scratch, traffic_postfix,
};

#[test]
fn pflogsumm_counts_the_traffic_sent_through_the_c_abi() {
    let Some(pfl) = pflogsumm() else { return };
    let tmp = scratch("postfix_pflogsumm");
    traffic_postfix(&tmp, local_midnight_today(), "");
    let report = run_pflogsumm(&pfl, &[tmp.join("mainlog"), tmp.join("paniclog")]);
    assert_traffic_report(&report);
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
}
