//! The record functions beside the hooks: `mtalog_acct_log`, `mtalog_import_log` and
//! `mtalog_bounce_log`.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use super::handle::{Handle, handle_ref};
use super::types::*;
use super::{boundary, hooks};
use crate::event::{Field, Kind};
use crate::format::bounce::OUT_OF_BAND_STAGE;
use crate::logger::Logger;
use crate::pipeline::stats::Counter;

fn record_arg(h: &Handle, kind: Kind, what: &str) -> Result<Box<crate::event::Event>, c_int> {
    let l = &h.logger;
    let target = l.logger_kind().record_target(kind);
    let Some(settings) = l.settings() else {
        l.refuse(&format!("an {what} record was refused: called"));
        return Err(-libc::ECANCELED);
    };
    if !settings.records {
        l.set_last_error(&format!(
            "{} '{}' writes no {what} records",
            l.kind(),
            l.name()
        ));
        return Err(-libc::ENOTSUP);
    }
    if !settings.targets[target as usize] {
        l.set_last_error(&format!(
            "{what} is not configured for {} '{}'",
            l.kind(),
            l.name()
        ));
        return Err(-libc::ENOENT);
    }
    l.begin(kind).ok_or(-libc::ECANCELED)
}

/// Stores a record's field, cut at `max` (counted in `truncated`).
fn push(l: &Logger, ev: &mut crate::event::Event, f: Field, v: &[u8], max: usize) {
    if ev.push(f, v, max) {
        l.shared().stats.add(Counter::truncated, 1);
    }
}

fn opt_bytes<'a>(p: *const c_char) -> &'a [u8] {
    if p.is_null() {
        &[]
    } else {
        // SAFETY: non-NULL string arguments are NUL-terminated (contract).
        unsafe { CStr::from_ptr(p) }.to_bytes()
    }
}

/// Writes an acctlog record (to ec_logger's acctlog, or as an `auth` record to
/// json_logger's mainlog): `type` is `'N'` (authentication), `'T'` (authentication
/// timeout), `'Z'` (authorization) or anything else for `'?'`; `listener` (e.g.
/// `"*:2025"`), `peer` (`"ip:port"`, NULL for Unix sockets), `user`, `result` (`1`
/// success, `0` failure, `-1` error), and for `'Z'` the `command` and the granting `role`
/// (NULL when refused). `now` NULL = the current time. Returns 0 (queued); `-EINVAL` (NULL
/// `li`); `-ENOTSUP` (a kind without these records: postfix_logger, imta_logger);
/// `-ENOENT` (an ec_logger without an `acctlog`); `-ECANCELED` (not running); `-EAGAIN`
/// (dropped: queue full in drop mode).
///
/// # Safety
/// `li` is NULL or a live logger; strings NULL or NUL-terminated; `now` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_acct_log(
    li: *mut logging_infrastructure,
    now: *const libc::timeval,
    r#type: c_int,
    listener: *const c_char,
    peer: *const c_char,
    user: *const c_char,
    result: c_int,
    command: *const c_char,
    role: *const c_char,
) -> c_int {
    let Some(h) = handle_ref(li) else {
        return -libc::EINVAL;
    };
    let r = boundary::guard(|| {
        let mut ev = match record_arg(h, Kind::Acct, "acctlog") {
            Ok(ev) => ev,
            Err(c) => return c,
        };
        let max = h.logger.max_field();
        ev.time = hooks::time_of(now);
        ev.code = r#type;
        ev.phase = result;
        push(
            &h.logger,
            &mut ev,
            Field::AcctListener,
            opt_bytes(listener),
            max,
        );
        push(&h.logger, &mut ev, Field::AcctPeer, opt_bytes(peer), max);
        push(&h.logger, &mut ev, Field::AcctUser, opt_bytes(user), max);
        push(
            &h.logger,
            &mut ev,
            Field::AcctCommand,
            opt_bytes(command),
            max,
        );
        push(&h.logger, &mut ev, Field::AcctRole, opt_bytes(role), max);
        if h.logger.submit(ev) {
            0
        } else {
            -libc::EAGAIN
        }
    });
    r.unwrap_or(-libc::ENOTRECOVERABLE)
}

