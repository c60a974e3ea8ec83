//! The `mtalog_*` functions: create, free, load, console, stats, last error, host table.

use std::os::raw::{c_char, c_int};

use super::boundary;
use super::handle::{Handle, handle_ref, new_handle, str_arg};
use super::types::*;
use crate::format::LoggerKind;
use crate::logger::Logger;

/// Creates a logger of `kind` (`"ec_logger"`, `"postfix_logger"` or `"imta_logger"`) named
/// `instance_name`, not yet initialised: call `li->shared.log_init(li, config)` next.
///
/// Returns NULL only when an argument is NULL or not UTF-8, or the kind is unknown
/// (`mtalog_last_error(NULL)` says which). The caller owns the logger; release it with
/// `mtalog_free`. Thread-safe.
///
/// # Safety
/// `kind` and `instance_name` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_new(
    kind: *const c_char,
    instance_name: *const c_char,
) -> *mut logging_infrastructure {
    let r = boundary::guard(|| {
        let (Ok(k), Ok(n)) = (str_arg(kind), str_arg(instance_name)) else {
            boundary::set_thread_error(
                "mtalog_new: kind and instance_name must be non-NULL UTF-8 strings",
            );
            return std::ptr::null_mut();
        };
        match Logger::new(k, n) {
            Some(l) => new_handle(l),
            None => {
                boundary::set_thread_error(&format!(
                    "mtalog_new: unknown logger kind '{k}' (known: {})",
                    LoggerKind::names()
                ));
                std::ptr::null_mut()
            }
        }
    });
    r.unwrap_or(std::ptr::null_mut())
}

/// Closes the logger if it is still open, then frees it. NULL is accepted and does nothing.
///
/// # Safety
/// `li` is NULL or a logger from `mtalog_new`/`mtalog_load` not freed yet; no other call on
/// it may run concurrently or follow.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_free(li: *mut logging_infrastructure) {
    if handle_ref(li).is_none() {
        return;
    }
    let _ = boundary::guard(|| {
        // SAFETY: `li` came from `Box::into_raw` in `new_handle` (checked by magic) and the
        // caller gives up every use of it.
        let mut h = unsafe { Box::from_raw(li.cast::<Handle>()) };
        if h.logger.is_running() {
            let _ = h.logger.close();
        }
        h.magic = 0;
        drop(h);
    });
}

/// The text of the last failed call made on `li` by the calling side (`log_init`,
/// `log_reopen`, `log_close`, `mtalog_console`, ...), naming key and line for configuration
/// errors; `""` when none failed. With `li` NULL: the calling thread's last `mtalog_new` or
/// `mtalog_load` error. Never NULL; owned by the library. The text is the calling thread's
/// copy: it stays valid, whatever other threads do, until this thread calls
/// `mtalog_last_error` with a logger again (or, for NULL, until its next failing
/// `mtalog_new`/`mtalog_load`).
///
/// # Safety
/// `li` is NULL or a live logger.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_last_error(li: *const logging_infrastructure) -> *const c_char {
    let r = boundary::guard(|| match handle_ref(li.cast_mut()) {
        Some(h) => h.logger.with_last_error(boundary::thread_copy_ptr),
        None => boundary::thread_error_ptr(),
    });
    r.unwrap_or(c"internal error".as_ptr())
}

