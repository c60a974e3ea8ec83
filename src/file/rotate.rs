//! Built-in rotation and retention: the policy options, rotated file names, and the helper
//! thread that compresses rotated files and removes old ones off the writer's loop.
//!
//! The rotation itself (rename the current file, open a new one) happens in
//! [`SharedFile`](crate::file::SharedFile) under its lock, between two whole writes, so
//! that every line before the rotation is in the old file and every line after it in the
//! new one, and a path shared by several loggers is rotated once.
//!
//! Names: `NAME.SEQ.TIMESTAMP` (numbered scheme): `SEQ` grows by one per rotated file and
//! is never reused (it continues from the highest number found next to the file),
//! `TIMESTAMP` is the creation time of that file in Unix seconds; `.gz` is appended when
//! compressed. Only such names with sane numbers ([`MAX_SEQ`], [`MAX_TIMESTAMP`]), on
//! regular files of mtalog's own ([`Owners`]), are rotated files; anything else next to the
//! log file is foreign and never compressed, counted or removed (the rule is in
//! [`crate::file::open`]). `imta_logger`'s message logs use Sun's scheme instead: `mail.log_yesterday`
//! is appended to the cumulative `mail.log`, `mail.log_current` becomes
//! `mail.log_yesterday`, and a new `mail.log_current` starts.
//!
//! Another process may still append to a file just rotated (until its next write moves it
//! to the new file): compression and removal [`claim`] a file
//! first, and leave it for later while a process holds it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};

use super::open::{Owners, create_own, open_own_to_read, open_own_to_remove};
use crate::config::{self, ConfigError, Options, parse_duration};
use crate::format::{TARGET_COUNT, Target};

/// When a file is rolled over because of its age.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rollover {
    /// Never by time.
    #[default]
    Off,
    /// When the file is this old (from its creation).
    Every(Duration),
    /// Every day at this local time, in minutes after midnight.
    Daily(u32),
}

/// What a rotation does with the current file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheme {
    /// Rename it to `NAME.SEQ.TIMESTAMP`.
    #[default]
    Numbered,
    /// Sun: `X_yesterday` is appended to `X`, then `X_current` becomes `X_yesterday`.
    Sun,
}

/// The rotation and retention policy of one file. A limit of 0 means "no limit".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Roll over before a write would make the file larger than this (`max_file_size`).
    pub max_file_size: u64,
    /// Roll over by time (`rollover_time`).
    pub rollover: Rollover,
    /// Keep at most this many files, the current one included (`max_files`).
    pub max_files: u64,
    /// Keep the files, the current one included, under this many bytes (`max_total_size`):
    /// checked after each rotation and whenever the current file grows past the room left.
    pub max_total_size: u64,
    /// Remove old files while the file system has less free space (`min_free_disk`).
    pub min_free_disk: u64,
    /// Remove rotated files whose last line is older than this (`max_age`).
    pub max_age: Option<Duration>,
    /// gzip rotated files (`compress`).
    pub compress: bool,
    /// What a rotation does.
    pub scheme: Scheme,
}

impl Policy {
    /// Does this file ever rotate by itself?
    pub fn rotates(&self) -> bool {
        self.max_file_size > 0 || self.rollover != Rollover::Off
    }

    /// Does anything remove old rotated files?
    pub fn retains(&self) -> bool {
        self.scheme == Scheme::Numbered
            && (self.max_files > 0
                || self.max_total_size > 0
                || self.min_free_disk > 0
                || self.max_age.is_some())
    }

    /// Is there work for the helper after a rotation or at start?
    pub fn has_jobs(&self) -> bool {
        self.scheme == Scheme::Numbered && (self.compress || self.retains())
    }

    /// Sun's defaults for a service log (Sun's documentation: `maxlogfilesize` 2 MB, `rollovertime` one
    /// day, `maxlogfiles` 10, `maxlogsize` 20 MB, `minfreediskspace` 5 MB, `expirytime`
    /// 7 days).
    pub fn sun_service() -> Policy {
        Policy {
            max_file_size: 2 << 20,
            rollover: Rollover::Every(Duration::from_secs(86400)),
            max_files: 10,
            max_total_size: 20 << 20,
            min_free_disk: 5 << 20,
            max_age: Some(Duration::from_secs(7 * 86400)),
            compress: false,
            scheme: Scheme::Numbered,
        }
    }

