//! The console: one command parser and one set of replies, for `mtalog_console` and the
//! control socket alike.
//!
//! Commands: `help`, `reopen logs`, `stats`, each optionally prefixed with `KIND:NAME`
//! (Momentum's `ec_logger:NAME reopen logs`) to address one logger. A logger whose writer
//! thread failed refuses every command.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;
use crate::pipeline::Port;

/// The reply to `help`.
pub const HELP: &str =
    "reopen logs\n\tClose and reopen log files\nstats\n\tShow logger statistics\n";

/// One running logger the console may address.
pub struct Logger<'a> {
    /// Its kind (`ec_logger`, ...).
    pub kind: &'a str,
    /// Its instance name.
    pub name: &'a str,
    /// Its writer.
    pub port: &'a Port,
}

/// What a command answered.
#[derive(Debug)]
pub struct Reply {
    /// The text for the operator (failures included).
    pub text: String,
    /// The first failure, if any.
    pub error: Option<Error>,
}

/// Runs `line` on `loggers` (all of them, or the one a `KIND:NAME` prefix names); their
/// replies are concatenated. When several loggers share the console (a control socket
/// that several name), every line of a logger's reply starts with `KIND:NAME: `, so that
/// each can be told apart; `help` is answered once. A wait for a writer ends early once
/// `stop` is set.
pub fn run(loggers: &[Logger<'_>], line: &str, stop: Option<&AtomicBool>) -> Reply {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let mut only = None;
    if let Some((k, n)) = words.first().and_then(|w| w.split_once(':')) {
        only = Some((k, n));
        words.remove(0);
    }
    let chosen: Vec<&Logger<'_>> = loggers
        .iter()
        .filter(|l| only.is_none_or(|(k, n)| l.kind == k && l.name == n))
        .collect();
    if chosen.is_empty() {
        let e = match only {
            Some((k, n)) => Error::Invalid(format!("no logger {k}:{n} here")),
            None => Error::NotRunning,
        };
        return Reply {
            text: format!("{e}\n"),
            error: Some(e),
        };
    }
    let mut reply = Reply {
        text: String::new(),
        error: None,
    };
    if words == ["help"] {
        reply.text.push_str(HELP);
        return reply;
    }
    for l in chosen {
        let text = match command(l.port, &words, stop) {
            Ok(t) => t,
            Err(e) => {
                let t = reply_text(&words, &e);
                reply.error.get_or_insert(e);
                t
            }
        };
        if loggers.len() > 1 {
            for line in text.lines() {
                reply
                    .text
                    .push_str(&format!("{}:{}: {line}\n", l.kind, l.name));
            }
        } else {
            reply.text.push_str(&text);
        }
    }
    reply
}

/// The text of a failed command.
fn reply_text(words: &[&str], e: &Error) -> String {
    match words {
        ["reopen", "logs"] if !matches!(e, Error::Failed(_)) => format!("reopen failed: {e}\n"),
        _ => format!("{e}\n"),
    }
}

/// Runs one command on one logger.
fn command(port: &Port, words: &[&str], stop: Option<&AtomicBool>) -> Result<String, Error> {
    if port.shared.failed.load(Ordering::Relaxed) {
        return Err(Error::Failed(
            "the writer thread failed; this logger stopped writing".into(),
        ));
    }
    match words {
        ["reopen", "logs"] => port
            .reopen(stop)
            .map(|()| "Log files reopened\n".to_owned()),
        ["stats"] => Ok(port.stats().lines()),
        _ => Err(Error::Invalid(format!(
            "unknown command '{}'; try 'help'",
            words.join(" ")
        ))),
    }
}
