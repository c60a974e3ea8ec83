//! The committed include/mtalog.h must equal what cbindgen generates from the sources now,
//! and it must compile alone as C11 (-pedantic -Werror) and as C++.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_header_is_current() {
    let generated = Path::new(env!("OUT_DIR")).join("mtalog.h");
    let fresh = std::fs::read(&generated).expect("build.rs writes $OUT_DIR/mtalog.h");
    let committed_path = root().join("include/mtalog.h");
    let committed = std::fs::read(&committed_path).unwrap_or_default();
    if fresh != committed {
        if std::env::var_os("MTALOG_BLESS_HEADER").is_some() {
            std::fs::write(&committed_path, &fresh).expect("write include/mtalog.h");
            return;
        }
        panic!(
            "include/mtalog.h differs from what cbindgen generates now; regenerate it with:\n    MTALOG_BLESS_HEADER=1 cargo test --test header"
        );
    }
}

fn compile(compiler: &str, args: &[&str], source: &str, ext: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let src = dir.join(format!("header_alone.{ext}"));
    std::fs::write(&src, source).unwrap();
    let out = Command::new(compiler)
        .args(args)
        .arg("-I")
        .arg(root().join("include"))
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(dir.join(format!("header_alone_{ext}.o")))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_alone_as_c11() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    compile(
        &cc,
        &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"],
        "#include \"mtalog.h\"\nint main(void) { return 0; }\n",
        "c",
    );
}

#[test]
fn header_compiles_alone_as_cpp() {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
    compile(
        &cxx,
        &["-Wall", "-Wextra", "-Werror", "-pedantic"],
        "#include \"mtalog.h\"\nint main() { return 0; }\n",
        "cpp",
    );
}