    /// Sun's message log: daily at local midnight, current → yesterday → cumulative.
    pub fn sun_daily() -> Policy {
        Policy {
            rollover: Rollover::Daily(0),
            scheme: Scheme::Sun,
            ..Policy::default()
        }
    }

    /// The next time (Unix seconds) a file created at `created` is due by time, or
    /// `i64::MAX`.
    pub fn due_after(&self, created: i64) -> i64 {
        match self.rollover {
            Rollover::Off => i64::MAX,
            Rollover::Every(d) => created.saturating_add(d.as_secs().max(1) as i64),
            Rollover::Daily(m) => next_daily(created, m),
        }
    }
}

/// The next local `minutes`-after-midnight strictly after `after` (Unix seconds).
pub fn next_daily(after: i64, minutes: u32) -> i64 {
    let at = |day_start_local: i64| {
        let local = day_start_local + i64::from(minutes) * 60;
        // The offset at the candidate itself (twice, so that a DST change between the
        // day's start and the candidate is taken into account).
        let guess = local - i64::from(crate::sys::utc_offset(local));
        local - i64::from(crate::sys::utc_offset(guess))
    };
    let local = after + i64::from(crate::sys::utc_offset(after));
    let day = local - local.rem_euclid(86400);
    let t = at(day);
    if t > after { t } else { at(day + 86400) }
}

fn parse_rollover(o: &mut Options<'_>, keys: &[&str]) -> Result<Option<Rollover>, ConfigError> {
    let Some(e) = o.entry(keys) else {
        return Ok(None);
    };
    let v = e.value.trim();
    if ["none", "off", "0"]
        .iter()
        .any(|w| v.eq_ignore_ascii_case(w))
    {
        return Ok(Some(Rollover::Off));
    }
    if let Some((h, m)) = v.split_once(':') {
        return match (h.parse::<u32>(), m.parse::<u32>()) {
            (Ok(h), Ok(mm)) if h < 24 && mm < 60 && m.len() == 2 => {
                Ok(Some(Rollover::Daily(h * 60 + mm)))
            }
            _ => Err(config::err(
                e,
                format!("expected a local time HH:MM (00:00 to 23:59), got '{v}'"),
            )),
        };
    }
    match parse_duration(v) {
        Some(d) if d >= Duration::from_secs(1) => Ok(Some(Rollover::Every(d))),
        _ => Err(config::err(
            e,
            format!(
                "expected a local time HH:MM, a duration such as 3600, 12h or 1d, or none; got '{v}'"
            ),
        )),
    }
}

