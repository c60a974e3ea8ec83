//! The documents against what they describe.
//!
//! - The README's host is `examples_c/minimal_host.c`, byte for byte (make test builds and
//!   runs that file).
//! - Every example output in README.md and docs/*.md marked with [`EXAMPLE_MARK`] is what a
//!   fresh run of `make example`'s simulation writes: each `$ COMMAND` of such a block runs
//!   in a scratch directory holding that run's `logs/` (with `TZ=UTC`, the `mtalog` command
//!   and pflogsumm on the PATH), and its output, standard error included, must be the lines
//!   after it. In the shown lines, a line that starts with `...` stands for any number of
//!   lines, and a line that ends with `...` for any line that starts with the rest. A
//!   `$ cat FILE` of a file the run does not have writes FILE with the lines shown, so an
//!   example can bring its own input.
//! - The example is the same with 1 and with 4 threads, and every file is in time order.
//! - Every docs/*.md opens with a contents list of its sections, and every relative link
//!   in the documents leads to a file and, with `#anchor`, to a heading there.

mod cli_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cli_support::*;

/// The line before a fenced block of example output that tests check.
const EXAMPLE_MARK: &str = "<!-- make example: checked by tests/docs.rs -->";
/// The line before the README's copy of examples_c/minimal_host.c.
const HOST_MARK: &str = "<!-- examples_c/minimal_host.c: checked by tests/docs.rs -->";

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// README.md, then docs/*.md by name: (relative path, text).
fn documents() -> Vec<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    names.sort();
    names.insert(0, "README.md".into());
    names.into_iter().map(|n| (n.clone(), read(&n))).collect()
}

/// The fenced blocks right after a `mark` line: (line number of the mark, block text with
/// a newline after each line).
fn marked_blocks(text: &str, mark: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if *l != mark {
            continue;
        }
        let open = lines.get(i + 1).copied().unwrap_or("");
        assert!(
            open.starts_with("```"),
            "line {}: no ``` after the mark",
            i + 1
        );
        let mut block = String::new();
        let mut k = i + 2;
        while k < lines.len() && lines[k] != "```" {
            block.push_str(lines[k]);
            block.push('\n');
            k += 1;
        }
        assert!(k < lines.len(), "line {}: the block does not end", i + 1);
        out.push((i + 1, block));
    }
    out
}

#[test]
fn the_readme_shows_the_minimal_host_as_it_is() {
    let readme = read("README.md");
    let blocks = marked_blocks(&readme, HOST_MARK);
    assert_eq!(blocks.len(), 1, "one marked host in the README");
    let file = read("examples_c/minimal_host.c");
    assert!(
        blocks[0].1 == file,
        "README.md line {}: the block differs from examples_c/minimal_host.c; copy the file \
         into the README as it is",
        blocks[0].0
    );
}

// ---------------------------------------------------------------------------------------
// The example run

/// `EXAMPLE_START` of the Makefile, and a check that `make example` uses it in UTC.
fn example_start() -> String {
    let mk = read("Makefile");
    let start = mk
        .lines()
        .find_map(|l| l.strip_prefix("EXAMPLE_START = "))
        .expect("EXAMPLE_START in the Makefile")
        .trim()
        .to_owned();
    assert!(
        mk.contains("TZ=UTC examples_c/mta_sim -t $(EXAMPLE_START) -c examples_c/mtalog.conf"),
        "make example runs the simulator on its fixed day, in UTC"
    );
    start
}

