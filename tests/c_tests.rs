//! Builds and runs the C test programs `c_tests/test_*.c` against the cdylib.
//!
//! Default pass: AddressSanitizer + UBSan with leak detection. `#[ignore]`d pass: the same
//! programs without sanitizers under valgrind (`cargo test --test c_tests -- --ignored`).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(300);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the cdylib built for this test profile.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir").to_path_buf();
    for d in [
        deps.clone(),
        deps.parent().map(Path::to_path_buf).unwrap_or(deps.clone()),
    ] {
        if d.join("libmtalog.so").exists() {
            return d;
        }
    }
    panic!("libmtalog.so not found next to {}", exe.display());
}

/// A directory with `libmtalog.so` and its soname (`libmtalog.so.0`) as symlinks to the
/// built library, so that programs linked with `-lmtalog` find it through their rpath.
fn link_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(make_link_dir).clone()
}

fn make_link_dir() -> PathBuf {
    let real = lib_dir().join("libmtalog.so");
    let d = out_dir().join("lib");
    std::fs::create_dir_all(&d).unwrap();
    for name in ["libmtalog.so", "libmtalog.so.0"] {
        let l = d.join(name);
        let tmp = d.join(format!(".{name}.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&real, &tmp).unwrap();
        std::fs::rename(&tmp, &l).unwrap();
    }
    d
}

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_tests");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn scratch(name: &str, flavour: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = out_dir().join(format!(
        "scratch-{name}-{flavour}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// How a program run ended.
struct Ran {
    ok: bool,
    out: String,
    err: String,
    /// It ran past `TIMEOUT`, or left a forked process of its own running.
    hung: bool,
}

/// Runs `cmd` in a process group of its own, with a timeout. When it ends (or is killed),
/// whatever it forked and left running is killed too, so that no stray process keeps its
/// output open.
fn run(mut cmd: Command) -> Ran {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.process_group(0);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let group = child.id() as libc::pid_t;
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = so.read_to_end(&mut s);
        s
    });
    let t2 = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = se.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // SAFETY: signals to the group made for this program alone.
    let stray = unsafe { libc::kill(-group, 0) } == 0;
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let out = String::from_utf8_lossy(&t1.join().unwrap()).into_owned();
    let mut err = String::from_utf8_lossy(&t2.join().unwrap()).into_owned();
    if stray {
        err.push_str("\n*** left a process running, killed\n");
    }
    match status {
        Some(st) => Ran {
            ok: st.success(),
            out,
            err,
            hung: stray,
        },
        None => {
            err.push_str(&format!("\n*** timed out after {TIMEOUT:?}, killed\n"));
            Ran {
                ok: false,
                out,
                err,
                hung: true,
            }
        }
    }
}

fn compile(name: &str, sanitize: bool) -> PathBuf {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let lib = link_dir();
    let src = root().join("c_tests").join(format!("{name}.c"));
    let exe = out_dir().join(format!(
        "{name}{}",
        if sanitize { "-asan" } else { "-plain" }
    ));
    let mut cmd = Command::new(&cc);
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .arg(format!("-I{}", root().join("include").display()))
        .arg(format!("-I{}", root().join("c_tests").display()))
        .arg("-D_GNU_SOURCE");
    if sanitize {
        cmd.args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]);
    }
    cmd.arg("-o")
        .arg(&exe)
        .arg(&src)
        .arg(format!("-L{}", lib.display()))
        .arg("-lmtalog")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-ldl", "-lpthread"]);
    let r = run(cmd);
    assert!(r.ok, "compiling {name} failed:\n{}\n{}", r.out, r.err);
    exe
}

/// MTALOG_TEST_SCALE for programs whose full count would make a pass too slow: the
/// stress test's 16 x 250,000 events through three loggers take minutes under ASan and far
/// longer under valgrind. (The ASan pass takes MTALOG_TEST_SCALE from the environment when
/// it is set, e.g. MTALOG_TEST_SCALE=1 for the full count.)
fn pass_scale(name: &str, valgrind: bool) -> Option<&'static str> {
    match (name, valgrind) {
        ("test_stress", false) => Some("0.1"),
        ("test_stress", true) => Some("0.005"),
        _ => None,
    }
}

