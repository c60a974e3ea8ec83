//! `json_logger`: one JSON object per event and line (schema version 1), for the log
//! pipelines that fleets run (rsyslog, syslog-ng, Vector, Fluent Bit, Filebeat).
//!
//! Every line is `{"v":1,"time":...,"type":...,"logger":...,"host":...,"pid":...,
//! "seq":...,"event_id":...` then the keys of its type, in a fixed order, then `}\n`; a
//! key whose value the host did not give is absent (never `null`, never `""`). The keys,
//! their order and types are listed in `docs/json-logger.md`, and are written by
//! [`Json`] in that order.
//!
//! Strings: valid UTF-8 is kept; `"`, `\`, the C0 controls, DEL, the C1 controls and
//! U+2028/U+2029 are escaped (`\n`, `\r`, `\t`, `\b`, `\f`, `\"`, `\\`, else `\u00XX` /
//! `\u2028`); each maximal sequence of bytes that is not UTF-8 becomes one U+FFFD (as
//! `String::from_utf8_lossy` does) and is counted in the `invalid_utf8` counter. So every
//! line is valid UTF-8 and JSON, and one event is always one line.
//!
//! `seq` counts the logger's records from 1 in the order they are written; `event_id` is
//! the logger's random 64-bit boot id (drawn from the kernel when the logger starts, and
//! again in a forked child) followed by `seq`, both as 16 lower-case hex digits.
//!
//! The writer is [`Json`]; [`read`] reads the lines back into events.

pub mod read;
mod write;

pub use write::{Json, auth_word, push_seconds, push_string, type_name};

use std::path::PathBuf;

use crate::config::{ConfigError, Options};
use crate::event::{Field, Kind};
use crate::format::{FileSpec, FormatContext, KindSetup, Target};

/// Default mainlog path.
pub const DEFAULT_MAINLOG: &str = "/var/log/mtalog/events.json";

/// The schema version written in every record's `"v"`.
pub const SCHEMA_VERSION: u64 = 1;

/// Reads json_logger's own options: `mainlog` (default [`DEFAULT_MAINLOG`]),
/// `mainlog_mode`, and `paniclog` with `paniclog_mode` (unset by default: `error` records,
/// mtalog's own faults among them, go to `mainlog`). `logger` is the instance name written
/// in every record.
pub fn setup(
    o: &mut Options<'_>,
    ctx: &FormatContext,
    logger: &str,
) -> Result<KindSetup, ConfigError> {
    let main_mode = o.mode(&["mainlog_mode"], 0o644)?;
    let panic_mode = o.mode(&["paniclog_mode"], 0o644)?;
    let main = o
        .path("mainlog")?
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MAINLOG));
    let mut files = vec![FileSpec {
        target: Target::Main,
        path: main,
        mode: main_mode,
        key: "mainlog",
    }];
    if let Some(path) = o.path("paniclog")? {
        files.push(FileSpec {
            target: Target::Panic,
            path,
            mode: panic_mode,
            key: "paniclog",
        });
    }
    let errors = files.last().map_or(Target::Main, |f| f.target);
    let formatter = Json::new(
        logger,
        &ctx.hostname,
        ctx.pid,
        crate::sys::random_u64(),
        errors,
        ctx.error_default_level,
    );
    Ok(KindSetup {
        files,
        formatter: Box::new(formatter),
        heartbeat: None,
        records: true,
    })
}

/// The fields the record of each event kind reads, as bits `1 << Field as u64` (see
/// [`LoggerKind::fields_used`](crate::format::LoggerKind::fields_used)).
pub fn fields_used(kind: Kind) -> u64 {
    use Field::*;
    let bits = |fs: &[Field]| fs.iter().fold(0u64, |m, f| m | 1 << *f as u64);
    let message = bits(&[
        MsgId,
        BatchId,
        ConnId,
        MailFrom,
        RcptTo,
        Binding,
        BindingGroup,
        Note,
    ]);
    match kind {
        Kind::Reception => message | bits(&[AcceptConnId, Protocol, PeerIp, LocalIp, Helo]),
        Kind::Delivery | Kind::Attempt | Kind::TransientFailure | Kind::PermanentFailure => {
            message | bits(&[DomainName, MxHost, MxIp])
        }
        Kind::Rejection => bits(&[
            AcceptConnId,
            Protocol,
            PeerIp,
            LocalIp,
            Helo,
            VMailFrom,
            VRcptTo,
            VModule,
            VPathway,
            VPathwayGroup,
            VCtxConn,
            VCtxMess,
            Note,
        ]),
        Kind::Error | Kind::Acct | Kind::Import => u64::MAX,
    }
}

#[cfg(test)]
mod tests;
