//! Reading a pflogsumm-style report into sections and comparing two of them: every
//! Grand Totals figure, and in every other section the same rows with the same counts in
//! the same order, except that rows of equal count may come in any order (pflogsumm's
//! order of ties is Perl's hash order and changes from run to run).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The corpus of logs written by real Postfix, with pflogsumm's reports.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/postfix")
}

pub const LOGS: [&str; 3] = [
    "maillog.log",
    "syslog-traditional.log",
    "syslog-rfc3339-long-ids.log",
];

/// The title of the report's section that pflogsumm does not print: every bounce in
/// Momentum's bounce classes.
pub const BOUNCE_CLASSES: &str = "message bounces by class";

/// A report's sections: title (the line above a line of dashes; "" for what comes before
/// the first) and its lines (without the dashes, trailing blanks cut).
pub fn sections(report: &str) -> Vec<(String, Vec<String>)> {
    let lines: Vec<&str> = report.lines().map(str::trim_end).collect();
    let mut out: Vec<(String, Vec<String>)> = vec![(String::new(), Vec::new())];
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let under = lines.get(i + 1).copied().unwrap_or("");
        let is_title = !l.trim().is_empty()
            && !l.starts_with(' ')
            && !under.is_empty()
            && under.chars().all(|c| c == '-');
        if is_title {
            out.push((l.to_owned(), Vec::new()));
            i += 2;
        } else if !l.starts_with(' ') && l.ends_with(": none") {
            // pflogsumm's one-line form of an empty section
            out.push((l.to_owned(), Vec::new()));
            i += 1;
        } else {
            out.last_mut().unwrap().1.push(l.to_owned());
            i += 1;
        }
    }
    out
}

/// The count a row starts with (`   27   alice@...`, `  658k  ...`), if any.
pub fn leading_count(line: &str) -> Option<String> {
    let t = line.split_whitespace().next()?;
    let digits = t.trim_end_matches(['k', 'm']);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| t.to_owned())
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A section's lines as a tree by indentation, written out with siblings of equal leading
/// count (consecutive rows that pflogsumm sorted by count) put in one fixed order, so that
/// two reports that differ only in the order of ties give the same text.
pub fn canonical(lines: &[String]) -> Vec<String> {
    fn subtrees(lines: &[String]) -> Vec<Vec<String>> {
        // Splits lines into sibling subtrees: a line with the deeper lines after it.
        let mut out: Vec<Vec<String>> = Vec::new();
        for l in lines {
            let joins = match out.last() {
                Some(t) => {
                    !l.trim().is_empty() && indent(l) > indent(&t[0]) && !t[0].trim().is_empty()
                }
                None => false,
            };
            if joins {
                out.last_mut().unwrap().push(l.clone());
            } else {
                out.push(vec![l.clone()]);
            }
        }
        out
    }
    fn walk(lines: &[String]) -> Vec<String> {
        let trees: Vec<Vec<String>> = subtrees(lines)
            .into_iter()
            .map(|t| {
                let mut v = vec![t[0].clone()];
                v.extend(walk(&t[1..]));
                v
            })
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < trees.len() {
            let key = leading_count(&trees[i][0]);
            let mut j = i + 1;
            if key.is_some() {
                while j < trees.len()
                    && indent(&trees[j][0]) == indent(&trees[i][0])
                    && leading_count(&trees[j][0]) == key
                {
                    j += 1;
                }
            }
            let mut run = trees[i..j].to_vec();
            run.sort();
            out.extend(run.into_iter().flatten());
            i = j;
        }
        out
    }
    walk(lines)
}

/// Grand Totals as label -> figure (`received` -> `86`, `deferred` -> `6 (27 deferrals)`).
pub fn grand_totals(lines: &[String]) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for l in lines {
        let mut w = l.split_whitespace();
        let (Some(n), Some(label)) = (w.next(), w.next()) else {
            continue;
        };
        if leading_count(l).is_none() && !n.contains(':') {
            continue;
        }
        let rest: Vec<&str> = w.collect();
        let (more, extra): (Vec<&str>, Vec<&str>) = rest
            .iter()
            .partition(|s| !s.starts_with('(') && !s.ends_with(')') && !s.ends_with('%'));
        let label = std::iter::once(label)
            .chain(more)
            .collect::<Vec<_>>()
            .join(" ");
        let figure = std::iter::once(n)
            .chain(extra)
            .collect::<Vec<_>>()
            .join(" ");
        m.insert(label, figure);
    }
    m
}

/// Compares our report with pflogsumm's; a message naming every difference.
pub fn differences(ours: &str, theirs: &str) -> Vec<String> {
    let mut a = sections(ours);
    // mtalog's one section that pflogsumm does not have (compared in tests/cli_tools.rs).
    a.retain(|s| s.0.strip_suffix(": none").unwrap_or(&s.0) != BOUNCE_CLASSES);
    let b = sections(theirs);
    let mut diffs = Vec::new();
    let ta: Vec<&String> = a.iter().map(|s| &s.0).collect();
    let tb: Vec<&String> = b.iter().map(|s| &s.0).collect();
    if ta != tb {
        diffs.push(format!("sections: ours {ta:?}\n  pflogsumm's {tb:?}"));
    }
    for (title, theirs_lines) in &b {
        let Some((_, our_lines)) = a.iter().find(|s| &s.0 == title) else {
            continue;
        };
        if title == "Grand Totals" {
            let ga = grand_totals(our_lines);
            let gb = grand_totals(theirs_lines);
            for (label, fig) in &gb {
                if ga.get(label) != Some(fig) {
                    diffs.push(format!(
                        "Grand Totals '{label}': ours {:?}, pflogsumm's {fig:?}",
                        ga.get(label)
                    ));
                }
            }
            for label in ga.keys().filter(|l| !gb.contains_key(*l)) {
                diffs.push(format!("Grand Totals '{label}': only ours has it"));
            }
        }
        let ca = canonical(our_lines);
        let cb = canonical(theirs_lines);
        if ca != cb {
            let first = ca
                .iter()
                .zip(&cb)
                .position(|(x, y)| x != y)
                .unwrap_or(ca.len().min(cb.len()));
            diffs.push(format!(
                "section '{title}': first difference at row {first}:\n  ours:        {:?}\n  pflogsumm's: {:?}",
                ca.get(first),
                cb.get(first)
            ));
        }
    }
    diffs
}
