//! Helpers of the `mtalog` command's tests: running the command (it needs the `cli`
//! feature); everything else comes from `support`.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

#[path = "../support/mod.rs"]
mod support;
pub use support::*;

/// Runs `mtalog ARGS` with `stdin` as standard input.
pub fn mtalog_in(args: &[&str], dir: &Path, stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtalog"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mtalog");
    let mut i = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let w = std::thread::spawn(move || {
        let _ = i.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    w.join().unwrap();
    out
}

/// Runs `mtalog ARGS` in `dir`, standard input empty.
pub fn mtalog(args: &[&str], dir: &Path) -> Output {
    mtalog_in(args, dir, b"")
}

/// `mtalog ARGS`, which must succeed; its standard output.
pub fn ok(args: &[&str], dir: &Path) -> String {
    let o = mtalog(args, dir);
    assert!(
        o.status.success(),
        "mtalog {args:?} failed: {}\n{}",
        stderr(&o),
        stdout(&o)
    );
    stdout(&o)
}
