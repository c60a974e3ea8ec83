//! Runs the example MTA (`examples_c/mta_sim.c`, dlopening the cdylib) and parses every
//! line of its imta_logger output back into fields: once with the example's default
//! configuration and once with every optional field switched on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use mtalog::config::{Entry, Options};
use mtalog::format::FormatContext;
use mtalog::format::imta::{self, ImtaOptions, parse_line, parse_service_line};
use support::{cdylib, mta_sim, root};

/// The `imta_logger` stanza of a config file, as `(key, value)` pairs.
fn imta_stanza(conf: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in conf.lines() {
        let line = line.split('#').next().unwrap().trim();
        if line.starts_with("imta_logger") {
            inside = true;
        } else if inside && line.starts_with('}') {
            break;
        } else if inside && let Some((k, v)) = line.split_once('=') {
            out.push((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()));
        }
    }
    assert!(!out.is_empty(), "no imta_logger stanza");
    out
}

fn options(kv: &[(String, String)]) -> ImtaOptions {
    // File options are the logger's business, not the line grammar's.
    let entries: Vec<Entry> = kv
        .iter()
        .filter(|(k, _)| k != "logdir")
        .enumerate()
        .map(|(i, (k, v))| Entry {
            key: k.clone(),
            value: v.clone(),
            line: i + 1,
        })
        .collect();
    let ctx = FormatContext {
        error_default_level: mtalog::format::Level::Error,
        pid: 1,
        hostname: "mx".into(),
    };
    let mut o = Options::new(&entries);
    let x = imta::options(&mut o, &ctx).unwrap();
    o.finish().unwrap();
    x
}

/// What mta_sim reports having sent: `receptions`, `deliveries`, `deferrals`,
/// `bounces`, `rejections`, `error lines`.
fn sent(stdout: &str) -> BTreeMap<String, u64> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("sent:"))
        .unwrap_or_else(|| panic!("no 'sent:' line in:\n{stdout}"));
    let mut m = BTreeMap::new();
    for part in line.split([':', ',']) {
        let part = part.trim();
        if let Some((n, what)) = part.split_once(' ')
            && let Ok(n) = n.parse::<u64>()
        {
            m.insert(what.to_owned(), n);
        }
    }
    m
}

struct Run {
    sent: BTreeMap<String, u64>,
    dir: PathBuf,
}

fn run_example(tag: &str, conf: &str, messages: u32) -> Run {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("imta_example")
        .join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["logs/postfix", "logs/imta"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("mtalog.conf"), conf).unwrap();
    let out = Command::new(mta_sim())
        .current_dir(&dir)
        .args([
            "-c",
            "mtalog.conf",
            "-j",
            "4",
            "-n",
            &messages.to_string(),
            "-l",
        ])
        .arg(cdylib())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mta_sim failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        sent: sent(&stdout),
        dir,
    }
}

/// Parses every line of `X_current` and returns the entries by action letter, after those of `X_yesterday` when the run crossed
/// local midnight (the example keeps Sun's daily rollover).
fn parse_all(path: &Path, o: &ImtaOptions) -> BTreeMap<char, Vec<imta::Entry>> {
    let mut files = Vec::new();
    if let Some(stem) = path.to_str().and_then(|p| p.strip_suffix("_current")) {
        let yesterday = PathBuf::from(format!("{stem}_yesterday"));
        if yesterday.exists() {
            files.push(yesterday);
        }
    }
    files.push(path.to_path_buf());
    let mut by_code: BTreeMap<char, Vec<imta::Entry>> = BTreeMap::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.ends_with('\n'),
            "{} ends inside a line",
            path.display()
        );
        for (i, line) in text.lines().enumerate() {
            let e = parse_line(line, o)
                .unwrap_or_else(|err| panic!("{}:{}: {err}: {line:?}", path.display(), i + 1));
            let c = e.code.chars().next().expect("empty entry code");
            by_code.entry(c).or_default().push(e);
        }
    }
    by_code
}

fn count(m: &BTreeMap<char, Vec<imta::Entry>>, c: char) -> u64 {
    m.get(&c).map_or(0, |v| v.len() as u64)
}

fn check_service_log(path: &Path, errors_sent: u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let e = parse_service_line(line)
            .unwrap_or_else(|err| panic!("{}:{}: {err}: {line:?}", path.display(), i + 1));
        assert_eq!(e.category, "General");
        n += 1;
    }
    // "Log created" plus at most one line per error the host logged (the loglevel
    // threshold keeps the debug/info ones out).
    assert!(n >= 1 && n <= 1 + errors_sent, "{n} service lines");
}

