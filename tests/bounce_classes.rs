//! The bounce classifier on a corpus of real reply texts (tests/fixtures/bounce_replies.tsv:
//! class, code, text, source). Prints the accuracy per class and overall
//! (`cargo test --test bounce_classes -- --nocapture`) and fails below 95% overall.
//! The texts it misreads are listed in docs/bounce-classes.md.

use std::collections::BTreeMap;

use mtalog::format::bounce::{BounceClass, classify_reply, parse_reply};

const CORPUS: &str = include_str!("fixtures/bounce_replies.tsv");

/// The least overall accuracy accepted.
const MIN_ACCURACY: f64 = 0.95;

struct Row<'a> {
    line: usize,
    class: BounceClass,
    code: Option<u16>,
    text: &'a str,
    source: &'a str,
}

fn rows() -> Vec<Row<'static>> {
    let mut lines = CORPUS.lines().enumerate();
    let (_, header) = lines.next().expect("a header line");
    assert_eq!(header, "class\tcode\ttext\tsource");
    lines
        .map(|(i, l)| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "line {}: four tab-separated columns", i + 1);
            let class = f[0]
                .parse()
                .ok()
                .and_then(BounceClass::from_code)
                .unwrap_or_else(|| panic!("line {}: unknown class {:?}", i + 1, f[0]));
            let code = (!f[1].is_empty()).then(|| {
                f[1].parse()
                    .unwrap_or_else(|_| panic!("line {}: code {:?}", i + 1, f[1]))
            });
            assert!(!f[2].is_empty(), "line {}: empty text", i + 1);
            assert!(!f[3].is_empty(), "line {}: no source", i + 1);
            Row {
                line: i + 1,
                class,
                code,
                text: f[2],
                source: f[3],
            }
        })
        .collect()
}

#[test]
fn the_corpus_is_large_and_real() {
    let rows = rows();
    assert!(rows.len() >= 300, "{} texts", rows.len());
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        assert!(seen.insert(r.text), "line {}: duplicate text", r.line);
    }
    let sources: std::collections::HashSet<&str> = rows.iter().map(|r| r.source).collect();
    assert!(sources.len() >= 20, "{} sources", sources.len());
}

#[test]
fn reply_codes_are_found() {
    for r in rows() {
        if let Some(code) = r.code {
            assert_eq!(
                parse_reply(r.text.as_bytes()).code,
                Some(code),
                "line {}: {}",
                r.line,
                r.text
            );
        }
    }
}

#[test]
fn accuracy_per_class() {
    let rows = rows();
    // class -> (texts, right)
    let mut per: BTreeMap<BounceClass, (usize, usize)> = BTreeMap::new();
    let mut misread = Vec::new();
    for r in &rows {
        let got = classify_reply(r.text.as_bytes());
        let e = per.entry(r.class).or_default();
        e.0 += 1;
        if got == r.class {
            e.1 += 1;
        } else {
            misread.push((r, got));
        }
    }
    println!();
    println!("class  name                         texts  right  accuracy");
    for (class, (n, right)) in &per {
        println!(
            "{:>5}  {:<27}  {:>5}  {:>5}  {:>7.1}%",
            class.code(),
            class.name(),
            n,
            right,
            100.0 * *right as f64 / *n as f64
        );
    }
    let right: usize = per.values().map(|v| v.1).sum();
    let overall = right as f64 / rows.len() as f64;
    println!(
        "  all  {:<27}  {:>5}  {:>5}  {:>7.1}%",
        "",
        rows.len(),
        right,
        100.0 * overall
    );
    if !misread.is_empty() {
        println!("\nmisread (line: expected -> got: text):");
        for (r, got) in &misread {
            println!(
                "  {}: {} -> {}: {}",
                r.line,
                r.class.code(),
                got.code(),
                r.text
            );
        }
    }
    for class in BounceClass::ALL {
        assert!(
            per.contains_key(&class),
            "no text of class {}",
            class.code()
        );
    }
    assert!(
        overall >= MIN_ACCURACY,
        "overall accuracy {:.1}% is below {:.0}%",
        100.0 * overall,
        100.0 * MIN_ACCURACY
    );
}
