//! [`Settings`]: the options every logger kind has, beyond its own files and format.

use std::time::Duration;

use crate::config::{self, ConfigError, Fsync, Options, Overflow};
use crate::event::{KIND_COUNT, Kind};
use crate::file::OpenPolicy;
use crate::file::rotate::Policy;
use crate::file::syslog::SyslogOptions;
use crate::format::{Level, TARGET_COUNT};

/// Options every logger kind has (beyond its own paths and format options).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Channel capacity in events (`queue_size`, default 65536); each slot costs 64 bytes
    /// of memory from the start (docs/queue-memory.md).
    pub queue_size: usize,
    /// What a full queue does (`overflow`, default `block`).
    pub overflow: Overflow,
    /// Longest wait of a hook in block mode (`block_timeout`, default 0 = no bound).
    pub block_timeout: Option<Duration>,
    /// Bound of `log_close` (`close_timeout`, default 30 s).
    pub close_timeout: Duration,
    /// Longest time a line stays in the writer's buffer (`flush_interval`, default 1 s).
    pub flush_interval: Duration,
    /// fsync policy (`fsync`, default `close`).
    pub fsync: Fsync,
    /// Longest field or note in bytes (`max_field`, default 4096).
    pub max_field: usize,
    /// Level of unmarked `log_error` texts (`error_default_level`, default `error`).
    pub error_default_level: Level,
    /// Which event kinds are logged (the `log_*` filters), indexed by `Kind::index`.
    pub filters: [bool; KIND_COUNT],
    /// How files are opened.
    pub policy: OpenPolicy,
    /// Heartbeat interval of the kind, if any.
    pub heartbeat: Option<Duration>,
    /// Whether acctlog/importlog records are accepted.
    pub records: bool,
    /// Whether out-of-band bounces (`mtalog_bounce_log`) are written: `None` when the
    /// kind has no record for them, `Some(false)` when its options turn them off.
    pub bounces: Option<bool>,
    /// Reopen a file whose path was renamed or removed (`reopen_on_rename`, default off).
    pub reopen_on_rename: bool,
    /// Which targets have a file, indexed by `Target as usize`.
    pub targets: [bool; TARGET_COUNT],
    /// Rotation and retention of each target's file (see [`rotate::parse`](crate::file::rotate::parse)).
    pub rotation: [Policy; TARGET_COUNT],
    /// Unix socket accepting console commands (`control_socket`, default none).
    pub control_socket: Option<std::path::PathBuf>,
    /// Options of the syslog destinations (`syslog_facility`, ...).
    pub syslog: SyslogOptions,
}

/// Default queue capacity.
pub const DEFAULT_QUEUE_SIZE: usize = 65536;
/// Smallest `close_timeout`: 0 would make every close and reopen time out at once.
const MIN_CLOSE_TIMEOUT: Duration = Duration::from_millis(1);
/// Default `max_field`.
pub const DEFAULT_MAX_FIELD: usize = 4096;

fn parse_id(
    o: &mut Options<'_>,
    key: &str,
    by_name: fn(&str) -> Option<u32>,
) -> Result<Option<u32>, ConfigError> {
    match o.entry(&[key]) {
        None => Ok(None),
        Some(e) => match e.value.parse::<u32>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => by_name(&e.value)
                .map(Some)
                .ok_or_else(|| config::err(e, format!("unknown {key} '{}'", e.value))),
        },
    }
}

impl Settings {
    /// Reads the common options (and marks them used).
    pub fn parse(o: &mut Options<'_>) -> Result<Settings, ConfigError> {
        let queue_size = o.uint("queue_size", DEFAULT_QUEUE_SIZE as u64, 16, 1 << 24)? as usize;
        let overflow =
            [Overflow::Block, Overflow::Drop][o.choice("overflow", &["block", "drop"], 0)?];
        let block_timeout = o.duration(&["block_timeout"], Duration::ZERO)?;
        let close_timeout = o.duration(&["close_timeout"], Duration::from_secs(30))?;
        if close_timeout < MIN_CLOSE_TIMEOUT {
            let e = o
                .entry(&["close_timeout"])
                .expect("present when not default");
            return Err(config::err(
                e,
                "must be at least 1ms (it bounds every close and reopen)",
            ));
        }
        let flush_interval = o.duration(&["flush_interval"], Duration::from_secs(1))?;
        let fsync = [Fsync::None, Fsync::Close, Fsync::Interval]
            [o.choice("fsync", &["none", "close", "interval"], 1)?];
        let max_field = o.size(&["max_field"], DEFAULT_MAX_FIELD as u64)?;
        if !(16..=1 << 20).contains(&max_field) {
            let e = o.entry(&["max_field"]).expect("present when not default");
            return Err(config::err(e, "must be between 16 and 1048576 bytes"));
        }
        let level = match o.entry(&["error_default_level"]) {
            None => Level::Error,
            Some(e) => Level::parse(&e.value).ok_or_else(|| {
                config::err(
                    e,
                    format!(
                        "expected debug|info|notice|warning|error|critical|fatal|panic, got '{}'",
                        e.value
                    ),
                )
            })?,
        };
        let mut filters = [true; KIND_COUNT];
        for (kind, key, default) in [
            (Kind::Reception, "log_receptions", true),
            (Kind::Attempt, "log_attempts", false),
            (Kind::TransientFailure, "log_transient_failures", true),
            (Kind::PermanentFailure, "log_permanent_failures", true),
            (Kind::Delivery, "log_deliveries", true),
            (Kind::Rejection, "log_rejections", true),
            (Kind::Error, "log_errors", true),
        ] {
            filters[kind.index()] = o.boolean(key, default)?;
        }
        let follow_symlinks = o.boolean("follow_symlinks", false)?;
        let owner = parse_id(o, "log_owner", crate::sys::user_id)?;
        let group = parse_id(o, "log_group", crate::sys::group_id)?;
        let reopen_on_rename = o.boolean("reopen_on_rename", false)?;
        let control_socket = o.path("control_socket")?;
        let syslog = SyslogOptions::parse(o)?;
        Ok(Settings {
            queue_size,
            overflow,
            block_timeout: (!block_timeout.is_zero()).then_some(block_timeout),
            close_timeout,
            flush_interval: flush_interval.max(Duration::from_millis(1)),
            fsync,
            max_field: max_field as usize,
            error_default_level: level,
            filters,
            policy: OpenPolicy {
                follow_symlinks,
                owner,
                group,
            },
            heartbeat: None,
            records: false,
            bounces: None,
            reopen_on_rename,
            targets: [false; TARGET_COUNT],
            rotation: Default::default(),
            control_socket,
            syslog,
        })
    }
}
