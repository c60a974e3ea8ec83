//! `mtalog`: reports, message traces, format conversion and checks for the logs mtalog
//! writes (Momentum ec_logger, Postfix, Sun Messaging Server, json_logger), plus `ctl` to send a
//! console command to a running logger's control socket.

mod input;
mod report;
mod source;
mod time;

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use mtalog::event::Kind;
use mtalog::format::parser::{Parser, detect};
use mtalog::format::read::{Family, Ids, LineKind, PARTIAL};
use mtalog::format::text::bare_address;
use mtalog::format::{FormatContext, Formatter, Level, Out};

const USAGE: &str = "usage:
  mtalog report [-d today|yesterday|YYYY-MM-DD] [--top N] [--json|--html] [FILE...]
  mtalog trace ID [FILE...]
  mtalog convert --to postfix|ec|imta|json [--host NAME] [--utc] [FILE...]
  mtalog check [FILE...]
  mtalog ctl [--timeout SECONDS] SOCKET COMMAND...

FILE may be plain or gzip-compressed, '-' (or no FILE) is standard input. Formats are
recognised by content: ec_logger mainlog/rejectlog/paniclog, Postfix syslog lines, Sun
mail.log and service log, json_logger records. Options: --no-progress (no progress bar on standard error).";

/// A command-line or input error: message and exit status.
struct Fail(String, u8);

impl From<String> for Fail {
    fn from(s: String) -> Fail {
        Fail(s, 2)
    }
}

fn usage(msg: &str) -> Fail {
    Fail(format!("{msg}\n{USAGE}"), 2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("report") => cmd_report(&args[1..]),
        Some("trace") => cmd_trace(&args[1..]),
        Some("convert") => cmd_convert(&args[1..]),
        Some("check") => cmd_check(&args[1..]),
        Some("ctl") => cmd_ctl(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(usage(&format!("mtalog: unknown command '{other}'"))),
        None => Err(usage("mtalog: a command is needed")),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(msg, _)) if msg == GONE => ExitCode::SUCCESS,
        Err(Fail(msg, code)) => {
            if !msg.is_empty() {
                eprintln!(
                    "{}",
                    msg.strip_prefix("mtalog: ")
                        .map_or_else(|| format!("mtalog: {msg}"), |m| format!("mtalog: {m}"))
                );
            }
            ExitCode::from(code)
        }
    }
}

/// Options shared by the commands, and the files.
struct Common {
    files: Vec<String>,
    progress: bool,
}

/// Splits `args` into options (handled by `opt`, which returns how many arguments it
/// used, 0 for an unknown option) and files.
fn parse_args(
    args: &[String],
    mut opt: impl FnMut(&str, Option<&String>) -> Result<usize, Fail>,
) -> Result<Common, Fail> {
    let mut c = Common {
        files: Vec::new(),
        progress: true,
    };
    let mut i = 0;
    let mut only_files = false;
    while i < args.len() {
        let a = &args[i];
        if only_files || a == "-" || !a.starts_with('-') {
            c.files.push(a.clone());
            i += 1;
        } else if a == "--" {
            only_files = true;
            i += 1;
        } else if a == "--no-progress" {
            c.progress = false;
            i += 1;
        } else {
            let (name, inline) = match a.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
                _ => (a.as_str(), None),
            };
            let n = match &inline {
                Some(v) => opt(name, Some(v)).map(|n| if n > 0 { 1 } else { 0 })?,
                None => opt(name, args.get(i + 1))?,
            };
            if n == 0 {
                return Err(usage(&format!("mtalog: unknown option '{a}'")));
            }
            i += n;
        }
    }
    if c.files.is_empty() {
        c.files.push("-".into());
    }
    if c.files.iter().filter(|f| *f == "-").count() > 1 {
        return Err(usage("mtalog: standard input can be read only once"));
    }
    Ok(c)
}

fn need<'a>(name: &str, v: Option<&'a String>) -> Result<&'a String, Fail> {
    v.ok_or_else(|| usage(&format!("mtalog: {name} needs a value")))
}

// ---------------------------------------------------------------------------------------
// report

#[derive(PartialEq)]
enum Output {
    Text,
    Json,
    Html,
}

