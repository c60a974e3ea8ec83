//! The progress indicator when standard error is a terminal: on standard input (size
//! unknown) it counts the bytes read. script(1) (util-linux) gives the command a terminal.

mod cli_support;

use std::process::Command;

use cli_support::*;

fn script_available() -> bool {
    Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn standard_input_shows_the_bytes_read_on_a_terminal() {
    assert!(script_available(), "script(1) from util-linux is needed");
    let dir = scratch("progress_stdin");
    let log = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/postfix/maillog.log"),
    )
    .unwrap();
    // 5712 lines, a pause of a second, 5712 more: the indicator shows at line 8192, after
    // the pause (it waits 200 ms after the input is opened).
    std::fs::write(dir.join("part"), log.repeat(6)).unwrap();
    let bin = env!("CARGO_BIN_EXE_mtalog");
    let run = |extra: &str| {
        let cmd =
            format!("{{ cat part; sleep 1; cat part; }} | {bin} report {extra} - 2>&1 >/dev/null");
        let o = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let shown = run("");
    assert!(
        shown.contains("\r(stdin) ") && shown.contains("iB read, 8192 lines"),
        "{shown:?}"
    );
    // Cleared at the end: nothing of it is left on the line.
    assert!(shown.ends_with(&format!("\r{:79}\r", "")), "{shown:?}");
    // --no-progress: nothing.
    assert_eq!(run("--no-progress"), "");
}
