//! json_logger beside the three classic kinds: the example MTA writes all four at once
//! (and a bouncelog); `mtalog report --json` gives the same grand totals on each, the
//! bouncelog changes none of them, the JSON log's records are whole, in seq order with
//! unique event ids, and pflogsumm on `mtalog convert --to postfix` of the JSON log gives
//! the totals of the Postfix log the library wrote.

mod cli_support;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use cli_support::*;
use serde_json::Value;

const EC: [&str; 3] = ["logs/mainlog.ec", "logs/rejectlog.ec", "logs/paniclog.ec"];
const PF: [&str; 2] = ["logs/postfix/mainlog", "logs/postfix/paniclog"];
const IMTA: [&str; 2] = ["logs/imta/mail.log_current", "logs/imta/imta"];
const JSON: [&str; 1] = ["logs/events.json"];
const BOUNCE: [&str; 1] = ["logs/bouncelog.ec"];

/// The `totals` object of `mtalog report --json FILES`.
fn totals(dir: &Path, files: &[&str]) -> BTreeMap<String, u64> {
    let mut args = vec!["report", "--json"];
    args.extend(files);
    let v: Value = serde_json::from_str(&ok(&args, dir)).expect("report --json is JSON");
    v["totals"]
        .as_object()
        .expect("totals")
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().expect("a count")))
        .collect()
}

/// The records of a JSON log, each parsed by serde_json.
fn records(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    let text = std::fs::read_to_string(path).expect("the JSON log is UTF-8");
    assert!(text.ends_with('\n'), "ends mid-line");
    text.lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(m)) => m,
            other => panic!("not a JSON object ({other:?}): {l}"),
        })
        .collect()
}

#[test]
fn four_kinds_same_totals_and_the_json_log_is_whole() {
    let dir = scratch("json_example");
    let sent = run_example(&dir, 400);
    let all: Vec<(&str, BTreeMap<String, u64>)> = [
        ("ec", &EC[..]),
        ("postfix", &PF[..]),
        ("imta", &IMTA[..]),
        ("json", &JSON[..]),
    ]
    .iter()
    .map(|(name, files)| (*name, totals(&dir, files)))
    .collect();
    let json = &all[3].1;
    assert_eq!(json["received"], sent["receptions"], "{json:?}");
    assert_eq!(json["delivered"], sent["deliveries"], "{json:?}");
    assert_eq!(json["bounced"], sent["bounces"], "{json:?}");
    assert_eq!(json["deferrals"], sent["deferrals"], "{json:?}");
    assert_eq!(json["rejected"], sent["rejections"], "{json:?}");
    for (name, t) in &all {
        // Sun's log (log_connection = 0) has only the rejections after the greeting (so
        // another percentage of rejects), and counts bytes in blocks.
        for (k, v) in t {
            let sun_differs = matches!(
                k.as_str(),
                "rejected" | "rejected_percent" | "bytes_received" | "bytes_delivered"
            );
            if *name != "imta" || !sun_differs {
                assert_eq!(v, &json[k], "{k}: {name} {t:?}, json {json:?}");
            }
        }
    }

    // The bouncelog beside the mainlog counts no bounce twice: the totals stay the
    // mainlog's, and the bounces by class are the bouncelog's, in-band and out-of-band.
    let with_bouncelog = [&EC[..], &BOUNCE[..]].concat();
    assert_eq!(totals(&dir, &with_bouncelog), all[0].1);
    let v: Value = serde_json::from_str(&ok(&["report", "--json", BOUNCE[0]], &dir))
        .expect("report --json is JSON");
    assert_eq!(v["bounce_classes"]["source"], "bouncelog", "{v}");
    assert_eq!(
        v["bounce_classes"]["bounces"].as_u64(),
        Some(sent["bounces"] + sent["out-of-band bounces"]),
        "{v}"
    );

    let out = mtalog(&["check", JSON[0]], &dir);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    let recs = records(&dir.join(JSON[0]));
    let mut ids = HashSet::new();
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["v"], 1);
        assert_eq!(r["logger"], "json_logger1");
        assert_eq!(r["seq"].as_u64(), Some(i as u64 + 1), "{r:?}");
        let id = r["event_id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 32);
        assert!(ids.insert(id), "{r:?}");
        *by_type
            .entry(r["type"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let n = |t: &str| by_type.get(t).copied().unwrap_or(0);
    assert_eq!(n("reception"), sent["receptions"], "{by_type:?}");
    assert_eq!(n("delivery") + n("transfer"), sent["deliveries"]);
    assert_eq!(n("transient_failure"), sent["deferrals"]);
    assert_eq!(n("permanent_failure"), sent["bounces"]);
    assert_eq!(n("rejection"), sent["rejections"]);
    assert_eq!(n("error"), sent["error lines"], "{by_type:?}");
    let known = [
        "reception",
        "delivery",
        "transfer",
        "transient_failure",
        "permanent_failure",
        "rejection",
        "error",
    ];
    assert!(
        by_type.keys().all(|t| known.contains(&t.as_str())),
        "{by_type:?}"
    );
}

#[test]
fn pflogsumm_reads_the_json_log_converted_to_postfix() {
    let Some(pfl) = pflogsumm() else { return };
    let dir = scratch("json_pflogsumm");
    let sent = run_example(&dir, 400);
    let converted = ok(&["convert", "--to", "postfix", JSON[0]], &dir);
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
    let original = run_pflogsumm(&pfl, &[dir.join(PF[0]), dir.join(PF[1])]);
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
        assert_eq!(total(&theirs, label), total(&original, label), "{label}");
    }
    assert_eq!(delivery_rows(&theirs), delivery_rows(&original));
}

#[test]
fn every_format_converts_to_json_and_back_with_the_same_totals() {
    let dir = scratch("json_convert");
    run_example(&dir, 300);
    let want = totals(&dir, &PF);
    for (from, files) in [("ec", &EC[..]), ("postfix", &PF[..]), ("json", &JSON[..])] {
        let mut args = vec!["convert", "--to", "json"];
        args.extend(files);
        let name = format!("{from}-to-json");
        std::fs::write(dir.join(&name), ok(&args, &dir)).unwrap();
        let check = mtalog(&["check", &name], &dir);
        assert!(check.status.success(), "{name}: {}", stdout(&check));
        let got = totals(&dir, &[&name]);
        assert_eq!(got, want, "{name}");
        let recs = records(&dir.join(&name));
        assert!(recs.iter().all(|r| r["logger"] == "convert"));
        for to in ["ec", "postfix", "imta"] {
            let back = format!("{name}-to-{to}");
            std::fs::write(dir.join(&back), ok(&["convert", "--to", to, &name], &dir)).unwrap();
            let t = totals(&dir, &[&back]);
            for k in ["received", "delivered", "deferred", "deferrals", "bounced"] {
                assert_eq!(t[k], want[k], "{back}: {k}");
            }
        }
    }
    // trace finds a message's records in the JSON log by its id.
    let recs = records(&dir.join(JSON[0]));
    let id = recs
        .iter()
        .find(|r| r["type"] == "delivery")
        .and_then(|r| r["id"].as_str())
        .unwrap()
        .to_owned();
    let t = ok(&["trace", &id, JSON[0]], &dir);
    assert!(t.lines().count() >= 2, "{t}");
    assert!(t.lines().all(|l| l.contains(&format!(":\"{id}\""))), "{t}");
}