/// The keys of one limit: the common name, then Sun's two names (imta service log only).
type Keys = [&'static str; 3];

const MAX_FILE_SIZE: Keys = ["max_file_size", "maxlogfilesize", "service_maxlogfilesize"];
const ROLLOVER: Keys = ["rollover_time", "rollovertime", "service_rollovertime"];
const MAX_FILES: Keys = ["max_files", "maxlogfiles", "service_maxlogfiles"];
const MAX_TOTAL: Keys = ["max_total_size", "maxlogsize", "service_maxlogsize"];
const MIN_FREE: Keys = [
    "min_free_disk",
    "minfreediskspace",
    "service_minfreediskspace",
];
const MAX_AGE: Keys = ["max_age", "expirytime", "service_expirytime"];

/// One limit read from the common name into every policy, then (imta) from Sun's names
/// into the service log's policy, which they override.
fn limit<T: Copy>(
    o: &mut Options<'_>,
    keys: &Keys,
    sun: bool,
    out: &mut [Policy; TARGET_COUNT],
    read: fn(&mut Options<'_>, &[&str]) -> Result<Option<T>, ConfigError>,
    set: fn(&mut Policy, T),
) -> Result<(), ConfigError> {
    if let Some(v) = read(o, &keys[..1])? {
        out.iter_mut().for_each(|p| set(p, v));
    }
    if sun {
        if let Some(v) = read(o, &keys[1..])? {
            set(&mut out[Target::Panic as usize], v);
        }
    }
    Ok(())
}

/// Is the limit given as `none` or `off` (no limit, as `0`)?
fn no_limit(o: &mut Options<'_>, keys: &[&str]) -> bool {
    o.entry(keys).is_some_and(|e| {
        let v = e.value.trim();
        v.eq_ignore_ascii_case("none") || v.eq_ignore_ascii_case("off")
    })
}

fn read_size(o: &mut Options<'_>, keys: &[&str]) -> Result<Option<u64>, ConfigError> {
    if !o.has(keys) {
        return Ok(None);
    }
    if no_limit(o, keys) {
        return Ok(Some(0));
    }
    o.size(keys, 0).map(Some)
}

fn read_count(o: &mut Options<'_>, keys: &[&str]) -> Result<Option<u64>, ConfigError> {
    if no_limit(o, keys) {
        return Ok(Some(0));
    }
    let Some(e) = o.entry(keys) else {
        return Ok(None);
    };
    e.value
        .trim()
        .parse::<u64>()
        .map(Some)
        .map_err(|_| config::err(e, format!("expected a whole number, got '{}'", e.value)))
}

fn read_age(o: &mut Options<'_>, keys: &[&str]) -> Result<Option<Option<Duration>>, ConfigError> {
    if !o.has(keys) {
        return Ok(None);
    }
    if no_limit(o, keys) {
        return Ok(Some(None));
    }
    let d = o.duration(keys, Duration::ZERO)?;
    Ok(Some((!d.is_zero()).then_some(d)))
}

/// Reads the rotation options of a logger (and marks them used): one policy per
/// [`Target`]. Off unless configured, except that with `sun` (imta_logger) the files
/// follow Sun's defaults.
pub fn parse(o: &mut Options<'_>, sun: bool) -> Result<[Policy; TARGET_COUNT], ConfigError> {
    let mut out: [Policy; TARGET_COUNT] = Default::default();
    if sun {
        out[Target::Main as usize] = Policy::sun_daily();
        out[Target::Connection as usize] = Policy::sun_daily();
        out[Target::Panic as usize] = Policy::sun_service();
    }
    limit(o, &MAX_FILE_SIZE, sun, &mut out, read_size, |p, v| {
        p.max_file_size = v
    })?;
    limit(o, &ROLLOVER, sun, &mut out, parse_rollover, |p, v| {
        p.rollover = v
    })?;
    limit(o, &MAX_FILES, sun, &mut out, read_count, |p, v| {
        p.max_files = v
    })?;
    limit(o, &MAX_TOTAL, sun, &mut out, read_size, |p, v| {
        p.max_total_size = v
    })?;
    limit(o, &MIN_FREE, sun, &mut out, read_size, |p, v| {
        p.min_free_disk = v
    })?;
    limit(o, &MAX_AGE, sun, &mut out, read_age, |p, v| p.max_age = v)?;
    if o.has(&["compress"]) {
        let c = o.boolean("compress", false)?;
        out.iter_mut().for_each(|p| p.compress = c);
    }
    Ok(out)
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The largest `SEQ` of a rotated name: a rotation a millisecond for 30,000 years stays
/// below it, and counting on from it never overflows. A larger number is absurd: the
/// name is foreign.
pub const MAX_SEQ: u64 = 999_999_999_999_999;

/// The largest `TIMESTAMP` of a rotated name (Unix seconds, in the year 5138). A larger
/// one is absurd: the name is foreign.
pub const MAX_TIMESTAMP: i64 = 99_999_999_999;

/// The rotated name `NAME.SEQ.TIMESTAMP` next to `path` (a creation time outside
/// `0..=MAX_TIMESTAMP`, from a clock or a file time gone wrong, is named by the nearest
/// bound, so that the file stays recognisably mtalog's).
pub fn numbered_name(path: &Path, seq: u64, created: i64) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let created = created.clamp(0, MAX_TIMESTAMP);
    path.with_file_name(format!("{name}.{seq}.{created}"))
}

/// Sun's `X_yesterday` and cumulative `X` for `X_current` (a name without `_current` gets
/// `_yesterday` and `_cumulative` appended).
pub fn sun_names(path: &Path) -> (PathBuf, PathBuf) {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    match name.strip_suffix("_current") {
        Some(stem) if !stem.is_empty() => (
            path.with_file_name(format!("{stem}_yesterday")),
            path.with_file_name(stem),
        ),
        _ => (
            path.with_file_name(format!("{name}_yesterday")),
            path.with_file_name(format!("{name}_cumulative")),
        ),
    }
}

/// A rotated file found next to the current one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotatedFile {
    /// Its path.
    pub path: PathBuf,
    /// Its sequence number.
    pub seq: u64,
    /// Its creation time, from the name.
    pub created: i64,
    /// Is it gzip'ed (`.gz`)?
    pub gz: bool,
}

/// Parses `NAME.SEQ.TIMESTAMP[.gz]` against the current file's name: both numbers as
/// mtalog writes them (decimal, no leading zero), `SEQ` in `1..=MAX_SEQ`, `TIMESTAMP` in
/// `0..=MAX_TIMESTAMP`. Any other name is not a rotated file of mtalog's.
pub fn parse_rotated(base: &str, name: &str) -> Option<(u64, i64, bool)> {
    let rest = name.strip_prefix(base)?.strip_prefix('.')?;
    let (rest, gz) = match rest.strip_suffix(".gz") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (seq, ts) = rest.split_once('.')?;
    let number = |s: &str, max: u64| -> Option<u64> {
        let canonical = !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'));
        let n: u64 = s.parse().ok().filter(|_| canonical)?;
        (n <= max).then_some(n)
    };
    let seq = number(seq, MAX_SEQ).filter(|&n| n > 0)?;
    let ts = number(ts, MAX_TIMESTAMP as u64)?;
    Some((seq, ts as i64, gz))
}

/// The rotated files of `path`, oldest (lowest sequence number) first: the names
/// [`parse_rotated`] takes, on regular files (never through a symlink) of the owners of
/// `path` ([`Owners::of`]). Other files are foreign: not listed.
pub fn scan(path: &Path) -> io::Result<Vec<RotatedFile>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let base = path.file_name().unwrap_or_default().to_string_lossy();
    let owners = Owners::of(path);
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        let Some((seq, created, gz)) = parse_rotated(&base, &name.to_string_lossy()) else {
            continue;
        };
        if !std::fs::symlink_metadata(e.path()).is_ok_and(|m| owners.own(&m)) {
            continue;
        }
        out.push(RotatedFile {
            path: e.path(),
            seq,
            created,
            gz,
        });
    }
    out.sort_by_key(|f| (f.seq, f.gz));
    Ok(out)
}