/// Runs the example as `make example` does, in a fresh `dir`, with `threads` threads.
fn run_example_day(dir: &Path, threads: &str) {
    let _ = std::fs::remove_dir_all(dir);
    for d in ["logs/postfix", "logs/imta"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let out = Command::new(mta_sim())
        .current_dir(dir)
        .env("TZ", "UTC")
        .args(["-t", &example_start(), "-j", threads, "-c"])
        .arg(root().join("examples_c/mtalog.conf"))
        .arg("-l")
        .arg(cdylib())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mta_sim: {}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// The example's log files, relative to the run's directory.
const LOGS: [&str; 9] = [
    "logs/mainlog.ec",
    "logs/rejectlog.ec",
    "logs/paniclog.ec",
    "logs/acctlog.ec",
    "logs/bouncelog.ec",
    "logs/postfix/mainlog",
    "logs/postfix/paniclog",
    "logs/imta/mail.log_current",
    "logs/imta/imta",
];

/// The service log without what is not the simulation's: its first line (`Log created`,
/// the real time) and each line's host name and process id.
fn service_log_lines(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .map(|l| {
            let (stamp, rest) = l.split_once("] ").unwrap();
            let (_host_pid, msg) = rest.split_once("]: ").unwrap();
            format!("{stamp}] {msg}")
        })
        .collect()
}

#[test]
fn the_example_is_the_same_whatever_the_threads() {
    let (one, four) = (scratch("docs_j1"), scratch("docs_j4"));
    run_example_day(&one, "1");
    run_example_day(&four, "4");
    for f in LOGS {
        let (a, b) = (
            std::fs::read_to_string(one.join(f)).unwrap(),
            std::fs::read_to_string(four.join(f)).unwrap(),
        );
        if f == "logs/imta/imta" {
            assert_eq!(service_log_lines(&a), service_log_lines(&b), "{f}");
        } else {
            assert!(a == b, "{f} differs between -j 1 and -j 4");
        }
    }
    let main = std::fs::read_to_string(one.join("logs/mainlog.ec")).unwrap();
    assert!(main.lines().count() > 20_000, "a day of mail");
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(m: &str) -> u64 {
    MONTHS.iter().position(|x| *x == m).expect("a month") as u64 + 1
}

fn num(s: &str) -> u64 {
    s.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// A line's time as a number that sorts like the time (`YYYYMMDDhhmmsscc` or Unix
/// seconds; one file uses one of them).
fn line_time(file: &str, line: &str) -> u64 {
    let ymd = |y: u64, mo: u64, d: u64, h: u64, mi: u64, s: u64, cs: u64| {
        ((((((y * 100 + mo) * 100 + d) * 100 + h) * 100 + mi) * 100 + s) * 100) + cs
    };
    if file.ends_with(".ec") {
        let end = line.find(|c: char| !c.is_ascii_digit()).unwrap();
        num(&line[..end])
    } else if file.starts_with("logs/postfix/") {
        // `Nov 23 00:00:20` (the example's day is in one year)
        let (mo, day, t) = (&line[0..3], &line[4..6], &line[7..15]);
        ymd(
            0,
            month(mo),
            num(day),
            num(&t[0..2]),
            num(&t[3..5]),
            num(&t[6..8]),
            0,
        )
    } else if file.ends_with("mail.log_current") {
        // `23-Nov-2026 00:00:20.67`
        let t = &line[12..23];
        ymd(
            num(&line[7..11]),
            month(&line[3..6]),
            num(&line[0..2]),
            num(&t[0..2]),
            num(&t[3..5]),
            num(&t[6..8]),
            num(&t[9..11]),
        )
    } else {
        // `[23/Nov/2026:00:00:20 +0000]`
        ymd(
            num(&line[8..12]),
            month(&line[4..7]),
            num(&line[1..3]),
            num(&line[13..15]),
            num(&line[16..18]),
            num(&line[19..21]),
            0,
        )
    }
}

#[test]
fn every_file_of_the_example_is_in_time_order() {
    let dir = scratch("docs_order");
    run_example_day(&dir, "4");
    for f in LOGS {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        // The service log's first line is `Log created`, at the real time.
        let skip = usize::from(f == "logs/imta/imta");
        let mut last = (0, 0);
        for (i, l) in text.lines().enumerate().skip(skip) {
            let t = line_time(f, l);
            assert!(
                t >= last.1,
                "{f}:{}: back in time after line {}:\n{l}",
                i + 1,
                last.0
            );
            last = (i + 1, t);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The example outputs in the documents

fn is_gap(shown: &str) -> bool {
    shown.trim_start().starts_with("...")
}

fn line_matches(shown: &str, real: &str) -> bool {
    match shown.strip_suffix("...") {
        Some(prefix) if !prefix.is_empty() => real.starts_with(prefix),
        _ => shown == real,
    }
}

fn lines_match(shown: &[&str], real: &[&str]) -> bool {
    match shown.split_first() {
        None => real.is_empty(),
        Some((s, rest)) if is_gap(s) => (0..=real.len()).any(|k| lines_match(rest, &real[k..])),
        Some((s, rest)) => match real.split_first() {
            Some((r, real_rest)) => line_matches(s, r) && lines_match(rest, real_rest),
            None => false,
        },
    }
}

/// The `$ COMMAND` lines of a block, each with the lines shown after it.
fn commands(block: &str) -> Vec<(String, Vec<&str>)> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for l in block.lines() {
        if let Some(c) = l.strip_prefix("$ ") {
            out.push((c.to_owned(), Vec::new()));
        } else {
            out.last_mut()
                .expect("an example block starts with a `$ ` command")
                .1
                .push(l);
        }
    }
    out
}

#[test]
fn the_example_outputs_in_the_documents_are_a_fresh_run() {
    let dir = scratch("docs_examples");
    run_example_day(&dir, "4");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_mtalog"));
    let mut path = vec![bin.parent().unwrap().to_path_buf()];
    let pfl = pflogsumm();
    if let Some(p) = &pfl {
        path.push(p.parent().unwrap().to_path_buf());
    }
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).unwrap();

    let mut checked = BTreeMap::new();
    for (name, text) in documents() {
        for (at, block) in marked_blocks(&text, EXAMPLE_MARK) {
            for (cmd, shown) in commands(&block) {
                if pfl.is_none() && cmd.contains("pflogsumm") {
                    eprintln!("{name}:{at}: `{cmd}` not checked (no pflogsumm)");
                    continue;
                }
                if let Some(file) = cmd.strip_prefix("cat ")
                    && !file.contains(' ')
                    && !dir.join(file).exists()
                {
                    let mut t = shown.join("\n");
                    t.push('\n');
                    std::fs::write(dir.join(file), t).unwrap();
                }
                let out = Command::new("bash")
                    .arg("-c")
                    .arg(format!("exec 2>&1; {cmd}"))
                    .current_dir(&dir)
                    .env("PATH", &path)
                    .env("TZ", "UTC")
                    .env("LC_ALL", "C")
                    .output()
                    .unwrap();
                let real = stdout(&out);
                let real: Vec<&str> = real.lines().collect();
                assert!(
                    lines_match(&shown, &real),
                    "{name} (block after line {at}): `$ {cmd}` shows\n{}\n\nbut a fresh run of \
                     the example writes\n{}\n",
                    shown.join("\n"),
                    real.join("\n")
                );
                *checked.entry(name.clone()).or_insert(0) += 1;
            }
        }
    }
    // The README's lines of each format and the command's examples, at least.
    assert!(
        checked.get("README.md").is_some_and(|n| *n >= 3),
        "{checked:?}"
    );
    assert!(
        checked.get("docs/command.md").is_some_and(|n| *n >= 6),
        "{checked:?}"
    );
}

#[test]
fn the_matching_rules_of_example_blocks() {
    assert!(lines_match(&["a", "b"], &["a", "b"]));
    assert!(!lines_match(&["a", "b"], &["a", "b", "c"]));
    assert!(!lines_match(&["a"], &["b"]));
    assert!(lines_match(
        &["a", "  ... (more)", "d"],
        &["a", "b", "c", "d"]
    ));
    assert!(lines_match(&["a", "...", "d"], &["a", "d"]));
    assert!(!lines_match(&["a", "...", "d"], &["a", "b"]));
    assert!(lines_match(&["{\"x\":1,..."], &["{\"x\":1,\"y\":2}"]));
    assert!(!lines_match(&["{\"x\":2,..."], &["{\"x\":1,\"y\":2}"]));
}

// ---------------------------------------------------------------------------------------
// Contents lists and links

/// The anchor GitHub gives a heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The headings of a document outside code blocks: (level, text).
fn headings(text: &str) -> Vec<(usize, String)> {
    let mut fence = false;
    let mut out = Vec::new();
    for l in text.lines() {
        if l.starts_with("```") {
            fence = !fence;
        } else if !fence && l.starts_with('#') {
            let level = l.chars().take_while(|c| *c == '#').count();
            if let Some(h) = l[level..].strip_prefix(' ') {
                out.push((level, h.to_owned()));
            }
        }
    }
    out
}

/// `[text](target)` links outside code blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let mut fence = false;
    let mut out = Vec::new();
    for l in text.lines() {
        if l.starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        let mut in_code = false;
        let b = l.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'`' => in_code = !in_code,
                b']' if !in_code && b.get(i + 1) == Some(&b'(') => {
                    if let Some(end) = l[i + 2..].find(')') {
                        out.push(l[i + 2..i + 2 + end].to_owned());
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

#[test]
fn every_document_has_its_contents_and_every_link_leads_somewhere() {
    let docs = documents();
    let by_name: BTreeMap<&str, &str> =
        docs.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    for (name, text) in &docs {
        if name.starts_with("docs/") {
            // `# Title`, then before the first section a list of the `##`/`###` sections.
            let hs = headings(text);
            assert_eq!(
                hs.first().map(|h| h.0),
                Some(1),
                "{name}: starts with # Title"
            );
            let want: Vec<String> = hs
                .iter()
                .filter(|h| h.0 == 2 || h.0 == 3)
                .map(|(l, h)| format!("{}- [{h}](#{})", "  ".repeat(l - 2), anchor(h)))
                .collect();
            let first_section = text.find("\n## ").expect("sections");
            let list: Vec<&str> = text[..first_section]
                .lines()
                .filter(|l| l.trim_start().starts_with("- ["))
                .collect();
            assert_eq!(
                list, want,
                "{name}: the contents list and the sections differ"
            );
        }
        let dir = Path::new(name).parent().unwrap();
        for link in links(text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, frag) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                name.clone()
            } else {
                let p = dir.join(file);
                let mut parts: Vec<String> = Vec::new();
                for c in p.components() {
                    match c {
                        std::path::Component::ParentDir => {
                            parts.pop();
                        }
                        std::path::Component::CurDir => {}
                        c => parts.push(c.as_os_str().to_string_lossy().into_owned()),
                    }
                }
                parts.join("/")
            };
            assert!(
                root().join(&target).exists(),
                "{name}: link ({link}): no file {target}"
            );
            if !frag.is_empty() {
                let t = by_name.get(target.as_str()).unwrap_or_else(|| {
                    panic!("{name}: link ({link}) into a file that is not a document")
                });
                assert!(
                    headings(t).iter().any(|(_, h)| anchor(h) == frag),
                    "{name}: link ({link}): no heading #{frag} in {target}"
                );
            }
        }
    }
}
