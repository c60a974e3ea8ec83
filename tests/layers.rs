//! The library's modules form layers: a module uses only the modules below it, never one
//! above (ARCHITECTURE.md has the map). This test reads every `crate::` path in the
//! library's sources (comments aside) and fails on a path that climbs, and on a cycle
//! between the files of one module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules, from the bottom up.
const LAYERS: &[&str] = &[
    "sys", "config", "error", "sync", "event", "format", "file", "pipeline", "console", "control",
    "atfork", "logger", "ffi",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().unwrap() != "bin" {
                sources(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a source file: `src/file/shared.rs` -> `file::shared`.
fn module_of(src: &Path, p: &Path) -> Vec<String> {
    let rel = p.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a line, without its comment.
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Every module path named after `crate::` in `text` (as far as it goes through
/// lower-case names), with `use crate::{a, b::c}` groups expanded one level.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    paths_after(text, "crate::")
}

/// The same for the paths after `prefix` (`crate::`, `super::`).
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let code: String = text.lines().map(code).collect::<Vec<_>>().join("\n");
    let mut rest = code.as_str();
    while let Some(i) = rest.find(prefix) {
        if prefix == "super::" && rest[..i].ends_with("super::") {
            rest = &rest[i + prefix.len()..];
            continue;
        }
        rest = &rest[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.push(segments(item.trim()));
            }
        } else {
            out.push(segments(rest));
        }
    }
    out
}

fn segments(s: &str) -> Vec<String> {
    let mut v = Vec::new();
    for seg in s.split("::") {
        let name: String = seg
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
            .collect();
        if name.is_empty() {
            break;
        }
        let whole = name.len() == seg.len();
        v.push(name);
        if !whole {
            break;
        }
    }
    v
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut climbs = Vec::new();
    // Edges between the files (modules) of the crate, for the cycle check.
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let known: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(&src, f).join("::"))
        .collect();
    for f in &files {
        let me = module_of(&src, f);
        let Some(top) = me.first() else { continue };
        let my_rank = rank(top).unwrap_or_else(|| panic!("{top} is not in LAYERS"));
        let text = std::fs::read_to_string(f).unwrap();
        // `super::x` in `a::b` is `a::x`.
        let parent = &me[..me.len() - 1];
        let relative = paths_after(&text, "super::")
            .into_iter()
            .map(|p| parent.iter().cloned().chain(p).collect::<Vec<_>>());
        for path in crate_paths(&text).into_iter().chain(relative) {
            let Some(target) = path.first() else { continue };
            let Some(r) = rank(target) else { continue };
            if r > my_rank {
                climbs.push(format!("{} names crate::{}", f.display(), path.join("::")));
            }
            // The longest prefix of the path that is a file of the crate.
            let mut node = path.clone();
            while !node.is_empty() && !known.contains(&node.join("::")) {
                node.pop();
            }
            let (from, to) = (me.join("::"), node.join("::"));
            if !node.is_empty() && from != to && !from.starts_with(&format!("{to}::")) {
                edges.entry(from).or_default().insert(to);
            }
        }
    }
    assert!(
        climbs.is_empty(),
        "imports that climb:\n{}",
        climbs.join("\n")
    );
    // No cycle among the files: a depth-first search over `edges`.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(i) = stack.iter().position(|s| s == n) {
            panic!("import cycle: {} -> {n}", stack[i..].join(" -> "));
        }
        if done.contains(n) {
            return;
        }
        stack.push(n.to_owned());
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, stack, done);
        }
        stack.pop();
        done.insert(n.to_owned());
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        visit(n, &edges, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_path_reader_finds_nested_and_grouped_paths() {
    let p = crate_paths(
        "use crate::{error::Error, pipeline::stats::Counter};\nx(crate::sync::gate()); // crate::ffi\n",
    );
    assert_eq!(
        p,
        [
            vec!["error".to_owned()],
            vec!["pipeline".to_owned(), "stats".to_owned()],
            vec!["sync".to_owned(), "gate".to_owned()],
        ]
    );
}
