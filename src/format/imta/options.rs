//! imta_logger's options: what shapes the lines, read from the configuration.

use crate::config::{ConfigError, Options, err};
use crate::format::{FormatContext, Level};

/// Sun's log directory stand-in.
pub const DEFAULT_DIR: &str = "/var/log/imta";

/// `LOG_CONNECTION` bit 0: connection info in message entries.
pub const CONN_INFO: u32 = 1;
/// `LOG_CONNECTION` bit 1: `O`, `Y` and `X` connection entries.
pub const CONN_ENTRIES: u32 = 2;
/// `LOG_CONNECTION` bit 5: transport information in message entries.
pub const CONN_TRANSPORT: u32 = 32;
/// `LOG_CONNECTION` bit 6: application information in message entries.
pub const CONN_APPLICATION: u32 = 64;

/// Service log levels as printed, most severe first.
pub const SERVICE_LEVELS: [&str; 6] = [
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Information",
    "Debug",
];

/// Our [`Level`] for each of [`SERVICE_LEVELS`].
pub(super) const LEVEL_OF_RANK: [Level; 6] = [
    Level::Critical,
    Level::Error,
    Level::Warning,
    Level::Notice,
    Level::Info,
    Level::Debug,
];

/// The options that shape imta_logger lines (also what [`parse_line`](super::parse_line) needs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImtaOptions {
    /// `log_connection` bit mask.
    pub log_connection: u32,
    /// `log_filename`: queue file name field.
    pub log_filename: bool,
    /// `log_message_id`: Message-ID field.
    pub log_message_id: bool,
    /// `log_notary`: NOTARY flags field.
    pub log_notary: bool,
    /// `log_envelope_id`: envelope id (DSN ENVID) field.
    pub log_envelope_id: bool,
    /// `log_queue_time`: seconds since reception, after the application information.
    pub log_queue_time: bool,
    /// `legacy_codes`: the 2005-era entry codes, without the `E` (ESMTP) modifier (the `C`
    /// modifier, CHUNKING, is never written: the hooks do not report it).
    pub legacy_codes: bool,
    /// `log_process`: process id field after the time stamp.
    pub log_process: bool,
    /// `log_username`: user name field.
    pub log_username: bool,
    /// `log_node`: node name field after the time stamp.
    pub log_node: bool,
    /// `log_reason`: reason field in `R` and `K` entries.
    pub log_reason: bool,
    /// `log_diagnostics`: delivery status / diagnostic field.
    pub log_diagnostics: bool,
    /// `log_format`: 1 plain, 2 `<>` for empty addresses, 3 length-counted fields.
    pub log_format: u8,
    /// `log_reception_note`: the reception hook's note as the diagnostic of `E` entries.
    pub log_reception_note: bool,
    /// `separate_connection_log`: connection entries go to `connection.log_current`.
    pub separate_connection_log: bool,
    /// `block_size`: bytes per size unit.
    pub block_size: u64,
    /// `inbound_channel`.
    pub inbound_channel: String,
    /// `auth_channel`: source channel of sessions with SMTP AUTH.
    pub auth_channel: String,
    /// `outbound_channel`.
    pub outbound_channel: String,
    /// `utc`: UTC instead of local time.
    pub utc: bool,
    /// Service log threshold as an index into [`SERVICE_LEVELS`]; `None` = `Nolog`.
    pub loglevel: Option<usize>,
    /// `service_name`.
    pub service_name: String,
    /// `process_name`.
    pub process_name: String,
    /// Short host name (service log).
    pub host: String,
    /// Full host name (node field).
    pub node: String,
    /// Host process id.
    pub pid: u32,
    /// The user the host process runs as (user name field without SMTP AUTH; empty when
    /// the user database has no name for it).
    pub process_user: String,
    /// Level of a `log_error` text without a severity prefix (`service_default_level`,
    /// else `error_default_level`).
    pub default_level: Level,
}

impl ImtaOptions {
    /// The defaults, for a given context.
    pub fn defaults(ctx: &FormatContext) -> ImtaOptions {
        ImtaOptions {
            log_connection: 0,
            log_filename: false,
            log_message_id: false,
            log_notary: false,
            log_envelope_id: false,
            log_queue_time: false,
            legacy_codes: false,
            log_process: false,
            log_username: false,
            log_node: false,
            log_reason: false,
            log_diagnostics: true,
            log_format: 1,
            log_reception_note: false,
            separate_connection_log: false,
            block_size: 1024,
            inbound_channel: "tcp_local".into(),
            auth_channel: "tcp_auth".into(),
            outbound_channel: "tcp_local".into(),
            utc: false,
            loglevel: Some(3),
            service_name: "imta".into(),
            process_name: default_process_name(),
            host: short_host(&ctx.hostname),
            node: ctx.hostname.clone(),
            pid: ctx.pid,
            process_user: crate::sys::effective_user_name().unwrap_or_default(),
            default_level: ctx.error_default_level,
        }
    }
}

fn default_process_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "mta".to_owned())
}

fn short_host(h: &str) -> String {
    let s = h.split('.').next().unwrap_or("");
    if s.is_empty() {
        "localhost".into()
    } else {
        s.into()
    }
}

