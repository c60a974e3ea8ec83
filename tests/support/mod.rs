//! Helpers shared by the integration tests: the library and the C programs they build,
//! the example MTA, and pflogsumm with its figures. (Included as a module by each test
//! that needs it; the `mtalog` command's own helpers are in `cli_support`.)
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps, deps.parent().unwrap()]
        .iter()
        .map(|d| d.join("libmtalog.so"))
        .find(|p| p.exists())
        .expect("libmtalog.so next to the test")
}

/// Compiles the C file `src` (relative to the project) into `out`, warnings as errors.
pub fn cc(src: &str, out: &Path, libs: &[&str]) {
    let st = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-O1",
        ])
        .arg("-I")
        .arg(root().join("include"))
        .arg("-o")
        .arg(out)
        .arg(root().join(src))
        .args(libs)
        .status()
        .expect("cc");
    assert!(st.success(), "compiling {src} failed");
}

/// The example MTA, compiled once per test binary.
pub fn mta_sim() -> PathBuf {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let d = scratch("mta_sim");
        let exe = d.join("mta_sim");
        cc("examples_c/mta_sim.c", &exe, &["-ldl", "-lpthread"]);
        exe
    })
    .clone()
}

/// Runs the example MTA with its example configuration in `dir` (logs in `dir/logs`);
/// returns what it says it sent (`receptions`, `deliveries`, `deferrals`, `bounces`,
/// `rejections`, `error lines`).
pub fn run_example(dir: &Path, messages: u32) -> BTreeMap<String, u64> {
    for d in ["logs/postfix", "logs/imta"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let out = Command::new(mta_sim())
        .current_dir(dir)
        .arg("-c")
        .arg(root().join("examples_c/mtalog.conf"))
        .args(["-j", "2", "-n", &messages.to_string(), "-l"])
        .arg(cdylib())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mta_sim: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("sent:"))
        .expect("sent: line");
    let mut m = BTreeMap::new();
    for part in line.split([':', ',']) {
        if let Some((n, what)) = part.trim().split_once(' ')
            && let Ok(n) = n.parse::<u64>()
        {
            m.insert(what.to_owned(), n);
        }
    }
    m
}

/// Runs the C program that logs the known traffic mix of tests/postfix_pflogsumm.rs in
/// `dir` from `day` (a local midnight), with `extra` configuration lines.
pub fn traffic_postfix(dir: &Path, day: i64, extra: &str) {
    let exe = dir.join("traffic_postfix");
    cc("c_tests/traffic_postfix.c", &exe, &["-ldl"]);
    let out = Command::new(&exe)
        .arg(cdylib())
        .arg(dir)
        .arg(day.to_string())
        .arg(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn local_midnight_today() -> i64 {
    let out = Command::new("date")
        .args(["-d", "today 00:00", "+%s"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The program `name` from the usual places (or `also`), or `None` after a note; in CI a
/// missing tool fails the test.
pub fn tool(name: &str, also: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = also
        .iter()
        .cloned()
        .chain(["/usr/sbin".into(), "/usr/bin".into(), "/sbin".into()])
        .chain(std::env::split_paths(&path))
        .map(|d: PathBuf| if d.ends_with(name) { d } else { d.join(name) })
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(!in_ci(), "{name} is required in CI (.ci/run installs it)");
        eprintln!("note: {name} not installed; skipping");
    }
    found
}

/// pflogsumm, or None after a note (see [`tool`]).
pub fn pflogsumm() -> Option<PathBuf> {
    tool("pflogsumm", &[])
}

pub fn run_pflogsumm(pfl: &Path, files: &[PathBuf]) -> String {
    let out = Command::new(pfl).args(files).output().unwrap();
    assert!(
        out.status.success(),
        "pflogsumm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A pflogsumm number (`123`, `112586k`, `3m`) as (value, unit divisor).
pub fn pfl_number(s: &str) -> (u64, u64) {
    if let Some(n) = s.strip_suffix('k') {
        (n.parse().unwrap(), 1024)
    } else if let Some(n) = s.strip_suffix('m') {
        (n.parse().unwrap(), 1024 * 1024)
    } else {
        (s.parse().unwrap(), 1)
    }
}

/// Does pflogsumm's `theirs` show `exact` (pflogsumm truncates to k and m units)?
pub fn same(exact: u64, theirs: &str) -> bool {
    let (v, div) = pfl_number(theirs);
    exact / div == v
}

/// The number before `label` in a Grand Totals line of a report (pflogsumm's or ours).
pub fn total(report: &str, label: &str) -> String {
    report
        .lines()
        .find_map(|l| {
            let t = l.trim();
            let (num, rest) = t.split_once(char::is_whitespace)?;
            (rest.trim_start().starts_with(label) && num.starts_with(|c: char| c.is_ascii_digit()))
                .then(|| num.to_owned())
        })
        .unwrap_or_else(|| panic!("no '{label}' line in:\n{report}"))
}

/// The number before `label` in pflogsumm's Grand Totals, its `k` and `m` units counted
/// out.
pub fn pfl_total(report: &str, label: &str) -> u64 {
    let (v, div) = pfl_number(&total(report, label));
    v * div
}

/// Asserts that pflogsumm's `report` shows exactly the traffic of traffic_postfix.c.
pub fn assert_traffic_report(report: &str) {
    assert_eq!(pfl_total(report, "received"), 20, "{report}");
    assert_eq!(pfl_total(report, "delivered"), 16, "{report}");
    assert_eq!(pfl_total(report, "deferred"), 4, "{report}");
    assert_eq!(pfl_total(report, "bounced"), 4, "{report}");
    assert_eq!(pfl_total(report, "rejected"), 4, "{report}");
    let received: u64 = (0..20).map(|i| 1000 + i).sum();
    let delivered: u64 = (0..20).filter(|i| i % 5 != 0).map(|i| 1000 + i).sum();
    assert_eq!(pfl_total(report, "bytes received"), received, "{report}");
    assert_eq!(pfl_total(report, "bytes delivered"), delivered, "{report}");
    // Per-hour traffic: one reception in each of the first 20 hours (the stamps came
    // through unchanged).
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

/// The `Host/Domain Summary: Message Delivery` rows: domain → (sent, bytes, defers), as
/// printed.
pub fn delivery_rows(report: &str) -> BTreeMap<String, (String, String, String)> {
    report
        .lines()
        .skip_while(|l| !l.starts_with("Host/Domain Summary: Message Delivery"))
        .skip(4)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (
                w.last().unwrap().to_string(),
                (w[0].to_owned(), w[1].to_owned(), w[2].to_owned()),
            )
        })
        .collect()
}

/// A console socket at `sock` that accepts one client, reads its command line and never
/// answers. The thread holds the connection until `release` is sent, then returns the line.
pub fn mute_console(sock: &Path) -> (std::thread::JoinHandle<String>, std::sync::mpsc::Sender<()>) {
    use std::io::{BufRead, BufReader};
    let listener = std::os::unix::net::UnixListener::bind(sock).unwrap();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let _ = released.recv();
        line
    });
    (server, release)
}
