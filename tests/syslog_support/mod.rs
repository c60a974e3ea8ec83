//! Helpers of the syslog destination tests: a real rsyslogd or syslog-ng of the test's
//! own (its configuration, sockets, ports on 127.0.0.1, work directory and pid file in the
//! test's directory; never the system's `/dev/log` or configuration), stopped by its pid;
//! free ports; files read until they hold what a test waits for; a throwaway CA.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("syslog")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
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

/// A TCP port on 127.0.0.1 that nobody listens on now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Waits until `ready` holds, at most `limit`.
pub fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    ready()
}

/// The lines of `path` (none when it does not exist yet).
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read(path)
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `path` has at least `n` lines (at most `limit`); returns its lines.
pub fn wait_lines(path: &Path, n: usize, limit: Duration) -> Vec<String> {
    wait_for(limit, || lines(path).len() >= n);
    lines(path)
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: a plain system call; the pid is the daemon's this test started.
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}

/// A syslog daemon the test started: stopped (SIGTERM) when dropped.
pub struct Daemon {
    pub name: &'static str,
    pub dir: PathBuf,
    child: Option<Child>,
    start: Box<dyn Fn() -> Child + Send>,
    ready: Box<dyn Fn() -> bool + Send>,
}

impl Daemon {
    fn launch(
        name: &'static str,
        dir: &Path,
        start: Box<dyn Fn() -> Child + Send>,
        ready: Box<dyn Fn() -> bool + Send>,
    ) -> Daemon {
        let mut d = Daemon {
            name,
            dir: dir.to_path_buf(),
            child: None,
            start,
            ready,
        };
        d.restart();
        d
    }

    /// The daemon's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Starts it (again) and waits until it listens.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "{} is running", self.name);
        let mut child = (self.start)();
        let ok = wait_for(Duration::from_secs(20), || {
            (self.ready)() || child.try_wait().ok().flatten().is_some()
        });
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "{} exited at start ({st}); its output:\n{}",
                self.name,
                std::fs::read_to_string(self.dir.join(format!("{}.out", self.name)))
                    .unwrap_or_default()
            );
        }
        assert!(ok, "{} does not listen", self.name);
        self.child = Some(child);
    }

    /// Stops it with SIGTERM (it finishes its queue) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id(), libc::SIGTERM);
            let _ = c.wait();
        }
    }

    /// Kills it with SIGKILL (what it had taken and not written is lost).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id(), libc::SIGKILL);
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

fn listens_tcp(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// rsyslogd, or `None` (see [`tool`]).
pub fn rsyslogd() -> Option<PathBuf> {
    tool("rsyslogd", &[])
}

/// Starts rsyslogd in `dir` with `body` (inputs, templates, rulesets) after a `global()`
/// line of its own; `ready` tells when its inputs listen.
pub fn rsyslog(dir: &Path, body: &str, ready: impl Fn() -> bool + Send + 'static) -> Daemon {
    rsyslog_with(dir, "", body, ready)
}

/// [`rsyslog`] with more `global()` parameters (`global`).
pub fn rsyslog_with(
    dir: &Path,
    global: &str,
    body: &str,
    ready: impl Fn() -> bool + Send + 'static,
) -> Daemon {
    let exe = rsyslogd().expect("rsyslogd");
    let work = dir.join("rsyslog-work");
    std::fs::create_dir_all(&work).unwrap();
    let conf = dir.join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            "global(workDirectory=\"{}\" maxMessageSize=\"64k\" {global})\n{body}",
            work.display()
        ),
    )
    .unwrap();
    let (pidfile, out) = (dir.join("rsyslog.pid"), dir.join("rsyslogd.out"));
    let start = move || {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&out)
            .unwrap();
        let _ = std::fs::remove_file(&pidfile);
        Command::new(&exe)
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(&pidfile)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("rsyslogd")
    };
    Daemon::launch("rsyslogd", dir, Box::new(start), Box::new(ready))
}

/// An rsyslogd `omfile` action writing `file` with template `t`.
pub fn rsyslog_file_action(file: &Path) -> String {
    format!(
        "action(type=\"omfile\" file=\"{}\" template=\"t\")",
        file.display()
    )
}