/// The first sequence number to use next to `path`: one more than the highest found
/// (never more than `MAX_SEQ + 1`).
///
/// The directory is read twice. A compression (of another process's helper, which does
/// not hold the file's lock) renames `NAME.gz.tmp` to `NAME.gz`, then removes `NAME`; a
/// directory read while that happens may see neither name (the new one lands where the
/// read has been, the old one is gone where it has not yet been), and the newest rotated
/// file is the one being compressed just then. A second read, after the first, sees the
/// `.gz` that the first missed, since the rename is done by then.
pub fn next_seq(path: &Path) -> u64 {
    let highest = || scan(path).ok().and_then(|v| v.iter().map(|f| f.seq).max());
    highest().max(highest()).map_or(1, |m| m + 1)
}

/// No size at which the current file makes the files outgrow `max_total_size`.
pub const NO_SWEEP: u64 = u64::MAX;

/// Removes rotated files of `path`, oldest first, while a limit of `p` is exceeded: only
/// regular files of its owners ([`scan`], checked again on the file itself), never through
/// a symlink; one that a process still appends to (see [`claim`]) stays until a later
/// run. Returns the problems met (to be reported), and the size of the current file at which
/// all of them would again be over `max_total_size` ([`NO_SWEEP`] when that is not set, or
/// when no rotated file is left to remove).
pub fn retain(path: &Path, p: &Policy, now: i64) -> (Vec<String>, u64) {
    let mut errors = Vec::new();
    if !p.retains() {
        return (errors, NO_SWEEP);
    }
    let files = match scan(path) {
        Ok(f) => f,
        Err(e) => {
            errors.push(format!(
                "cannot list the rotated files of {}: {e}",
                path.display()
            ));
            return (errors, NO_SWEEP);
        }
    };
    let meta: Vec<(u64, i64)> = files
        .iter()
        .map(|f| {
            std::fs::symlink_metadata(&f.path).map_or((0, now), |m| {
                (
                    m.len(),
                    m.modified()
                        .ok()
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map_or(now, |d| d.as_secs() as i64),
                )
            })
        })
        .collect();
    let current = std::fs::metadata(path).map_or(0, |m| m.len());
    let mut total: u64 = current + meta.iter().map(|m| m.0).sum::<u64>();
    let mut count = files.len() as u64 + 1;
    let dir = path.parent().unwrap_or(Path::new("."));
    let owners = Owners::of(path);
    for (f, &(size, mtime)) in files.iter().zip(&meta) {
        let old = p
            .max_age
            .is_some_and(|a| now.saturating_sub(mtime) > a.as_secs() as i64);
        let over = (p.max_files > 0 && count > p.max_files)
            || (p.max_total_size > 0 && total > p.max_total_size)
            || (p.min_free_disk > 0
                && crate::sys::free_space(dir).is_some_and(|free| free < p.min_free_disk));
        if !(old || over) {
            break;
        }
        match remove_unused(&f.path, f.gz, &owners) {
            // A process still appends to it: counted as still there, tried again at the
            // next rotation or sweep.
            Ok(false) => {}
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                // Counted as still there; the next older-than-the-rest file is tried.
                errors.push(format!(
                    "cannot remove old log file {}: {e}",
                    f.path.display()
                ));
            }
            Ok(true) | Err(_) => {
                total -= size;
                count -= 1;
            }
        }
    }
    // The room left goes to the current file; a file that could not be removed leaves
    // none, and is tried again at the next rotation or sweep.
    let sweep_at = if p.max_total_size > 0 && count > 1 && total <= p.max_total_size {
        current + (p.max_total_size - total)
    } else {
        NO_SWEEP
    };
    (errors, sweep_at)
}