fn cmd_report(args: &[String]) -> Result<(), Fail> {
    let mut day = None;
    let mut top = 20usize;
    let mut output = Output::Text;
    let c = parse_args(args, |name, v| {
        Ok(match name {
            "-d" | "--day" => {
                let s = need(name, v)?;
                day = Some(time::parse_day(s).ok_or_else(|| {
                    usage(&format!(
                        "mtalog: -d wants today, yesterday or YYYY-MM-DD, not '{s}'"
                    ))
                })?);
                2
            }
            "--top" | "-n" => {
                let s = need(name, v)?;
                top = s
                    .parse()
                    .map_err(|_| usage(&format!("mtalog: --top wants a number, not '{s}'")))?;
                2
            }
            "--json" => {
                output = Output::Json;
                1
            }
            "--html" => {
                output = Output::Html;
                1
            }
            _ => 0,
        })
    })?;
    let files = source::order(&c.files);
    let mut parser = Parser::new();
    let mut rep = report::Report::new(day);
    let mut recs = Vec::new();
    let mut bad = 0u64;
    let mut first_bad: Option<String> = None;
    source::each_line(&files, &mut parser, c.progress, true, |p, line| {
        rep.lines += 1;
        recs.clear();
        match p.line(line.text, &mut recs) {
            Ok(_) => {
                for r in &recs {
                    rep.add(r);
                }
            }
            Err(e) => {
                if line.text.is_empty() {
                    return Ok(());
                }
                bad += 1;
                if first_bad.is_none() {
                    first_bad = Some(format!("{}:{}: {e}", line.file, line.no));
                }
            }
        }
        Ok(())
    })?;
    recs.clear();
    parser.finish(&mut recs);
    for r in &recs {
        rep.add(r);
    }
    let text = match output {
        Output::Text => rep.text(top),
        Output::Json => rep.json(top),
        Output::Html => rep.html(top),
    };
    write_stdout(text.as_bytes())?;
    if bad > 0 {
        eprintln!(
            "mtalog: {bad} line(s) not understood and left out (first: {}); 'mtalog check' lists them",
            first_bad.unwrap_or_default()
        );
    }
    Ok(())
}

/// What a write error to standard output becomes: a reader that went away (`| head`)
/// ends the run quietly.
const GONE: &str = "\0standard output closed";

fn out_err(e: io::Error) -> String {
    if e.kind() == io::ErrorKind::BrokenPipe {
        GONE.into()
    } else {
        format!("writing the output: {e}")
    }
}

fn write_stdout(b: &[u8]) -> Result<(), Fail> {
    let mut out = io::stdout().lock();
    match out.write_all(b).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Fail(format!("mtalog: writing the output: {e}"), 2)),
    }
}

// ---------------------------------------------------------------------------------------
// check