/// Is the Unix socket at `path` there?
pub fn socket_exists(path: &Path) -> impl Fn() -> bool + Send + 'static {
    let p = path.to_path_buf();
    move || {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(&p).is_ok_and(|m| m.file_type().is_socket())
    }
}

/// Does something listen on 127.0.0.1:`port`?
pub fn tcp_listens(port: u16) -> impl Fn() -> bool + Send + 'static {
    move || listens_tcp(port)
}

/// Sends the logger an event of `kind` at `time` for message `id` (the fields every
/// format reads).
pub fn event(
    l: &mtalog::logger::Logger,
    kind: mtalog::event::Kind,
    time: mtalog::event::Timestamp,
    id: &str,
    note: &str,
) {
    use mtalog::event::Field;
    let mut ev = l.begin(kind).expect("a box");
    ev.time = time;
    ev.push(Field::MsgId, id.as_bytes(), 4096);
    ev.push(Field::DomainName, b"d.example", 4096);
    ev.push(Field::MxIp, b"192.0.2.25", 4096);
    ev.push(Field::Note, note.as_bytes(), 4096);
    assert!(l.submit(ev));
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// libmtalog.so beside the test binary.
pub fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps, deps.parent().unwrap()]
        .iter()
        .map(|d| d.join("libmtalog.so"))
        .find(|p| p.exists())
        .expect("libmtalog.so next to the test")
}

