//! Reading a set of inputs as one stream of lines: files in time order (so that a rotated
//! set `mainlog.3.gz mainlog.2.gz mainlog.1 mainlog` is read oldest first whatever order
//! the shell gave), standard input where `-` stands.

use mtalog::format::parser::{Parser, detect};

use crate::input::{self, Input};

/// How many lines of a file are looked at before the rest (to learn Sun's options).
const SAMPLE: usize = 200;

/// One line handed to the callback.
pub struct Line<'a> {
    /// The input's name.
    pub file: &'a str,
    /// 1-based line number.
    pub no: u64,
    /// The bytes, without the line end.
    pub text: &'a [u8],
}

/// Puts files in the order of the time of their first line (inputs without a readable
/// time stamp keep their place after the others; `-` comes first).
pub fn order(paths: &[String]) -> Vec<String> {
    let mut p = Parser::new();
    let mut keyed: Vec<(u8, i128, usize, String)> = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        if path == "-" {
            keyed.push((0, 0, i, path.clone()));
            continue;
        }
        let t = input::open(path, false).ok().and_then(|mut inp| {
            let mut buf = Vec::new();
            for _ in 0..50 {
                if !inp.next_line(&mut buf).ok()? {
                    return None;
                }
                if let Some(t) = p.time_of(&buf) {
                    return Some(t.as_micros());
                }
            }
            None
        });
        match t {
            Some(t) => keyed.push((1, t, i, path.clone())),
            None => keyed.push((2, 0, i, path.clone())),
        }
    }
    keyed.sort();
    keyed.into_iter().map(|k| k.3).collect()
}

/// Calls `f` for every line of every input, in order; stops at the first error of `f` or
/// of an input. With `require_known`, an input whose first lines are of no known format is
/// an error.
pub fn each_line(
    paths: &[String],
    parser: &mut Parser,
    progress: bool,
    require_known: bool,
    mut f: impl FnMut(&mut Parser, Line<'_>) -> Result<(), String>,
) -> Result<(), String> {
    for path in paths {
        let mut inp: Input = input::open(path, progress)?;
        let mut sample: Vec<Vec<u8>> = Vec::new();
        let mut buf = Vec::new();
        let mut more = true;
        while sample.len() < SAMPLE {
            if !inp.next_line(&mut buf)? {
                more = false;
                break;
            }
            sample.push(buf.clone());
        }
        let name = inp.name.clone();
        if require_known && !sample.is_empty() && !sample.iter().any(|l| detect(l).is_some()) {
            let first: String = String::from_utf8_lossy(&sample[0])
                .chars()
                .take(60)
                .collect();
            return Err(format!(
                "{name}: not an ec_logger, Postfix, Sun Messaging Server or json_logger log (line 1: {first:?})"
            ));
        }
        parser.begin_file(&sample);
        for (i, l) in sample.iter().enumerate() {
            f(
                parser,
                Line {
                    file: &name,
                    no: i as u64 + 1,
                    text: l,
                },
            )?;
        }
        drop(sample);
        while more && inp.next_line(&mut buf)? {
            f(
                parser,
                Line {
                    file: &name,
                    no: inp.line_no,
                    text: &buf,
                },
            )?;
        }
    }
    Ok(())
}