/// Takes the exclusive `flock` of `file`, a rotated file opened to be compressed or
/// removed, without waiting: false while a process holds its shared lock, which it does
/// while it may still append to the file (see [`SharedFile`](crate::file::SharedFile)).
/// Where the file system has no `flock`, true (the file comes unlocked). The lock lasts as
/// long as `file` is open.
pub fn claim(file: &File) -> bool {
    !matches!(crate::sys::flock(file.as_fd(), libc::LOCK_EX), Ok(false))
}

/// Removes the rotated file `path` unless a process may still append to it (`Ok(false)`;
/// see [`claim`]); nothing appends to a compressed file (`gz`). Only a regular file of
/// `owners` is removed, never through a symlink, and only while the name still names the
/// file checked; anything else is foreign (`EPERM`) and left alone.
fn remove_unused(path: &Path, gz: bool, owners: &Owners) -> io::Result<bool> {
    let (file, meta) = open_own_to_remove(path, owners)?;
    if !gz && !claim(&file) {
        return Ok(false);
    }
    if !same_file(path, &meta) {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} was replaced meanwhile; left alone", path.display()),
        ));
    }
    std::fs::remove_file(path).map(|()| true)
}

/// Does `path` (not followed through a symlink) name the file of `meta`?
fn same_file(path: &Path, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
}

/// The error of [`compress`] for a file that a process may still append to.
fn in_use(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::WouldBlock,
        format!("{} is still appended to", path.display()),
    )
}

/// The error of [`compress`] for a `.gz` that exists already.
fn gz_exists(gz: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{} exists; not replaced", gz.display()),
    )
}

