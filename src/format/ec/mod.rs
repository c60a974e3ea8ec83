//! Momentum `ec_logger` formats: mainlog (R, D, X, T, P, heartbeat), rejectlog, paniclog,
//! acctlog and importlog (spec/momentum.md).
//!
//! Escaping (one rule for every file, so that one event is one line and no value can move
//! another field): in `@`-separated fields `@` and `\` get a `\` in front; control bytes
//! become `\n`, `\r`, `\t` or `\xHH` everywhere; the trailing free text of T/P, rejectlog
//! and paniclog lines keeps `@` raw but escapes `\` and control bytes; a single trailing
//! newline of a `log_error` text is the line end, not content. Inside rejectlog's quoted
//! values `"` and `\` are backslash-escaped; in its bare tokens (`E=`, `M=`) spaces and
//! quotes become `\xHH`; inside `CTXCONN=[...]`/`CTXMESS=[...]` `]` becomes `\x5d`.
//!
//! The writer is [`Ec`]; [`read`] reads the lines back into events.

pub mod read;
mod write;

pub use crate::format::text::{bare_address, split_address};
pub use write::{Ec, push_field, push_text};

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{ConfigError, Options};
use crate::event::{Field, Kind};
use crate::format::{FileSpec, FormatContext, KindSetup, Target};

/// Momentum's documented default directory.
pub const DEFAULT_DIR: &str = "/var/log/ecelerity";

/// Reads ec_logger's own options: the five paths and their modes, `heartbeat` and
/// `log_hires_timestamp`. An unset `importlog` or `acctlog` is not written.
pub fn setup(o: &mut Options<'_>, _ctx: &FormatContext) -> Result<KindSetup, ConfigError> {
    let mut files = Vec::new();
    let table: [(Target, &str, &[&str], Option<&str>); 5] = [
        (
            Target::Main,
            "mainlog",
            &["mainlog_mode"],
            Some("mainlog.ec"),
        ),
        (
            Target::Reject,
            "rejectlog",
            &["rejectlog_mode"],
            Some("rejectlog.ec"),
        ),
        (
            Target::Panic,
            "paniclog",
            &["paniclog_mode"],
            Some("paniclog.ec"),
        ),
        (
            Target::Acct,
            "acctlog",
            &["acctlog_log_mode", "acctlog_mode"],
            None,
        ),
        (Target::Import, "importlog", &["importlog_mode"], None),
    ];
    for (target, key, mode_keys, default) in table {
        let mode = o.mode(mode_keys, 0o644)?;
        let path = match (o.path(key)?, default) {
            (Some(p), _) => p,
            (None, Some(d)) => PathBuf::from(DEFAULT_DIR).join(d),
            (None, None) => continue,
        };
        files.push(FileSpec {
            target,
            path,
            mode,
            key,
        });
    }
    let heartbeat = o.duration(&["heartbeat"], Duration::from_secs(60))?;
    let hires = o.boolean("log_hires_timestamp", false)?;
    Ok(KindSetup {
        files,
        formatter: Box::new(Ec::new(hires)),
        heartbeat: (!heartbeat.is_zero()).then_some(heartbeat),
        records: true,
    })
}

/// The fields the line of each event kind reads, as bits `1 << Field as u64`: the hooks
/// copy only these out of the host's objects ([`LoggerKind::fields_used`](crate::format::LoggerKind::fields_used)). The
/// `Protocol` field is always kept (the hooks derive the ESMTP flag from it).
pub fn fields_used(kind: Kind) -> u64 {
    use Field::*;
    let bits = |fs: &[Field]| fs.iter().fold(0u64, |m, f| m | 1 << *f as u64);
    let ids = bits(&[MsgId, BatchId, ConnId, AcceptConnId, Protocol]);
    let mail = ids | bits(&[DomainName, BindingGroup, Binding, MxIp]);
    match kind {
        Kind::Reception => ids | bits(&[MailFrom, RcptTo, PeerIp, BindingGroup, Binding]),
        Kind::Delivery | Kind::Attempt => mail,
        Kind::TransientFailure | Kind::PermanentFailure => mail | bits(&[Note]),
        Kind::Rejection => bits(&[
            PeerIp,
            LocalIp,
            AcceptConnId,
            ConnId,
            Protocol,
            VPathway,
            VPathwayGroup,
            VModule,
            VCtxConn,
            VCtxMess,
            Note,
        ]),
        Kind::Error | Kind::Acct | Kind::Import => u64::MAX,
    }
}

/// The id printed when the host gave none.
pub const NULL_ID: &[u8] = b"00/00-00000-00000000";

/// `MC_STATE_*` phase texts; other values print `unknown`.
pub const PHASES: [&str; 22] = [
    "just connected",
    "sending banner",
    "awaiting ehlo/helo",
    "sending ehlo/helo response",
    "awaiting mailfrom",
    "sending mailfrom response",
    "awaiting rcptto",
    "sending rcptto response",
    "data phase",
    "reading body",
    "sending body response",
    "async body handler",
    "async body response",
    "relaying denied",
    "extension 1",
    "extension 2",
    "extension 3",
    "extension 4",
    "concurrency limit",
    "rcptto list response",
    "rcptto list final response",
    "esmtp setup phase",
];

/// The rejectlog `P=` text of a phase value.
pub fn phase_text(phase: i32) -> &'static str {
    usize::try_from(phase)
        .ok()
        .and_then(|p| PHASES.get(p))
        .copied()
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests;
