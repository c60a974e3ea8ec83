//! Helpers of the syslog destination tests: a real rsyslogd or syslog-ng of the test's
//! own (its configuration, sockets, ports on 127.0.0.1, work directory and pid file in the
//! test's directory; never the system's `/dev/log` or configuration), stopped by its pid;
//! free ports; files read until they hold what a test waits for; a throwaway CA.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../support/mod.rs"]
mod support;
#[allow(unused_imports)] // each test crate uses some
pub use support::{
    assert_traffic_report, local_midnight_today, pflogsumm, root, run_pflogsumm, tool,
    traffic_postfix,
};

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("syslog")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
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