/// gzips `path` into `path.gz` (through `path.gz.tmp`), keeping its mode (exactly, whatever
/// the umask), owner, group and modification time, then removes `path`. Only a regular
/// file of `owners` with one name is read, never through a symlink; an existing `.gz` is
/// never replaced (kind `AlreadyExists`). Fails with kind `WouldBlock` while a process may
/// still append to `path` (see [`claim`]), with `ResourceBusy` while another process
/// compresses it (its `.gz.tmp` is locked), and with `NotFound` once another process has.
/// Gives up (leaving `path` as it is) when `stop` says so.
pub fn compress(path: &Path, owners: &Owners, stop: &dyn Fn() -> bool) -> io::Result<()> {
    use flate2::{Compression, write::GzEncoder};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let gz = PathBuf::from(format!("{}.gz", path.display()));
    let tmp = PathBuf::from(format!("{}.gz.tmp", path.display()));
    if std::fs::symlink_metadata(&gz).is_ok() {
        return Err(gz_exists(&gz));
    }
    let (mut src, meta) = open_own_to_read(path, owners)?;
    if !claim(&src) {
        return Err(in_use(path));
    }
    if src.metadata()?.nlink() == 0 {
        // Another process compressed and removed it between the open and the claim.
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} was compressed meanwhile", path.display()),
        ));
    }
    let mode = meta.permissions().mode() & 0o7777;
    // The owner and group of the file it replaces (`log_owner`/`log_group`); where this
    // process may not give files away, they stay its own.
    let out = create_own(&tmp, mode, (meta.uid(), meta.gid()), owners)?;
    let run = || -> io::Result<()> {
        let mut enc = GzEncoder::new(out, Compression::default());
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if stop() {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "stopped"));
            }
            let n = src.read(&mut buf)?;
            if n == 0 {
                break;
            }
            enc.write_all(&buf[..n])?;
        }
        let out = enc.finish()?;
        if let Ok(t) = meta.modified() {
            let _ = out.set_modified(t);
        }
        out.sync_all()?;
        // Never over a `.gz` that appeared meanwhile.
        match crate::sys::rename_noreplace(&tmp, &gz) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => return Err(gz_exists(&gz)),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                // A file system that cannot rename that way: checked just before.
                if std::fs::symlink_metadata(&gz).is_ok() {
                    return Err(gz_exists(&gz));
                }
                std::fs::rename(&tmp, &gz)?;
            }
            r => r?,
        }
        std::fs::remove_file(path)
    };
    let r = run();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// Work for the helper thread.
#[derive(Debug)]
pub enum Job {
    /// A file was just rotated to `rotated`: compress it, then apply retention to `path`.
    Rotated {
        /// The current file's path.
        path: PathBuf,
        /// The name it was rotated to.
        rotated: PathBuf,
        /// Its policy.
        policy: Policy,
        /// Where to store the size at which the files outgrow `max_total_size`.
        sweep_at: Arc<AtomicU64>,
    },
    /// Compress what a previous run left uncompressed (at start), then apply retention.
    Sweep {
        /// The current file's path.
        path: PathBuf,
        /// Its policy.
        policy: Policy,
        /// Also compress rotated files left uncompressed.
        compress_left: bool,
        /// Where to store the size at which the files outgrow `max_total_size`.
        sweep_at: Arc<AtomicU64>,
    },
}

/// The helper thread of one writer: compression and removal of old files, so that a
/// rotation never stalls logging. Its problems come back through [`Helper::reports`].
pub struct Helper {
    tx: Option<Sender<Job>>,
    reports: Receiver<String>,
    /// Set by [`Helper::finish`]: compression stops.
    halt: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl Helper {
    /// Starts the thread.
    /// Its jobs give up early once `stop` says so.
    pub fn start(stop: impl Fn() -> bool + Send + 'static) -> io::Result<Helper> {
        let (tx, rx) = unbounded::<Job>();
        let (rtx, reports) = unbounded::<String>();
        let halt = Arc::new(AtomicBool::new(false));
        let halted = Arc::clone(&halt);
        let join = crate::sys::spawn("mtalog-rotate", move || {
            let stop = || halted.load(Ordering::Relaxed) || stop();
            // The same problem (a file that cannot be removed) is reported once.
            let mut reported = std::collections::HashSet::new();
            // Jobs whose file another process still appends to, tried again a little later
            // (that process moves to the new file at its next write, or within a second
            // when idle).
            let mut later: Vec<Job> = Vec::new();
            loop {
                let (jobs, last) = if later.is_empty() {
                    match rx.recv() {
                        Ok(job) => (vec![job], false),
                        Err(_) => break,
                    }
                } else {
                    match rx.recv_timeout(RETRY_IN_USE) {
                        Ok(job) => (vec![job], false),
                        Err(RecvTimeoutError::Timeout) => (std::mem::take(&mut later), false),
                        // Closing (compression is halted by then): the jobs still waiting
                        // apply retention only; their files are for the next sweep.
                        Err(RecvTimeoutError::Disconnected) => (std::mem::take(&mut later), true),
                    }
                };
                for job in jobs {
                    let (msgs, again) = run_job(job, &stop);
                    later.extend(again);
                    for msg in msgs {
                        if reported.insert(msg.clone()) {
                            let _ = rtx.send(msg);
                        }
                    }
                }
                if last {
                    break;
                }
            }
        })?;
        Ok(Helper {
            tx: Some(tx),
            reports,
            halt,
            join: Some(join),
        })
    }

    /// Queues a job.
    pub fn send(&self, job: Job) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(job);
        }
    }

    /// Problems met so far (to report).
    pub fn reports(&self) -> Vec<String> {
        self.reports.try_iter().collect()
    }

    /// Stops compressing, lets the queued jobs (and those waiting for a file that another
    /// process appended to) apply retention (quick: listing and removing files), and joins
    /// the thread; returns the last problems. A compression under way
    /// gives up (its file stays as it was, its `.gz.tmp` is removed) and no other starts,
    /// so that a close waits for no gzip: the start-up sweep of the next run compresses
    /// what is left.
    pub fn finish(&mut self) -> Vec<String> {
        self.halt.store(true, Ordering::Relaxed);
        self.tx = None;
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
        self.reports()
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.finish();
    }
}

