//! [`LoggerKind`]: the one table of logger kinds: the names the host passes to
//! `mtalog_new` (byte-identical to Momentum's module names), their descriptions, their
//! setup functions and the fields their lines read.

use std::ffi::CStr;

use super::{FormatContext, KindSetup, Target, bounce, ec, imta, json, postfix};
use crate::config::{ConfigError, Options};
use crate::event::{KIND_COUNT, Kind};

/// A logger kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoggerKind {
    /// Momentum `ec_logger`: mainlog, rejectlog, paniclog, acctlog, importlog.
    Ec,
    /// Postfix-style mainlog and paniclog.
    Postfix,
    /// Sun Java System Messaging Server MTA log.
    Imta,
    /// JSON lines: one JSON object per event.
    Json,
    /// Momentum `bounce_logger`: the bouncelog, with bounce classes.
    Bounce,
}

impl LoggerKind {
    /// Every kind.
    pub const ALL: [LoggerKind; 5] = [
        LoggerKind::Ec,
        LoggerKind::Postfix,
        LoggerKind::Imta,
        LoggerKind::Json,
        LoggerKind::Bounce,
    ];

    /// The kind's `module_name` and `module_description`, as the C strings the vtable
    /// points to.
    pub fn c_names(self) -> (&'static CStr, &'static CStr) {
        match self {
            LoggerKind::Ec => (
                c"ec_logger",
                c"Momentum-style logging (mainlog, rejectlog, paniclog, acctlog, importlog)",
            ),
            LoggerKind::Postfix => (
                c"postfix_logger",
                c"Postfix-style logging that pflogsumm reads",
            ),
            LoggerKind::Imta => (
                c"imta_logger",
                c"Sun Java System Messaging Server MTA logging",
            ),
            LoggerKind::Json => (
                c"json_logger",
                c"JSON lines: one JSON object per event (schema v1), for log pipelines",
            ),
            LoggerKind::Bounce => (
                c"bounce_logger",
                c"Momentum-style bounce logging (bouncelog: B and T records with bounce classes)",
            ),
        }
    }

    /// The kind's name (`ec_logger`, ...).
    pub fn name(self) -> &'static str {
        self.c_names().0.to_str().expect("ASCII")
    }

    /// The kind's one-line description.
    pub fn description(self) -> &'static str {
        self.c_names().1.to_str().expect("ASCII")
    }

    /// The kind called `name`.
    pub fn from_name(name: &str) -> Option<LoggerKind> {
        LoggerKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The names of every kind, for messages (`ec_logger, postfix_logger, ...`).
    pub fn names() -> String {
        let names: Vec<&str> = LoggerKind::ALL.iter().map(|k| k.name()).collect();
        names.join(", ")
    }

    /// Reads the kind's own options (and marks them used) for the logger named `name`.
    pub fn setup(
        self,
        o: &mut Options<'_>,
        ctx: &FormatContext,
        name: &str,
    ) -> Result<KindSetup, ConfigError> {
        match self {
            LoggerKind::Ec => ec::setup(o, ctx),
            LoggerKind::Postfix => postfix::setup(o, ctx),
            LoggerKind::Imta => imta::setup(o, ctx),
            LoggerKind::Json => json::setup(o, ctx, name),
            LoggerKind::Bounce => bounce::setup(o, ctx),
        }
    }

    /// The file an `mtalog_acct_log` (`Kind::Acct`) or `mtalog_import_log`
    /// (`Kind::Import`) record goes to, for the kinds that accept them
    /// ([`KindSetup::records`]): ec_logger's acctlog and importlog, json_logger's mainlog
    /// (bounce_logger takes none: its one file).
    pub fn record_target(self, kind: Kind) -> Target {
        match self {
            LoggerKind::Json | LoggerKind::Bounce => Target::Main,
            LoggerKind::Ec | LoggerKind::Postfix | LoggerKind::Imta => match kind {
                Kind::Import => Target::Import,
                _ => Target::Acct,
            },
        }
    }

    /// The APP-NAME of the kind's syslog messages (json_logger: `mtalog`, the program that
    /// writes the records; bounce_logger: `ecelerity`, as Momentum's bouncelog); `None` when
    /// each line carries its own syslog tag (postfix_logger: `postfix/smtp[PID]: `).
    pub fn syslog_app(self) -> Option<&'static str> {
        match self {
            LoggerKind::Ec => Some("ecelerity"),
            LoggerKind::Postfix => None,
            LoggerKind::Imta => Some("imta"),
            LoggerKind::Json => Some("mtalog"),
            LoggerKind::Bounce => Some("ecelerity"),
        }
    }

    /// Whether the kind's files follow Sun's rotation defaults.
    pub fn sun_rotation(self) -> bool {
        self == LoggerKind::Imta
    }

    /// The text fields the kind's lines read, per event kind, as bits
    /// `1 << Field as u64`; the hooks copy only these out of the host's objects (the
    /// kinds whose formats depend on their options get every field).
    pub fn fields_used(self) -> [u64; KIND_COUNT] {
        Kind::ALL.map(|k| match self {
            LoggerKind::Ec => ec::fields_used(k),
            LoggerKind::Json => json::fields_used(k),
            LoggerKind::Bounce => bounce::fields_used(k),
            LoggerKind::Postfix | LoggerKind::Imta => u64::MAX,
        })
    }
}

impl std::fmt::Display for LoggerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