fn run_program(name: &str, exe: &Path, valgrind: bool) {
    let lib = lib_dir().join("libmtalog.so");
    let flavour = if valgrind { "vg" } else { "asan" };
    let command = |dir: &Path| {
        let mut cmd = if valgrind {
            let mut c = Command::new("valgrind");
            c.args([
                "--error-exitcode=1",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--quiet",
            ])
            // A forked child (test_fork) reports its checks through a pipe, not its exit
            // status: memory only the parent's vanished writer thread pointed to is
            // unreachable in a child, which valgrind would count as leaked there.
            .arg("--child-silent-after-fork=yes")
            .arg(exe);
            c.env(
                "MTALOG_TEST_SCALE",
                pass_scale(name, true).unwrap_or("0.05"),
            );
            c
        } else {
            let mut c = Command::new(exe);
            if std::env::var_os("MTALOG_TEST_SCALE").is_none() {
                if let Some(f) = pass_scale(name, false) {
                    c.env("MTALOG_TEST_SCALE", f);
                }
            }
            let supp = root().join("c_tests").join("lsan.supp");
            c.env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0");
            c.env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
            if supp.exists() {
                c.env("LSAN_OPTIONS", format!("suppressions={}", supp.display()));
            }
            c
        };
        cmd.env("MTALOG_LIB", &lib).env("MTALOG_TEST_DIR", dir);
        cmd
    };
    let mut dir = scratch(name, flavour);
    let mut r = run(command(&dir));
    if !r.ok && r.hung && !valgrind {
        // GCC 12's AddressSanitizer allocator is not fork-safe: a forked child that
        // allocates can block for good on an allocator lock another thread held at the
        // fork (glibc's malloc, which hosts use, takes its locks across fork()). Such a
        // hang of the ASan pass is run once more; the valgrind pass, which has no such
        // lock, and a second hang still fail.
        eprintln!(
            "{name}: the ASan pass hung, running it once more:\n{}",
            r.err
        );
        let _ = std::fs::remove_dir_all(&dir);
        dir = scratch(name, flavour);
        r = run(command(&dir));
    }
    if !r.ok {
        panic!(
            "{name} failed\n--- stdout ---\n{}\n--- stderr ---\n{}",
            r.out, r.err
        );
    }
    if name == "test_stress" {
        stress_imta_lines_parse(&dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The imta_logger half of `test_stress`: every line of `im-mail.log_current` (and its
/// rotations) parses with the library's own grammar, one entry per event, codes as logged.
fn stress_imta_lines_parse(dir: &Path) {
    use mtalog::format::imta::{ImtaOptions, parse_line};
    use mtalog::format::{FormatContext, Level};
    let expected = std::fs::read_to_string(dir.join("stress-expected")).expect("stress-expected");
    let v: Vec<usize> = expected
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let (r, d, t, p, j, rotations) = (v[0], v[1], v[2], v[3], v[4], v[5]);
    let opts = ImtaOptions::defaults(&FormatContext::current(Level::Error));
    let mut files: Vec<PathBuf> = (1..=rotations)
        .map(|k| dir.join(format!("im-mail.log_current.r{k}")))
        .collect();
    files.push(dir.join("im-mail.log_current"));
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            bytes.is_empty() || bytes.ends_with(b"\n"),
            "{} ends mid-line",
            f.display()
        );
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            assert!(
                !line.iter().any(|&b| b < 0x20 || b == 0x7f),
                "control byte in {line:?}"
            );
            let text = String::from_utf8_lossy(line);
            let e = parse_line(&text, &opts).unwrap_or_else(|m| panic!("{m}: {text:?}"));
            // The action letter; modifiers (E for ESMTP, S for TLS, ...) follow it.
            let action = e.code.get(..1).unwrap_or("").to_owned();
            *codes.entry(action).or_default() += 1;
        }
    }
    let n = |c: &str| codes.get(c).copied().unwrap_or(0);
    assert_eq!(n("E"), r, "{codes:?}");
    assert_eq!(n("D"), d, "{codes:?}");
    assert_eq!(n("Q"), t, "{codes:?}");
    assert_eq!(n("R") + n("K"), p, "{codes:?}");
    assert_eq!(n("J"), j, "{codes:?}");
    assert_eq!(
        codes.values().sum::<usize>(),
        r + d + t + p + j,
        "{codes:?}"
    );
}

fn sanitized(name: &str) {
    let exe = compile(name, true);
    run_program(name, &exe, false);
}

fn under_valgrind(name: &str) {
    let have = Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !have {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("valgrind is required in CI");
        }
        eprintln!("note: valgrind not found; skipping {name}");
        return;
    }
    let exe = compile(name, false);
    run_program(name, &exe, true);
}

macro_rules! c_tests {
    ($($name:ident),* $(,)?) => {
        mod asan {
            $( #[test] fn $name() { super::sanitized(stringify!($name)); } )*
        }
        mod valgrind {
            $( #[test] #[ignore] fn $name() { super::under_valgrind(stringify!($name)); } )*
        }
        /// Every `c_tests/test_*.c` has a test function above.
        #[test]
        fn every_program_is_listed() {
            let listed = [$(stringify!($name)),*];
            for e in std::fs::read_dir(root().join("c_tests")).unwrap() {
                let n = e.unwrap().file_name().into_string().unwrap();
                if let Some(stem) = n.strip_suffix(".c") {
                    if stem.starts_with("test_") {
                        assert!(listed.contains(&stem), "{n} is not listed in tests/c_tests.rs");
                    }
                }
            }
        }
    };
}

c_tests!(
    test_layout,
    test_lifecycle,
    test_threads,
    test_reopen,
    test_config_errors,
    test_heartbeat,
    test_long_text,
    test_null_args,
    test_dlopen,
    test_overflow,
    test_filters_modes,
    test_kinds,
    test_json,
    test_fork,
    test_rotate,
    test_rotate_procs,
    test_stress,
    test_diskfull,
    test_owner,
    test_block_timeout,
    test_refusals,
    test_bounce,
    test_fifo,
    test_special_files,
    test_close_compress,
);