fn channel(o: &mut Options<'_>, key: &str, default: &str) -> Result<String, ConfigError> {
    match o.entry(&[key]) {
        None => Ok(default.to_owned()),
        Some(e) => {
            let v = &e.value;
            if v.is_empty() || v == "+" || v == "-" || v.bytes().any(|b| b <= b' ' || b == 0x7f) {
                Err(err(
                    e,
                    "a channel name must be one word (not empty, not + or -, no spaces)",
                ))
            } else {
                Ok(v.clone())
            }
        }
    }
}

/// Reads imta_logger's own line-shaping options (everything but paths and modes).
pub fn options(o: &mut Options<'_>, ctx: &FormatContext) -> Result<ImtaOptions, ConfigError> {
    let mut x = ImtaOptions::defaults(ctx);
    x.log_connection = o.uint("log_connection", 0, 0, u32::MAX as u64)? as u32;
    x.log_filename = o.boolean("log_filename", false)?;
    x.log_message_id = o.boolean("log_message_id", false)?;
    x.log_notary = o.boolean("log_notary", false)?;
    x.log_envelope_id = o.boolean("log_envelope_id", false)?;
    x.log_queue_time = o.boolean("log_queue_time", false)?;
    x.legacy_codes = o.boolean("legacy_codes", false)?;
    x.log_process = o.boolean("log_process", false)?;
    x.log_username = o.boolean("log_username", false)?;
    x.log_node = o.boolean("log_node", false)?;
    x.log_reason = o.boolean("log_reason", false)?;
    x.log_diagnostics = o.boolean("log_diagnostics", true)?;
    x.log_format = o.uint("log_format", 1, 1, 3)? as u8;
    x.log_reception_note = o.boolean("log_reception_note", false)?;
    x.separate_connection_log = o.boolean("separate_connection_log", false)?;
    for key in [
        "log_sensitivity",
        "log_priority",
        "log_intermediate",
        "log_filter",
    ] {
        if let Some(e) = o.entry(&[key]) {
            if e.value != "0" && !e.value.eq_ignore_ascii_case("false") {
                return Err(err(e, "not supported (only 0)"));
            }
        }
    }
    x.block_size = o.uint("block_size", 1024, 1, u64::MAX)?;
    x.inbound_channel = channel(o, "inbound_channel", "tcp_local")?;
    x.auth_channel = channel(o, "auth_channel", "tcp_auth")?;
    x.outbound_channel = channel(o, "outbound_channel", "tcp_local")?;
    x.utc = o.boolean("utc", false)?;
    if let Some(e) = o.entry(&["loglevel", "service_loglevel"]) {
        let v = e.value.to_ascii_lowercase();
        x.loglevel = match v.as_str() {
            "nolog" => None,
            "info" => Some(4),
            _ => match SERVICE_LEVELS
                .iter()
                .position(|l| l.eq_ignore_ascii_case(&v))
            {
                Some(i) => Some(i),
                None => {
                    return Err(err(
                        e,
                        format!(
                            "expected one of Nolog|Critical|Error|Warning|Notice|Information|Debug, got '{}'",
                            e.value
                        ),
                    ));
                }
            },
        };
    }
    if let Some(e) = o.entry(&["service_default_level"]) {
        let v = e.value.to_ascii_lowercase();
        let rank = if v == "info" {
            Some(4)
        } else {
            SERVICE_LEVELS
                .iter()
                .position(|l| l.eq_ignore_ascii_case(&v))
        };
        x.default_level = match rank {
            Some(r) => LEVEL_OF_RANK[r],
            None => {
                return Err(err(
                    e,
                    format!(
                        "expected one of Critical|Error|Warning|Notice|Information|Debug, got '{}'",
                        e.value
                    ),
                ));
            }
        };
    }
    if let Some(e) = o.entry(&["service_name"]) {
        // The service log's file name in `logdir`.
        let v = e.value.as_str();
        if v.is_empty() || v == "." || v == ".." || v.contains(['/', '\0']) {
            return Err(err(e, "must be a non-empty file name"));
        }
        x.service_name = e.value.clone();
    }
    if let Some(e) = o.entry(&["process_name"]) {
        if e.value.is_empty() {
            return Err(err(e, "must not be empty"));
        }
        x.process_name = e.value.clone();
    }
    Ok(x)
}

/// Our [`Level`] as an index into [`SERVICE_LEVELS`].
pub fn sun_level(l: Level) -> usize {
    match l {
        Level::Debug => 5,
        Level::Info => 4,
        Level::Notice => 3,
        Level::Warning => 2,
        Level::Error => 1,
        Level::Critical | Level::Fatal | Level::Panic => 0,
    }
}

/// Which entries carry a diagnostic field under the options (a `D` needs a remote server
/// too: one whose event names its MX host or address).
pub(super) fn has_diagnostic(action: u8, o: &ImtaOptions) -> bool {
    o.log_diagnostics
        && match action {
            b'D' | b'Q' | b'R' | b'K' | b'J' | b'B' => true,
            b'E' => o.log_reception_note,
            _ => false,
        }
}

/// Receiving-side entries, whose connection info is `helo (rdns [ip])`.
pub(super) fn inbound_action(action: u8) -> bool {
    matches!(action, b'E' | b'J' | b'B')
}