/// Runs c_tests/traffic_postfix.c (the known traffic mix of tests/postfix_pflogsumm.rs)
/// in `dir` from local midnight today, with `extra` configuration lines.
pub fn traffic_postfix(dir: &Path, extra: &str) {
    let exe = dir.join("traffic_postfix");
    let st = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-O1",
            "-I",
        ])
        .arg(root().join("include"))
        .arg("-o")
        .arg(&exe)
        .arg(root().join("c_tests/traffic_postfix.c"))
        .arg("-ldl")
        .status()
        .expect("cc");
    assert!(st.success(), "compiling traffic_postfix.c failed");
    let day = Command::new("date")
        .args(["-d", "today 00:00", "+%s"])
        .output()
        .unwrap();
    let day = String::from_utf8_lossy(&day.stdout).trim().to_owned();
    let out = Command::new(&exe)
        .arg(cdylib())
        .arg(dir)
        .arg(day)
        .arg(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "traffic_postfix: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// pflogsumm, or `None` (see [`tool`]).
pub fn pflogsumm() -> Option<PathBuf> {
    tool("pflogsumm", &[])
}

/// pflogsumm's report on `files`.
pub fn run_pflogsumm(files: &[PathBuf]) -> String {
    let out = Command::new(pflogsumm().expect("pflogsumm"))
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success(), "pflogsumm failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The number before `label` in pflogsumm's Grand Totals.
pub fn pfl_total(report: &str, label: &str) -> u64 {
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
    // through the receiver unchanged).
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

/// The rsyslog template that writes a Postfix log back from RFC 5424 messages.
pub const POSTFIX_TEMPLATE: &str = "template(name=\"t\" type=\"string\" string=\"%TIMESTAMP% %HOSTNAME% %APP-NAME%[%PROCID%]: %msg%\\n\")";

/// rsyslogd receiving octet-counted RFC 5424 over TCP on `port`, writing `file` with
/// [`POSTFIX_TEMPLATE`].
pub fn rsyslog_tcp(dir: &Path, port: u16, file: &Path) -> Daemon {
    rsyslog(
        dir,
        &format!(
            "module(load=\"imtcp\")\n{POSTFIX_TEMPLATE}\n\
             ruleset(name=\"r\") {{ {} }}\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"r\")\n",
            rsyslog_file_action(file)
        ),
        tcp_listens(port),
    )
}

/// syslog-ng, and the root it is unpacked in: Debian's `syslog-ng-core` conflicts with
/// `rsyslog` (both are the system's logger), so `.ci/run` unpacks it under
/// `target/syslog-ng` instead of installing it (`MTALOG_SYSLOG_NG_ROOT` names another
/// root); one in the PATH serves as well.
pub fn syslog_ng() -> Option<(PathBuf, Option<PathBuf>)> {
    let root = std::env::var_os("MTALOG_SYSLOG_NG_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| self::root().join("target/syslog-ng"));
    let unpacked = root.join("usr/sbin/syslog-ng");
    if unpacked.is_file() {
        return Some((unpacked, Some(root)));
    }
    tool("syslog-ng", &[]).map(|p| (p, None))
}

/// Starts syslog-ng in `dir` with `body` (sources, destinations, log paths) after an
/// `options` line of its own.
pub fn syslog_ng_daemon(
    dir: &Path,
    body: &str,
    ready: impl Fn() -> bool + Send + 'static,
) -> Daemon {
    let (exe, root) = syslog_ng().expect("syslog-ng");
    let conf = dir.join("syslog-ng.conf");
    std::fs::write(
        &conf,
        format!(
            "@version: 3.38\n\
             options {{ keep_hostname(yes); keep_timestamp(yes); use_dns(no); dns_cache(no); \
             log_msg_size(65536); stats_freq(0); }};\n{body}"
        ),
    )
    .unwrap();
    let dir2 = dir.to_path_buf();
    let out = dir.join("syslog-ng.out");
    let start = move || {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&out)
            .unwrap();
        let mut c = Command::new(&exe);
        c.arg("-F")
            .arg("-f")
            .arg(&conf)
            .arg("-p")
            .arg(dir2.join("syslog-ng.pid"))
            .arg("-R")
            .arg(dir2.join("syslog-ng.persist"))
            .arg(format!(
                "--control={}",
                dir2.join("syslog-ng.ctl").display()
            ));
        if let Some(r) = &root {
            c.env("LD_LIBRARY_PATH", r.join("usr/lib/syslog-ng"))
                .arg(format!(
                    "--module-path={}",
                    r.join("usr/lib/syslog-ng/3.38").display()
                ));
        }
        c.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("syslog-ng")
    };
    Daemon::launch("syslog-ng", dir, Box::new(start), Box::new(ready))
}

/// Runs the openssl command line in `dir`; fails the test when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(tool("openssl", &[]).expect("openssl"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway CA in `dir`: `NAME.pem` and `NAME.key`.
pub fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=mtalog test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A certificate `NAME.pem` (key `NAME.key`) for `localhost` and 127.0.0.1, signed by the
/// CA `ca`, for a server or (with `client`) a client.
pub fn make_cert(dir: &Path, ca: &str, name: &str, client: bool) {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            "/CN=localhost",
        ],
    );
    let ext = dir.join(format!("{name}.ext"));
    std::fs::write(
        &ext,
        format!(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage={}\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
            if client { "clientAuth" } else { "serverAuth" }
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

/// What a [`tap`] saw: the bytes clients sent, and the connections.
#[derive(Clone, Default)]
pub struct Tap {
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    pub conns: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Tap {
    pub fn bytes(&self) -> Vec<u8> {
        self.seen.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.conns.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A TCP proxy from 127.0.0.1:`from` to 127.0.0.1:`to` that records what clients send
/// and counts their connections: what a wire tap would see.
pub fn tap(from: u16, to: u16) -> Tap {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let t = Tap::default();
    let l = TcpListener::bind(("127.0.0.1", from)).unwrap();
    let t2 = t.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            t2.conns.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let Ok(mut s) = TcpStream::connect(("127.0.0.1", to)) else {
                continue;
            };
            let (mut c2, mut s2) = (c.try_clone().unwrap(), s.try_clone().unwrap());
            let rec = t2.seen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    rec.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                let _ = s.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(Shutdown::Write);
            });
        }
    });
    t
}

/// The ids (`id-N-`) in the lines of `path`, with their counts.
pub fn ids(path: &Path) -> std::collections::BTreeMap<u64, u32> {
    let mut m = std::collections::BTreeMap::new();
    for l in lines(path) {
        if let Some(i) = l.find("id-") {
            let n: String = l[i + 3..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            *m.entry(n.parse().unwrap()).or_default() += 1;
        }
    }
    m
}