fn cmd_check(args: &[String]) -> Result<(), Fail> {
    let c = parse_args(args, |_, _| Ok(0))?;
    let mut parser = Parser::new();
    let mut recs = Vec::new();
    let mut bad = 0u64;
    let mut lines = 0u64;
    let mut family: Option<(String, Family, LineKind)> = None;
    let mut out = io::BufWriter::new(io::stdout().lock());
    source::each_line(&c.files, &mut parser, c.progress, false, |p, line| {
        lines += 1;
        if family.as_ref().is_some_and(|f| f.0 != line.file) {
            family = None;
        }
        recs.clear();
        let why = if line.text.is_empty() {
            Some("empty line".to_owned())
        } else {
            let parsed = p.line(line.text, &mut recs);
            match detect(line.text) {
                None => Some("not a line of any known log format".to_owned()),
                Some(kind) => match &family {
                    None => {
                        family = Some((line.file.to_owned(), kind.family(), kind));
                        parsed.err()
                    }
                    Some((_, fam, first)) if *fam != kind.family() => Some(format!(
                        "a {} line in a file of {} lines",
                        kind.name(),
                        first.name()
                    )),
                    _ => parsed.err(),
                },
            }
        };
        if let Some(why) = why {
            bad += 1;
            writeln!(out, "{}:{}: {why}", line.file, line.no).map_err(out_err)?;
        }
        Ok(())
    })?;
    drop(out.flush());
    if bad > 0 {
        Err(Fail(
            format!("{bad} of {lines} line(s) do not match their format"),
            1,
        ))
    } else {
        eprintln!("mtalog: {lines} line(s), all match their format");
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// trace

fn cmd_trace(args: &[String]) -> Result<(), Fail> {
    let Some(id) = args.first().filter(|a| !a.starts_with('-') || a.len() > 1) else {
        return Err(usage("mtalog: trace needs an ID"));
    };
    let c = parse_args(&args[1..], |_, _| Ok(0))?;
    let files = source::order(&c.files);
    let id_b = id.as_bytes();
    let bare_id = bare_address(id_b).to_vec();
    let mut keys: HashSet<Vec<u8>> = HashSet::new();
    keys.insert(id_b.to_vec());
    keys.insert(bare_id.clone());
    keys.insert(mtalog::format::postfix::queue_id(id_b).to_vec());
    let related = |keys: &HashSet<Vec<u8>>, ids: &Ids| {
        ids.ids.iter().any(|i| keys.contains(i))
            || ids.message_id.as_ref().is_some_and(|m| *m == bare_id)
    };
    // Pass 1 (files only): the queue ids and file names that the Message-ID leads to.
    if !files.iter().any(|f| f == "-") {
        let mut parser = Parser::new();
        source::each_line(&files, &mut parser, c.progress, false, |p, line| {
            if let Some(kind) = detect(line.text) {
                let ids = p.ids(kind, line.text);
                if ids.message_id.as_ref().is_some_and(|m| *m == bare_id) {
                    if let Some(first) = ids.ids.first() {
                        keys.insert(first.clone());
                    }
                }
            }
            Ok(())
        })?;
    }
    let mut hits: Vec<(i128, usize, String)> = Vec::new();
    let mut parser = Parser::new();
    source::each_line(&files, &mut parser, c.progress, false, |p, line| {
        let Some(kind) = detect(line.text) else {
            return Ok(());
        };
        let ids = p.ids(kind, line.text);
        if related(&keys, &ids) {
            let t = p.time_of(line.text).map_or(0, |t| t.as_micros());
            let n = hits.len();
            hits.push((
                t,
                n,
                format!(
                    "{}:{}: {}",
                    line.file,
                    line.no,
                    String::from_utf8_lossy(line.text)
                ),
            ));
        }
        Ok(())
    })?;
    if hits.is_empty() {
        return Err(Fail(format!("no line about '{id}'"), 1));
    }
    hits.sort();
    let mut o = String::new();
    for h in hits {
        o.push_str(&h.2);
        o.push('\n');
    }
    write_stdout(o.as_bytes())
}

// ---------------------------------------------------------------------------------------
// convert

fn cmd_convert(args: &[String]) -> Result<(), Fail> {
    let mut to: Option<Family> = None;
    let mut host: Option<String> = None;
    let mut utc = false;
    let c = parse_args(args, |name, v| {
        Ok(match name {
            "--to" | "-t" => {
                let s = need(name, v)?;
                to = Some(match s.as_str() {
                    "postfix" => Family::Postfix,
                    "ec" => Family::Ec,
                    "imta" | "sun" => Family::Imta,
                    "json" => Family::Json,
                    _ => {
                        return Err(usage(&format!(
                            "mtalog: --to wants postfix, ec, imta or json, not '{s}'"
                        )));
                    }
                });
                2
            }
            "--host" => {
                host = Some(need(name, v)?.clone());
                2
            }
            "--utc" => {
                utc = true;
                1
            }
            _ => 0,
        })
    })?;
    let to = to.ok_or_else(|| usage("mtalog: convert needs --to postfix|ec|imta|json"))?;
    let ctx = FormatContext::current(Level::Error);
    let mut fmt: Box<dyn Formatter> = match to {
        Family::Ec => Box::new(mtalog::format::ec::Ec::default()),
        Family::Postfix => {
            let s = mtalog::format::postfix::Settings {
                host: host.clone().unwrap_or_else(|| {
                    let h = ctx.hostname.split('.').next().unwrap_or("").to_owned();
                    if h.is_empty() { "localhost".into() } else { h }
                }),
                pid: std::process::id(),
                ..Default::default()
            };
            Box::new(mtalog::format::postfix::Postfix::new(
                s,
                mtalog::format::zone(utc),
            ))
        }
        Family::Imta => {
            let mut o = mtalog::format::imta::ImtaOptions::defaults(&ctx);
            o.utc = utc;
            o.log_message_id = true;
            if let Some(h) = &host {
                o.host = h.clone();
                o.node = h.clone();
            }
            Box::new(mtalog::format::imta::Imta::new(o))
        }
        // Records of a logger called `convert`, on this host (or --host) and process.
        Family::Json => Box::new(mtalog::format::json::Json::new(
            "convert",
            host.as_deref().unwrap_or(&ctx.hostname),
            std::process::id(),
            mtalog::sys::random_u64(),
            mtalog::format::Target::Main,
            Level::Error,
        )),
    };
    let files = source::order(&c.files);
    let mut parser = Parser::new();
    let mut recs = Vec::new();
    let mut out = Out::default();
    let mut w = io::BufWriter::with_capacity(256 * 1024, io::stdout().lock());
    let mut bad = 0u64;
    source::each_line(&files, &mut parser, c.progress, true, |p, line| {
        recs.clear();
        if p.line(line.text, &mut recs).is_err() {
            bad += u64::from(!line.text.is_empty());
            return Ok(());
        }
        for r in recs.iter().filter(|r| r.ev.kind != Kind::Attempt) {
            emit(fmt.as_mut(), &mut out, &mut w, &r.ev)?;
        }
        Ok(())
    })?;
    recs.clear();
    parser.finish(&mut recs);
    for r in recs.iter().filter(|r| r.source != PARTIAL) {
        emit(fmt.as_mut(), &mut out, &mut w, &r.ev)?;
    }
    w.flush().map_err(out_err)?;
    if bad > 0 {
        eprintln!(
            "mtalog: {bad} line(s) not understood and not converted; 'mtalog check' lists them"
        );
    }
    Ok(())
}

/// Writes the lines the library's formatter makes of `ev`.
fn emit(
    fmt: &mut dyn Formatter,
    out: &mut Out,
    w: &mut impl Write,
    ev: &mtalog::event::Event,
) -> Result<(), String> {
    out.clear();
    fmt.format(ev, out);
    for b in &out.bufs {
        w.write_all(b).map_err(out_err)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ctl

/// How long `ctl` waits for the reply by default (a `reopen logs` waits for the writers,
/// up to their `close_timeout`).
const CTL_TIMEOUT: u64 = 60;

fn cmd_ctl(args: &[String]) -> Result<(), Fail> {
    let mut args = args;
    let mut timeout = CTL_TIMEOUT;
    if args.first().is_some_and(|a| a == "--timeout") {
        timeout = args
            .get(1)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&t| t > 0)
            .ok_or_else(|| usage("mtalog: ctl --timeout needs a number of seconds (1 or more)"))?;
        args = &args[2..];
    }
    if args.len() < 2 {
        return Err(usage("mtalog: ctl needs a SOCKET and a COMMAND"));
    }
    let path = &args[0];
    let command = args[1..].join(" ");
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        Fail(
            format!("cannot connect to the control socket {path}: {e}"),
            2,
        )
    })?;
    let io_err = |e: io::Error| {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            Fail(format!("{path}: no reply within {timeout} s"), 2)
        } else {
            Fail(format!("{path}: {e}"), 2)
        }
    };
    let limit = Some(std::time::Duration::from_secs(timeout));
    s.set_read_timeout(limit).map_err(io_err)?;
    s.set_write_timeout(limit).map_err(io_err)?;
    s.write_all(format!("{command}\n").as_bytes())
        .map_err(io_err)?;
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).map_err(io_err)?;
    if reply.starts_with(b"error: ") {
        let _ = io::stderr().write_all(&reply);
        if !reply.ends_with(b"\n") {
            eprintln!();
        }
        return Err(Fail(String::new(), 1));
    }
    write_stdout(&reply)
}