#[test]
fn default_config_output_parses_line_by_line() {
    let conf = std::fs::read_to_string(root().join("examples_c/mtalog.conf")).unwrap();
    let o = options(&imta_stanza(&conf));
    let run = run_example("default", &conf, 2000);
    let m = parse_all(&run.dir.join("logs/imta/mail.log_current"), &o);
    assert_eq!(count(&m, 'E'), run.sent["receptions"]);
    assert_eq!(count(&m, 'D'), run.sent["deliveries"]);
    assert_eq!(count(&m, 'Q'), run.sent["deferrals"]);
    assert_eq!(count(&m, 'R') + count(&m, 'K'), run.sent["bounces"]);
    // Connect-time rejections are connection entries, off by default (log_connection 0).
    let rejected = count(&m, 'J') + count(&m, 'B');
    assert!(rejected > 0 && rejected <= run.sent["rejections"]);
    for c in m.keys() {
        assert!("EDQRKJB".contains(*c), "unexpected entry code {c}");
    }
    // log_message_id = true in the example: every E and D carries the Message-ID.
    for e in m[&'E'].iter().chain(&m[&'D']) {
        let id = e.message_id.as_deref().expect("message id");
        assert!(id.starts_with('<') && id.ends_with('>'), "{id}");
    }
    for e in &m[&'D'] {
        let d = e.diagnostic.as_deref().unwrap_or("");
        assert!(d.contains("smtp;250 2.0.0"), "{e:?}");
    }
    check_service_log(&run.dir.join("logs/imta/imta"), run.sent["error lines"]);
}

#[test]
fn every_optional_field_parses_line_by_line() {
    let base = std::fs::read_to_string(root().join("examples_c/mtalog.conf")).unwrap();
    let start = base.find("imta_logger").unwrap();
    let stanza = r#"imta_logger "imta_logger1" {
  logdir = "logs/imta"
  log_connection = 99
  log_filename = true
  log_message_id = true
  log_notary = true
  log_process = true
  log_username = true
  log_node = true
  log_reason = true
  log_envelope_id = true
  log_queue_time = true
  separate_connection_log = true
  loglevel = Debug
}
"#;
    let conf = format!("{}{stanza}", &base[..start]);
    let o = options(&imta_stanza(&conf));
    let run = run_example("full", &conf, 1500);
    let m = parse_all(&run.dir.join("logs/imta/mail.log_current"), &o);
    assert_eq!(count(&m, 'E'), run.sent["receptions"]);
    assert_eq!(count(&m, 'D'), run.sent["deliveries"]);
    assert_eq!(count(&m, 'Q'), run.sent["deferrals"]);
    assert_eq!(count(&m, 'R') + count(&m, 'K'), run.sent["bounces"]);
    // Process ids: `pid.thread.seq`, one pid, at most one thread number per worker thread
    // (plus the main thread), and a thread's sequence numbers rise line by line.
    let mut last_seq: BTreeMap<String, u64> = BTreeMap::new();
    let mut pids = std::collections::BTreeSet::new();
    for e in m.values().flatten() {
        assert!(e.node.is_some(), "log_node: {e:?}");
        let p = e.process.as_deref().expect("log_process");
        let parts: Vec<&str> = p.split('.').collect();
        assert_eq!(parts.len(), 3, "{p}");
        assert!(u32::from_str_radix(parts[0], 16).is_ok(), "{p}");
        assert!(
            u32::from_str_radix(parts[1], 16).is_ok_and(|t| t >= 1),
            "{p}"
        );
        pids.insert(parts[0].to_owned());
        assert!(e.envelope_id.is_some(), "log_envelope_id: {e:?}");
        assert!(e.queue_time.is_some(), "log_queue_time: {e:?}");
    }
    assert_eq!(pids.len(), 1, "{pids:?}");
    let text = std::fs::read_to_string(run.dir.join("logs/imta/mail.log_current")).unwrap();
    for l in text.lines() {
        let p = parse_line(l, &o).unwrap().process.unwrap();
        let (thread, seq) = p.rsplit_once('.').unwrap();
        let (thread, seq) = (thread.to_owned(), seq.parse::<u64>().unwrap());
        if let Some(prev) = last_seq.insert(thread.clone(), seq) {
            assert!(seq > prev, "{thread}: {seq} after {prev}");
        }
    }
    assert!(
        !last_seq.is_empty() && last_seq.len() <= 5,
        "{:?}",
        last_seq.keys()
    );
    // log_username: `*` and the AUTH user, or the user the MTA runs as.
    for e in m[&'E'].iter() {
        let u = e.username.as_deref().expect("log_username");
        assert!(!u.is_empty(), "{e:?}");
    }
    for e in m[&'E'].iter().chain(&m[&'D']) {
        assert!(e.filename.is_some(), "log_filename: {e:?}");
        assert!(e.message_id.is_some(), "log_message_id: {e:?}");
        assert!(e.notary.is_some(), "log_notary: {e:?}");
    }
    // Connection entries go to their own file; every message entry stays out of it.
    let c = parse_all(&run.dir.join("logs/imta/connection.log_current"), &o);
    assert!(!c.is_empty(), "no connection entries");
    for code in c.keys() {
        assert!(
            "OYX".contains(*code),
            "message entry {code} in the connection log"
        );
    }
    for code in m.keys() {
        assert!(
            "EDQRKJB".contains(*code),
            "entry {code} in mail.log_current"
        );
    }
    // Every rejection is now written: message-phase ones as J/B, connect-time ones as X.
    assert_eq!(
        count(&m, 'J') + count(&m, 'B') + count(&c, 'X'),
        run.sent["rejections"]
    );
    check_service_log(&run.dir.join("logs/imta/imta"), run.sent["error lines"]);
}