/// How long a job waits before it tries again a file that a process still appends to.
const RETRY_IN_USE: Duration = Duration::from_millis(200);

/// Is `e`, from compressing a file, nothing to report? The job gave up on it (`stop`),
/// another process compresses it (its `.gz.tmp` is locked) or did (it is gone), or a
/// process still appends to it (it is tried again later).
fn quiet(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ResourceBusy
            | io::ErrorKind::NotFound
            | io::ErrorKind::WouldBlock
    )
}

/// Runs `job`: the problems met, and the job again when it must wait for a file that a
/// process still appends to.
fn run_job(job: Job, stop: &dyn Fn() -> bool) -> (Vec<String>, Option<Job>) {
    let mut errors = Vec::new();
    // Compresses `file` unless stopped; false while a process still appends to it.
    let mut compress_one = |file: &Path, owners: &Owners| {
        if stop() {
            return true;
        }
        match compress(file, owners, stop) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            Err(e) if !quiet(&e) => {
                errors.push(format!("cannot compress {}: {e}", file.display()));
                true
            }
            _ => true,
        }
    };
    let (path, policy, sweep_at) = match job {
        Job::Rotated {
            path,
            rotated,
            policy,
            sweep_at,
        } => {
            if policy.compress && !compress_one(&rotated, &Owners::of(&path)) && !stop() {
                // Retention waits too: the file's size will change.
                let job = Job::Rotated {
                    path,
                    rotated,
                    policy,
                    sweep_at,
                };
                return (errors, Some(job));
            }
            (path, policy, sweep_at)
        }
        Job::Sweep {
            path,
            policy,
            compress_left,
            sweep_at,
        } => {
            if compress_left && policy.compress {
                let owners = Owners::of(&path);
                let files = scan(&path).unwrap_or_default();
                for f in files.iter().filter(|f| !f.gz) {
                    if stop() {
                        break;
                    }
                    let done = files
                        .iter()
                        .any(|g| g.gz && (g.seq, g.created) == (f.seq, f.created));
                    if done {
                        // A compressed copy was finished but the original not removed.
                        let _ = remove_unused(&f.path, false, &owners);
                        continue;
                    }
                    // One a process still appends to is left to a later sweep.
                    compress_one(&f.path, &owners);
                }
            }
            (path, policy, sweep_at)
        }
    };
    // A write that lands after `retain` measured the current file, but before the new
    // size is stored, finds no size to check (the writer cleared it to ask for this job):
    // when the file has already passed the new size, the sweep runs again. Either this
    // look or the writer's next check sees such a write (both stores and loads are SeqCst),
    // and only one of them claims the size.
    for round in 0..SWEEP_ROUNDS {
        let (problems, at) = retain(&path, &policy, unix_now());
        errors.extend(problems);
        sweep_at.store(at, Ordering::SeqCst);
        let grown = at != NO_SWEEP && std::fs::metadata(&path).is_ok_and(|m| m.len() > at);
        if !grown
            || round + 1 == SWEEP_ROUNDS
            || sweep_at
                .compare_exchange(at, NO_SWEEP, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
        {
            break;
        }
    }
    (errors, None)
}

/// Most retention passes of one job while the current file outgrows them (then the
/// writer's next write asks again).
const SWEEP_ROUNDS: usize = 8;

#[cfg(test)]
mod tests;
