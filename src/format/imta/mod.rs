//! Sun Java System Messaging Server logs (spec/sun-messaging.md): the MTA transaction log
//! (`mail.log_current`, optionally `connection.log_current`) for mail events and the
//! service log (`[date] host process[pid]: General Level: text`) for `log_error` texts.
//!
//! Line layout of a message entry (optional parts in brackets, in Sun's order):
//!
//! ```text
//! date time [node] [procid] src12 dst12 code size from rfc822;orig to [notary] [file]
//!     [envelope-id] [message-id] [user] [connection] [reason] [diagnostic] [transport]
//!     [application] [queue-time]
//! ```
//!
//! and of a connection entry: `date time [node] [procid] chan12 +|-12 code
//! transport application [extra]`, where only `X` carries the extra text.
//!
//! The process id is `<pid>.<thread>.<seq>`: the host's pid and the thread's number in
//! lower-case hex, then the thread's sequence number in decimal. A thread's number is given
//! by this log on the thread's first event (1, 2, ... in that order); its sequence number
//! starts at 0 and counts the events the thread logged, and every line of one event shares
//! it. The diagnostic of a `D` entry is `dns;<mx> [(transport)] smtp;<reply>`, and a `D`
//! with no remote server (neither MX name nor address known) has no diagnostic field.
//!
//! Hostile content (one rule for every line this module writes):
//!
//! 1. A control byte (0x00-0x1f, 0x7f; CR, LF and NUL included) inside any value becomes
//!    one space, so one event is always exactly one physical line ending in `\n`. A single
//!    trailing newline of a note or error text is the line end, not content, and is
//!    dropped first.
//! 2. With `log_format = 1` or `2` the only values that keep spaces are the free texts
//!    that run to the end of the entry: the reason and the diagnostic of a message entry
//!    and the extra text of an `X` connection entry. In every other field (channels,
//!    addresses, file name, envelope id, message id, user name, transport and application
//!    information, node, process id) a space becomes `_`. The connection-info field of
//!    `E`, `J` and `B` entries keeps Sun's own two separators (`helo (rdns [ip])`, or
//!    `helo ([ip])` when the reverse name is unknown); inside its three parts spaces become
//!    `_`, and in the reverse name and the address `(`, `)`, `[` and `]` become `_` too.
//!    Transport and application information and the queue time, which follow the
//!    diagnostic, never contain a space, so a parser takes them from the end of the line
//!    and the free texts are what lies between. The reason is the reply text of the note
//!    that the diagnostic ends with (or the whole note when it has no reply code), which
//!    tells a parser where the reason ends.
//! 3. With `log_format = 3` every variable-length field is preceded by `N:`, N being its
//!    length in characters (a byte sequence that is not UTF-8 counts as one, as a lossy
//!    UTF-8 decoder shows it), and keeps its spaces (rule 1 still applies); the fixed
//!    fields (node, process id, channels, entry code, size, NOTARY flags, queue time)
//!    follow rule 2.
//! 4. With `log_format = 2` an empty envelope From or current To is written `<>`.
//!
//! The writer is [`Imta`]. [`parse_line`] reads exactly this grammar back and
//! [`parse_service_line`] the service log lines; [`read`] turns them into events.

mod entry;
mod options;
pub mod read;
mod write;

pub use crate::format::text::reply_code;
pub use entry::{Entry, ServiceEntry, parse_line, parse_service_line};
pub use options::{
    CONN_APPLICATION, CONN_ENTRIES, CONN_INFO, CONN_TRANSPORT, DEFAULT_DIR, ImtaOptions,
    SERVICE_LEVELS, options, sun_level,
};
pub use write::Imta;

use std::path::PathBuf;

use crate::config::{ConfigError, Options};
use crate::format::{FileSpec, FormatContext, KindSetup, Target};

/// Reads imta_logger's options: file locations and modes plus [`options`].
///
/// Files: `logdir` (`/var/log/imta`), `mainlog` (`<logdir>/mail.log_current`),
/// `connection_log` (`<logdir>/connection.log_current`, written only with
/// `separate_connection_log = true`; otherwise connection entries go to the main log),
/// `paniclog` (the service log, `<logdir>/<service_name>`; not opened with
/// `loglevel = Nolog`), `mainlog_mode`, `connection_log_mode`, `paniclog_mode` (0644).
///
/// Lines: `log_connection` (0; bits 0, 1, 5, 6 used, others ignored), `log_filename`,
/// `log_envelope_id`, `log_message_id`, `log_notary`, `log_process`, `log_username`,
/// `log_node`, `log_reason`, `log_queue_time`, `separate_connection_log`,
/// `log_reception_note`, `legacy_codes` (all false), `log_diagnostics` (true),
/// `log_format` (1; 1-3), `log_sensitivity`, `log_priority`, `log_intermediate`,
/// `log_filter` (only 0), `block_size` (1024), `inbound_channel` (`tcp_local`),
/// `auth_channel` (`tcp_auth`), `outbound_channel` (`tcp_local`), `utc` (false). Service
/// log: `loglevel` or `service_loglevel` (Notice; Nolog, Critical, Error, Warning,
/// Notice, Information, Debug; any case), `service_default_level` (the level of a
/// `log_error` text without a severity prefix; Critical ... Debug, default the common
/// `error_default_level`, itself Error by default), `service_name` (`imta`),
/// `process_name` (file name of the executable, else `mta`).
pub fn setup(o: &mut Options<'_>, ctx: &FormatContext) -> Result<KindSetup, ConfigError> {
    let opts = options(o, ctx)?;
    let dir = o
        .path("logdir")?
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let main_mode = o.mode(&["mainlog_mode"], 0o644)?;
    let panic_mode = o.mode(&["paniclog_mode"], 0o644)?;
    let conn_mode = o.mode(&["connection_log_mode"], 0o644)?;
    // A path of its own, or a name in `logdir`.
    let mut file = |target, key: &'static str, mode, name: &str| {
        Ok::<_, ConfigError>(match o.path(key)? {
            Some(path) => FileSpec {
                target,
                path,
                mode,
                key,
            },
            None => FileSpec {
                target,
                path: dir.join(name),
                mode,
                key: "logdir",
            },
        })
    };
    let main = file(Target::Main, "mainlog", main_mode, "mail.log_current")?;
    let panic = file(Target::Panic, "paniclog", panic_mode, &opts.service_name)?;
    let conn = file(
        Target::Connection,
        "connection_log",
        conn_mode,
        "connection.log_current",
    )?;
    let mut files = vec![main];
    if opts.separate_connection_log {
        files.push(conn);
    }
    if opts.loglevel.is_some() {
        files.push(panic);
    }
    Ok(KindSetup {
        files,
        formatter: Box::new(Imta::new(opts)),
        heartbeat: None,
        records: false,
    })
}

#[cfg(test)]
mod tests;
