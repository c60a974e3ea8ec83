//! The record functions beside the hooks: `mtalog_acct_log` and `mtalog_import_log`.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use super::handle::{Handle, handle_ref};
use super::types::*;
use super::{boundary, hooks};
use crate::event::{Field, Kind};
use crate::logger::Logger;
use crate::pipeline::stats::Counter;

fn record_arg(h: &Handle, kind: Kind, what: &str) -> Result<Box<crate::event::Event>, c_int> {
    let l = &h.logger;
    let target = l.logger_kind().record_target(kind);
    let Some(settings) = l.settings() else {
        l.input_error(&format!(
            "an {what} record was refused: called before log_init"
        ));
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