/// Creates and initialises one logger per stanza of a whole configuration text
/// (`ec_logger "a" { ... } postfix_logger "b" { ... }`).
///
/// `out` receives up to `cap` loggers; `*count` is set to the number of stanzas. Returns 0;
/// `-ENOBUFS` when `cap` is too small (nothing is created; `*count` says how many are
/// needed); `-EINVAL` for NULL `config_text`/`count`, a syntax error or an unknown kind;
/// any `log_init` error. On failure no logger is left behind; `mtalog_last_error(NULL)`
/// names the stanza, line and key. The caller owns the loggers (`mtalog_free` each).
///
/// # Safety
/// `config_text` is a NUL-terminated string; `out` has room for `cap` pointers; `count` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_load(
    config_text: *const c_char,
    out: *mut *mut logging_infrastructure,
    cap: usize,
    count: *mut usize,
) -> c_int {
    let r = boundary::guard(|| {
        if count.is_null() || (out.is_null() && cap > 0) {
            boundary::set_thread_error("mtalog_load: count must not be NULL, nor out when cap > 0");
            return -libc::EINVAL;
        }
        let text = match str_arg(config_text) {
            Ok(t) => t,
            Err(c) => {
                boundary::set_thread_error(
                    "mtalog_load: config_text must be a non-NULL UTF-8 string",
                );
                return c;
            }
        };
        let stanzas = match crate::config::parse_file(text) {
            Ok(s) => s,
            Err(e) => {
                boundary::set_thread_error(&format!("mtalog_load: {e}"));
                return -libc::EINVAL;
            }
        };
        // SAFETY: `count` is writable (checked non-NULL).
        unsafe { *count = stanzas.len() };
        if stanzas.len() > cap {
            boundary::set_thread_error(&format!(
                "mtalog_load: {} stanzas but room for {cap}",
                stanzas.len()
            ));
            return -libc::ENOBUFS;
        }
        let mut made: Vec<*mut logging_infrastructure> = Vec::new();
        for s in &stanzas {
            let Some(l) = Logger::new(&s.kind, &s.name) else {
                boundary::set_thread_error(&format!(
                    "mtalog_load: config line {}: unknown logger kind '{}'",
                    s.line, s.kind
                ));
                for p in made {
                    // SAFETY: each came from `new_handle` just above.
                    unsafe { mtalog_free(p) };
                }
                return -libc::EINVAL;
            };
            if let Err(e) = l.init_entries(s.entries.clone()) {
                boundary::set_thread_error(&format!(
                    "mtalog_load: stanza {} \"{}\" (line {}): {e}",
                    s.kind, s.name, s.line
                ));
                for p in made {
                    // SAFETY: as above.
                    unsafe { mtalog_free(p) };
                }
                return -e.errno();
            }
            made.push(new_handle(l));
        }
        for (i, p) in made.into_iter().enumerate() {
            // SAFETY: `out` has room for `cap >= stanzas.len()` pointers.
            unsafe { *out.add(i) = p };
        }
        0
    });
    r.unwrap_or(-libc::ENOTRECOVERABLE)
}

/// Runs a console command: `help`, `reopen logs`, `stats` (also in Momentum's
/// `ec_logger:NAME reopen logs` form). Writes the NUL-terminated reply into `out`
/// (truncated to fit `out_len`; nothing is written when `out_len` is 0) and returns the
/// full reply length, like snprintf, or a negative errno: `-EINVAL` (NULL `li`/`command`,
/// unknown command — the reply says so), `-ECANCELED` (not running), or the error of
/// `reopen logs`.
///
/// # Safety
/// `li` is NULL or a live logger; `command` a NUL-terminated string; `out` NULL or writable
/// for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_console(
    li: *mut logging_infrastructure,
    command: *const c_char,
    out: *mut c_char,
    out_len: usize,
) -> c_int {
    let Some(h) = handle_ref(li) else {
        return -libc::EINVAL;
    };
    let r = boundary::guard(|| {
        let cmd = match str_arg(command) {
            Ok(c) => c,
            Err(code) => {
                h.logger
                    .set_last_error("mtalog_console: command must be a non-NULL UTF-8 string");
                return code;
            }
        };
        let (reply, code) = match h.logger.console(cmd) {
            Ok(text) => (text, 0),
            Err((e, text)) => (text, -e.errno()),
        };
        if !out.is_null() && out_len > 0 {
            let n = reply.len().min(out_len - 1);
            // SAFETY: `out` is writable for `out_len > n` bytes (contract).
            unsafe {
                std::ptr::copy_nonoverlapping(reply.as_ptr(), out.cast::<u8>(), n);
                *out.add(n) = 0;
            }
        }
        if code < 0 {
            code
        } else {
            reply.len().min(c_int::MAX as usize) as c_int
        }
    });
    r.unwrap_or(-libc::ENOTRECOVERABLE)
}

/// Fills `out` with the logger's counters. The caller sets `out->struct_size`; only
/// members within it are written. Returns 0, or `-EINVAL` (NULL argument, or a
/// `struct_size` smaller than `sizeof(size_t)`).
///
/// # Safety
/// `li` is NULL or a live logger; `out` NULL or writable for `out->struct_size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_stats(
    li: *const logging_infrastructure,
    out: *mut MtalogStatsC,
) -> c_int {
    let Some(h) = handle_ref(li.cast_mut()) else {
        return -libc::EINVAL;
    };
    if out.is_null() {
        return -libc::EINVAL;
    }
    let r = boundary::guard(|| {
        // SAFETY: `out` is non-NULL and its first member is readable (contract).
        let size = unsafe { (*out).struct_size };
        if size < std::mem::size_of::<usize>() {
            return -libc::EINVAL;
        }
        let full = MtalogStatsC::new(size, &h.logger.stats());
        let n = size.min(std::mem::size_of::<MtalogStatsC>());
        // SAFETY: copies `n` bytes, within both our struct and the caller's `struct_size`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&full as *const MtalogStatsC).cast::<u8>(),
                out.cast::<u8>(),
                n,
            )
        };
        0
    });
    r.unwrap_or(-libc::ENOTRECOVERABLE)
}