/// Writes an importlog record (to ec_logger's importlog, or as an `import` record to
/// json_logger's mainlog): `orig_id` is the message id in the imported spool, `new_id` the
/// id in the live spool (NULL = unchanged), `result` 1 (success), 2 (metadata unreadable),
/// 3 (message unreadable) or 4 (could not be written to the live spool), `spool_dir` the
/// imported spool's base directory. Returns 0; `-EINVAL` (NULL `li`, `orig_id` NULL,
/// `result` outside 1..4); `-ENOTSUP`; `-ENOENT` (an ec_logger without an `importlog`);
/// `-ECANCELED`; `-EAGAIN` (dropped).
///
/// # Safety
/// As `mtalog_acct_log`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_import_log(
    li: *mut logging_infrastructure,
    now: *const libc::timeval,
    orig_id: *const c_char,
    new_id: *const c_char,
    result: c_int,
    spool_dir: *const c_char,
) -> c_int {
    let Some(h) = handle_ref(li) else {
        return -libc::EINVAL;
    };
    let r = boundary::guard(|| {
        if orig_id.is_null() || !(1..=4).contains(&result) {
            h.logger.input_error(&format!(
                "mtalog_import_log: orig_id is NULL or result {result} is not 1 to 4"
            ));
            return -libc::EINVAL;
        }
        let mut ev = match record_arg(h, Kind::Import, "importlog") {
            Ok(ev) => ev,
            Err(c) => return c,
        };
        let max = h.logger.max_field();
        ev.time = hooks::time_of(now);
        ev.phase = result;
        push(&h.logger, &mut ev, Field::MsgId, opt_bytes(orig_id), max);
        push(
            &h.logger,
            &mut ev,
            Field::ImportNewId,
            opt_bytes(new_id),
            max,
        );
        push(
            &h.logger,
            &mut ev,
            Field::ImportDir,
            opt_bytes(spool_dir),
            max,
        );
        if h.logger.submit(ev) {
            0
        } else {
            -libc::EAGAIN
        }
    });
    r.unwrap_or(-libc::ENOTRECOVERABLE)
}

/// Writes an out-of-band bounce (bounce_logger only): a DSN or reply about `original` that
/// arrived after its delivery attempt. The record is a permanent failure of connection
/// stage 21, read from `original` and `domain` (NULL when unknown) as the hooks read them,
/// with `text` (`text_len` bytes, not NUL-terminated) as the bounce text that is
/// classified. `now` NULL = the current time. Returns 0 (queued, or not wanted:
/// `log_outofband_bounces = false`, counted in `filtered`); `-EINVAL` (NULL `li` or
/// `original`, `text_len` negative or over 1 MiB, or `text` NULL with a `text_len` above
/// 0); `-ENOTSUP` (a kind without a bounce record); `-ECANCELED` (not running); `-EAGAIN`
/// (dropped: queue full in drop mode).
///
/// # Safety
/// `li` is NULL or a live logger; `original` and `domain` NULL or objects the hooks could
/// be given; `text` NULL or `text_len` readable bytes; `now` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_bounce_log(
    li: *mut logging_infrastructure,
    now: *const libc::timeval,
    original: *mut abstract_message,
    domain: *mut domain_record,
    text: *const c_char,
    text_len: c_int,
) -> c_int {
    let Some(h) = handle_ref(li) else {
        return -libc::EINVAL;
    };
    let r = boundary::guard(|| {
        let l = &h.logger;
        if original.is_null()
            || !(0..=hooks::MAX_SANE_NOTE).contains(&text_len)
            || (text.is_null() && text_len > 0)
        {
            l.input_error(&format!(
                "mtalog_bounce_log: original is NULL, or text_len {text_len} is negative, \
                 over 1 MiB or above 0 with a NULL text"
            ));
            return -libc::EINVAL;
        }
        let Some(settings) = l.settings() else {
            l.refuse("a bounce record was refused: called");
            return -libc::ECANCELED;
        };
        if settings.bounces.is_none() {
            l.set_last_error(&format!(
                "{} '{}' writes no bounce records",
                l.kind(),
                l.name()
            ));
            return -libc::ENOTSUP;
        }
        let Some(mut ev) = l.begin_if(Kind::PermanentFailure, |s| s.bounces == Some(true)) else {
            // Not running (recorded by `begin_if`), or out-of-band bounces are off.
            return if l.is_running() { 0 } else { -libc::ECANCELED };
        };
        ev.time = hooks::time_of(now);
        let (truncated, _) = hooks::fill_mail(h, &mut ev, original, domain, text, text_len);
        ev.stage = OUT_OF_BAND_STAGE;
        if hooks::finish(h, ev, truncated, None) {
            0
        } else {
            -libc::EAGAIN
        }
    });
    r.unwrap_or(-libc::ENOTRECOVERABLE)
}
