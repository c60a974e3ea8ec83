//! Every symbol the shared library exports starts with `mtalog_` and is declared in
//! include/mtalog.h, and every function the header declares is exported.

use std::process::Command;

mod support;

use support::cdylib;

#[test]
fn exports_match_the_header() {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(cdylib())
        .output()
        .expect("nm (binutils) is needed");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let exported: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (_, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
            (kind == "T").then_some(name)
        })
        .collect();
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/mtalog.h")).unwrap();
    for name in &exported {
        assert!(
            name.starts_with("mtalog_"),
            "exported symbol without the mtalog_ prefix: {name}"
        );
        assert!(
            header.contains(&format!(" {name}(")) || header.contains(&format!("*{name}(")),
            "exported but not declared in the header: {name}"
        );
    }
    for line in header.lines().filter(|l| {
        !l.starts_with(' ')
            && !l.starts_with('*')
            && !l.starts_with('/')
            && !l.starts_with("typedef")
    }) {
        if let Some(open) = line.find("mtalog_").filter(|_| line.contains('(')) {
            let name: String = line[open..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                exported.contains(&name.as_str()),
                "declared in the header but not exported: {name}"
            );
        }
    }
    assert!(exported.contains(&"mtalog_new"));
}
