//! The C ABI: the Ecelerity `logging_infrastructure` vtable, the reference structs, the host
//! accessor table and the `mtalog_*` functions. Every export enters the panic guard, checks
//! and converts its arguments, makes one call into the core, and maps the result to a code.
//!
//! # API conventions (mirrored in the README)
//! - Functions that return `int` return 0 (or a length) on success and a negative errno on
//!   failure: `-EINVAL` bad argument or configuration, `-ENOENT` missing directory, `-EACCES`,
//!   `-EALREADY`, `-ECANCELED` (not running), `-ETIMEDOUT`, `-ENOTSUP`, `-ENOBUFS`,
//!   `-ENOTRECOVERABLE` (an internal error was caught). `mtalog_last_error` gives the text.
//! - Every pointer argument may be NULL; the documented code comes back and nothing crashes.
//! - No panic crosses the boundary, and the library never writes to stdout or stderr.
//! - Hooks may be called from any number of threads at once. `log_init`, `log_close` and
//!   `mtalog_free` must not race with other calls on the same logger.
//! - Call `log_close` (or `mtalog_free`) on every logger before `dlclose`: the writer thread
//!   is joined by then. Nothing runs at load time.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

/// cbindgen:ignore
pub mod boundary;
/// cbindgen:ignore
mod hooks;

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};

use crate::event::{Field, Kind};
use crate::format::Target;
use crate::logger::{Logger, StatsSnapshot};
use crate::sys::SwapCell;

/// The version of `shared_module_infrastructure` / `logging_infrastructure` this library
/// implements.
pub const MTALOG_MODULE_API_VERSION: u32 = 1;

/// Longest `log_error` text; a longer text is cut and ends with ` [truncated]`.
pub const MTALOG_TEXT_MAX: u32 = 65536;

/// A message of the host (opaque). Without a host table it is read as an
/// [`mtalog_message`].
pub struct abstract_message {
    _private: [u8; 0],
}

/// A destination domain of the host (opaque). Without a host table it is read as an
/// [`mtalog_domain`].
pub struct domain_record {
    _private: [u8; 0],
}

/// An inbound session of the host (opaque). Without a host table it is read as an
/// [`mtalog_accept`].
pub struct accept_construct {
    _private: [u8; 0],
}

/// The validation context of a rejection (opaque). Without a host table it is read as an
/// [`mtalog_validate`].
pub struct validate_context {
    _private: [u8; 0],
}

/// `int (*)(logging_infrastructure *self)`: `log_close` and `log_reopen`.
pub type LogHookFunc = Option<unsafe extern "C" fn(li: *mut logging_infrastructure) -> c_int>;
/// `log_attempt`, `log_transient_failure`, `log_permanent_failure`, `log_delivery`.
pub type LogEmailFunc = Option<
    unsafe extern "C" fn(
        li: *mut logging_infrastructure,
        message: *mut abstract_message,
        domain: *mut domain_record,
        now: *mut libc::timeval,
        note: *const c_char,
        note_len: c_int,
    ),
>;
/// `log_reception`.
pub type LogRcvEmailFunc = Option<
    unsafe extern "C" fn(
        li: *mut logging_infrastructure,
        ac: *mut accept_construct,
        message: *mut abstract_message,
        now: *mut libc::timeval,
        note: *const c_char,
        note_len: c_int,
    ),
>;
/// `log_error` (written by hand in the header: it takes a `va_list`).
pub type LogFormatFunc = Option<unsafe extern "C" fn()>;
/// `log_rejection` (written by hand in the header: it takes a `va_list`).
pub type LogRejectFunc = Option<unsafe extern "C" fn()>;
/// `int (*)(logging_infrastructure *self, const char *config)`: parses the configuration,
/// opens the files and starts the writer. Returns 0 or a negative errno.
pub type LogInitFunc =
    Option<unsafe extern "C" fn(li: *mut logging_infrastructure, config: *const c_char) -> c_int>;

/// The module header every logger starts with.
#[repr(C)]
pub struct shared_module_infrastructure {
    /// `MTALOG_MODULE_API_VERSION`.
    pub module_api_version: u32,
    /// The logger kind (`"ec_logger"`, `"postfix_logger"`, `"imta_logger"`); static.
    pub module_name: *const c_char,
    /// A one-line description of the kind; static.
    pub module_description: *const c_char,
    /// Initialises the logger from one configuration stanza (or its body; NULL or empty =
    /// defaults). Returns 0, `-EINVAL` (configuration; the text names key and line),
    /// `-EILSEQ` (the text is not UTF-8), `-ENOENT` (a log directory is missing; it is not
    /// created), `-EACCES`, `-ELOOP` (a symlink at a log path), `-EADDRINUSE` or `-EEXIST`
    /// (the `control_socket` path is taken), `-EALREADY` (already initialised),
    /// `-ECANCELED` (closed: a closed logger is not started again; free it and create a
    /// new one).
    pub log_init: LogInitFunc,
}

/// The Ecelerity logging vtable (log_module.h), member for member. `mtalog_new` returns
/// one; every hook is set (never NULL).
#[repr(C)]
pub struct logging_infrastructure {
    /// Module header.
    pub shared: shared_module_infrastructure,
    /// `void (*)(self, struct timeval *now, const char *format, va_list)`: one paniclog /
    /// error-log line. A severity prefix (`debug:` ... `panic:`) sets the level.
    pub log_error: LogFormatFunc,
    /// A message (one recipient) was received.
    pub log_reception: LogRcvEmailFunc,
    /// A delivery attempt starts (logged only with `log_attempts = true`).
    pub log_attempt: LogEmailFunc,
    /// An attempt failed temporarily.
    pub log_transient_failure: LogEmailFunc,
    /// An attempt failed permanently, or the message expired.
    pub log_permanent_failure: LogEmailFunc,
    /// The message was delivered.
    pub log_delivery: LogEmailFunc,
    /// Drains, flushes, fsyncs and stops the writer. Returns 0, `-ETIMEDOUT` (after
    /// `close_timeout`; what was not written is counted as dropped and reported),
    /// `-ECANCELED` (not running: never initialised, or already closed).
    pub log_close: LogHookFunc,
    /// Reopens every file by name, ordered with the events logged before it. Returns 0 or
    /// a negative errno (the old files stay in use on failure).
    pub log_reopen: LogHookFunc,
    /// `void (*)(self, now, accept_construct *, validate_context *, int phase, const char
    /// *format, va_list)`: an inbound rejection.
    pub log_rejection: LogRejectFunc,
}

/// The reference message struct: how mtalog reads an `abstract_message *` when no host
/// table is set. Strings are NUL-terminated, NULL = empty/unknown.
#[repr(C)]
pub struct mtalog_message {
    /// MTA message id (per recipient).
    pub id: *const c_char,
    /// Batch id (recipients of one transaction).
    pub batch_id: *const c_char,
    /// Connection id.
    pub conn_id: *const c_char,
    /// Envelope sender; empty or NULL for the null reverse path.
    pub mail_from: *const c_char,
    /// Envelope recipient.
    pub rcpt_to: *const c_char,
    /// Original recipient (ORCPT).
    pub orcpt: *const c_char,
    /// The Message-ID header.
    pub message_id_header: *const c_char,
    /// Message size in bytes.
    pub size: u64,
    /// Bytes sent in this attempt.
    pub bytes_sent: u64,
    /// Number of earlier attempts.
    pub retries: u32,
    /// Reception time ({0, 0} = unknown).
    pub received: libc::timeval,
    /// MultiVIP binding group.
    pub binding_group: *const c_char,
    /// MultiVIP binding.
    pub binding: *const c_char,
    /// Connection stage of a failure (0..22).
    pub stage: i32,
    /// Number of envelope recipients (0 = unknown).
    pub nrcpt: u32,
    /// Spool file path.
    pub spool_path: *const c_char,
    /// Authenticated submitter.
    pub auth_user: *const c_char,
    /// Non-zero: a delivery is a transfer to another cluster node (ec_logger `X`).
    pub is_transfer: u8,
    /// Non-zero: TLS was used.
    pub tls: u8,
    /// Non-zero: ESMTP was used.
    pub esmtp: u8,
}

/// The reference domain struct (`domain_record *` without a host table).
#[repr(C)]
pub struct mtalog_domain {
    /// Destination domain.
    pub name: *const c_char,
    /// MX host name of the attempt.
    pub mx_host: *const c_char,
    /// MX IP address of the attempt.
    pub mx_ip: *const c_char,
    /// MX port (0 = 25).
    pub mx_port: u16,
    /// SMTP command the last reply answered (e.g. `"RCPT TO"`).
    pub smtp_command: *const c_char,
}

/// The reference session struct (`accept_construct *` without a host table).
#[repr(C)]
pub struct mtalog_accept {
    /// Client IP.
    pub peer_ip: *const c_char,
    /// Client port.
    pub peer_port: u16,
    /// Client reverse-DNS name.
    pub peer_name: *const c_char,
    /// HELO/EHLO argument.
    pub helo: *const c_char,
    /// Protocol (`"esmtp"`, `"smtp"`, `"rest"`, ...).
    pub protocol: *const c_char,
    /// Listener IP.
    pub local_ip: *const c_char,
    /// Listener port.
    pub local_port: u16,
    /// Connection id.
    pub conn_id: *const c_char,
    /// SMTP AUTH user.
    pub auth_user: *const c_char,
    /// Non-zero: TLS is active.
    pub tls: u8,
}

/// The reference validation context (`validate_context *` without a host table).
#[repr(C)]
pub struct mtalog_validate {
    /// MAIL FROM, if known.
    pub mail_from: *const c_char,
    /// RCPT TO, if known.
    pub rcpt_to: *const c_char,
    /// The session, used when the hook's `ac` is NULL.
    pub accept: *const mtalog_accept,
    /// SMTP reply code (0 = take it from the text).
    pub code: i32,
    /// Last validation module.
    pub module: *const c_char,
    /// Pathway.
    pub pathway: *const c_char,
    /// Pathway group.
    pub pathway_group: *const c_char,
    /// Connection context, `key=value,...`.
    pub ctx_conn: *const c_char,
    /// Message context, `key=value,...`.
    pub ctx_mess: *const c_char,
}

/// Returns a message's text field: a pointer to `*len_out` bytes (no NUL needed), valid
/// until the hook returns; NULL = empty.
pub type mtalog_message_str_fn = Option<
    unsafe extern "C" fn(message: *const abstract_message, len_out: *mut usize) -> *const c_char,
>;
/// Returns a message's unsigned field.
pub type mtalog_message_u64_fn =
    Option<unsafe extern "C" fn(message: *const abstract_message) -> u64>;
/// Returns a message's signed field.
pub type mtalog_message_i64_fn =
    Option<unsafe extern "C" fn(message: *const abstract_message) -> i64>;
/// Stores a message's reception time in `*out`; returns 0 when known.
pub type mtalog_message_time_fn = Option<
    unsafe extern "C" fn(message: *const abstract_message, out: *mut libc::timeval) -> c_int,
>;
/// Returns a domain's text field (as `mtalog_message_str_fn`).
pub type mtalog_domain_str_fn = Option<
    unsafe extern "C" fn(domain: *const domain_record, len_out: *mut usize) -> *const c_char,
>;
/// Returns a domain's unsigned field.
pub type mtalog_domain_u64_fn = Option<unsafe extern "C" fn(domain: *const domain_record) -> u64>;
/// Returns a session's text field (as `mtalog_message_str_fn`).
pub type mtalog_accept_str_fn =
    Option<unsafe extern "C" fn(ac: *const accept_construct, len_out: *mut usize) -> *const c_char>;
/// Returns a session's unsigned field.
pub type mtalog_accept_u64_fn = Option<unsafe extern "C" fn(ac: *const accept_construct) -> u64>;
/// Returns a validation context's text field (as `mtalog_message_str_fn`).
pub type mtalog_validate_str_fn = Option<
    unsafe extern "C" fn(ctx: *const validate_context, len_out: *mut usize) -> *const c_char,
>;
/// Returns a validation context's signed field.
pub type mtalog_validate_i64_fn = Option<unsafe extern "C" fn(ctx: *const validate_context) -> i64>;
/// Returns the session of a validation context (NULL = unknown).
pub type mtalog_validate_accept_fn =
    Option<unsafe extern "C" fn(ctx: *const validate_context) -> *const accept_construct>;

/// The host accessor table: how mtalog reads any MTA's own structs. Set `struct_size` to
/// `sizeof(mtalog_host_api)`; members beyond it (or only partly within it) and NULL members
/// count as absent fields. Accessors are called only on the hook's thread, during the hook.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct mtalog_host_api {
    /// `sizeof(mtalog_host_api)` as the host was compiled.
    pub struct_size: usize,
    /// Message id.
    pub message_id: mtalog_message_str_fn,
    /// Batch id.
    pub message_batch_id: mtalog_message_str_fn,
    /// Connection id.
    pub message_conn_id: mtalog_message_str_fn,
    /// Envelope sender.
    pub message_mail_from: mtalog_message_str_fn,
    /// Envelope recipient.
    pub message_rcpt_to: mtalog_message_str_fn,
    /// Original recipient.
    pub message_orcpt: mtalog_message_str_fn,
    /// Message-ID header.
    pub message_message_id_header: mtalog_message_str_fn,
    /// Size in bytes.
    pub message_size: mtalog_message_u64_fn,
    /// Bytes sent in this attempt.
    pub message_bytes_sent: mtalog_message_u64_fn,
    /// Earlier attempts.
    pub message_retries: mtalog_message_u64_fn,
    /// Reception time.
    pub message_received: mtalog_message_time_fn,
    /// Binding group.
    pub message_binding_group: mtalog_message_str_fn,
    /// Binding.
    pub message_binding: mtalog_message_str_fn,
    /// Connection stage.
    pub message_stage: mtalog_message_i64_fn,
    /// Envelope recipients.
    pub message_nrcpt: mtalog_message_u64_fn,
    /// Spool path.
    pub message_spool_path: mtalog_message_str_fn,
    /// Authenticated submitter.
    pub message_auth_user: mtalog_message_str_fn,
    /// Non-zero: cluster transfer.
    pub message_is_transfer: mtalog_message_u64_fn,
    /// Non-zero: TLS.
    pub message_tls: mtalog_message_u64_fn,
    /// Non-zero: ESMTP.
    pub message_esmtp: mtalog_message_u64_fn,
    /// Domain name.
    pub domain_name: mtalog_domain_str_fn,
    /// MX host.
    pub domain_mx_host: mtalog_domain_str_fn,
    /// MX IP.
    pub domain_mx_ip: mtalog_domain_str_fn,
    /// MX port.
    pub domain_mx_port: mtalog_domain_u64_fn,
    /// SMTP command.
    pub domain_smtp_command: mtalog_domain_str_fn,
    /// Client IP.
    pub accept_peer_ip: mtalog_accept_str_fn,
    /// Client port.
    pub accept_peer_port: mtalog_accept_u64_fn,
    /// Client name.
    pub accept_peer_name: mtalog_accept_str_fn,
    /// HELO.
    pub accept_helo: mtalog_accept_str_fn,
    /// Protocol.
    pub accept_protocol: mtalog_accept_str_fn,
    /// Listener IP.
    pub accept_local_ip: mtalog_accept_str_fn,
    /// Listener port.
    pub accept_local_port: mtalog_accept_u64_fn,
    /// Connection id.
    pub accept_conn_id: mtalog_accept_str_fn,
    /// SMTP AUTH user.
    pub accept_auth_user: mtalog_accept_str_fn,
    /// Non-zero: TLS.
    pub accept_tls: mtalog_accept_u64_fn,
    /// MAIL FROM at rejection.
    pub validate_mail_from: mtalog_validate_str_fn,
    /// RCPT TO at rejection.
    pub validate_rcpt_to: mtalog_validate_str_fn,
    /// The session of the context.
    pub validate_accept: mtalog_validate_accept_fn,
    /// Reply code.
    pub validate_code: mtalog_validate_i64_fn,
    /// Last module.
    pub validate_module: mtalog_validate_str_fn,
    /// Pathway.
    pub validate_pathway: mtalog_validate_str_fn,
    /// Pathway group.
    pub validate_pathway_group: mtalog_validate_str_fn,
    /// Connection context.
    pub validate_ctx_conn: mtalog_validate_str_fn,
    /// Message context.
    pub validate_ctx_mess: mtalog_validate_str_fn,
}

// `mtalog_set_host_api` copies whole words: every member is one.
const _: () = assert!(std::mem::size_of::<mtalog_host_api>() % std::mem::size_of::<usize>() == 0);

/// `struct mtalog_stats` (written by hand in the header's prologue, because C cannot have
/// a typedef and a function of the same name; `tests/c_tests` checks that the layouts
/// match). Counters of one logger. Set `struct_size` before `mtalog_stats`; only members that lie
/// within it are written, so a host built against an older header keeps working.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct MtalogStatsC {
    /// `sizeof(mtalog_stats)` as the caller was compiled.
    pub struct_size: usize,
    /// Events accepted onto the queue.
    pub accepted: u64,
    /// Events whose lines are in their files.
    pub written: u64,
    /// Events dropped (queue full in `overflow = drop`, `block_timeout` expired, or not
    /// written at a timed-out close).
    pub dropped: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Write faults (a fault that lasts over retries counts once).
    pub write_errors: u64,
    /// Events on the queue now.
    pub queue_depth: u64,
    /// Reopens done.
    pub reopens: u64,
    /// Dropped receptions.
    pub dropped_reception: u64,
    /// Dropped attempts.
    pub dropped_attempt: u64,
    /// Dropped transient failures.
    pub dropped_transient_failure: u64,
    /// Dropped permanent failures.
    pub dropped_permanent_failure: u64,
    /// Dropped deliveries.
    pub dropped_delivery: u64,
    /// Dropped rejections.
    pub dropped_rejection: u64,
    /// Dropped errors.
    pub dropped_error: u64,
    /// Dropped acctlog records.
    pub dropped_acct: u64,
    /// Dropped importlog records.
    pub dropped_import: u64,
    /// Bad calls from the host (NULL message, bad `note_len`, calls before `log_init` or
    /// after `log_close`, ...).
    pub input_errors: u64,
    /// Events not logged because their `log_*` option is off.
    pub filtered: u64,
    /// Values cut at `max_field` or texts at `MTALOG_TEXT_MAX`.
    pub truncated: u64,
    /// Built-in rotations done.
    pub rotations: u64,
    /// Internal errors caught.
    pub panics: u64,
}

const MAGIC: u64 = 0x6d74_616c_6f67_0001;

/// The object behind every `logging_infrastructure *` mtalog hands out.
#[repr(C)]
pub(crate) struct Handle {
    vt: logging_infrastructure,
    magic: u64,
    pub(crate) logger: Logger,
    host: SwapCell<Option<mtalog_host_api>>,
}

impl Handle {
    pub(crate) fn host_api(&self) -> Option<&mtalog_host_api> {
        self.host.get().and_then(Option::as_ref)
    }
}

pub(crate) fn handle_ref<'a>(li: *mut logging_infrastructure) -> Option<&'a Handle> {
    let h = li.cast::<Handle>();
    // SAFETY: a non-NULL `li` must come from `mtalog_new` and not be freed yet (contract);
    // the vtable is the first member of `Handle`, so the cast is the inverse of the one in
    // `mtalog_new`. The magic check catches pointers that are not ours at all.
    let h = unsafe { h.as_ref() }?;
    (h.magic == MAGIC).then_some(h)
}

fn kind_cstr(kind: &str) -> (&'static CStr, &'static CStr) {
    match kind {
        "postfix_logger" => (
            c"postfix_logger",
            c"Postfix-style logging that pflogsumm reads",
        ),
        "imta_logger" => (
            c"imta_logger",
            c"Sun Java System Messaging Server MTA logging",
        ),
        _ => (
            c"ec_logger",
            c"Momentum-style logging (mainlog, rejectlog, paniclog, acctlog, importlog)",
        ),
    }
}

static SHIM: std::sync::Once = std::sync::Once::new();

fn new_handle(logger: Logger) -> *mut logging_infrastructure {
    boundary::install_panic_hook();
    SHIM.call_once(|| {
        // SAFETY: installs two function pointers in the shim's globals, once, before any
        // vtable that points to the shim is handed out.
        unsafe { hooks::mtalog_shim_install(hooks::error_sink, hooks::reject_sink) }
    });
    let (name, desc) = kind_cstr(logger.kind());
    let vt = logging_infrastructure {
        shared: shared_module_infrastructure {
            module_api_version: MTALOG_MODULE_API_VERSION,
            module_name: name.as_ptr(),
            module_description: desc.as_ptr(),
            log_init: Some(log_init),
        },
        log_error: Some(hooks::mtalog_shim_log_error),
        log_reception: Some(hooks::log_reception),
        log_attempt: Some(hooks::log_attempt),
        log_transient_failure: Some(hooks::log_transient_failure),
        log_permanent_failure: Some(hooks::log_permanent_failure),
        log_delivery: Some(hooks::log_delivery),
        log_close: Some(hooks::log_close),
        log_reopen: Some(hooks::log_reopen),
        log_rejection: Some(hooks::mtalog_shim_log_rejection),
    };
    let h = Box::new(Handle {
        vt,
        magic: MAGIC,
        logger,
        host: SwapCell::empty(),
    });
    Box::into_raw(h).cast()
}

/// Reads a C string argument as UTF-8.
fn str_arg<'a>(p: *const c_char) -> Result<&'a str, c_int> {
    if p.is_null() {
        return Err(-libc::EINVAL);
    }
    // SAFETY: non-NULL C string arguments are NUL-terminated (contract).
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| -libc::EILSEQ)
}

unsafe extern "C" fn log_init(li: *mut logging_infrastructure, config: *const c_char) -> c_int {
    let Some(h) = handle_ref(li) else {
        return -libc::EINVAL;
    };
    let text = if config.is_null() {
        ""
    } else {
        match str_arg(config) {
            Ok(t) => t,
            Err(code) => {
                h.logger
                    .set_last_error("log_init: configuration is not valid UTF-8");
                return code;
            }
        }
    };
    match boundary::guard(|| h.logger.init(text)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => -e.errno(),
        Err(msg) => {
            h.logger.set_last_error(&msg);
            -libc::ENOTRECOVERABLE
        }
    }
}

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
                    "mtalog_new: unknown logger kind '{k}' (known: ec_logger, postfix_logger, imta_logger)"
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
        let s: StatsSnapshot = h.logger.stats();
        let d = |k: Kind| s.dropped_by_kind[k.index()];
        let full = MtalogStatsC {
            struct_size: size,
            accepted: s.accepted,
            written: s.written,
            dropped: s.dropped,
            bytes_written: s.bytes_written,
            write_errors: s.write_errors,
            queue_depth: s.queue_depth,
            reopens: s.reopens,
            dropped_reception: d(Kind::Reception),
            dropped_attempt: d(Kind::Attempt),
            dropped_transient_failure: d(Kind::TransientFailure),
            dropped_permanent_failure: d(Kind::PermanentFailure),
            dropped_delivery: d(Kind::Delivery),
            dropped_rejection: d(Kind::Rejection),
            dropped_error: d(Kind::Error),
            dropped_acct: d(Kind::Acct),
            dropped_import: d(Kind::Import),
            input_errors: s.input_errors,
            filtered: s.filtered,
            truncated: s.truncated,
            rotations: s.rotations,
            panics: s.panics,
        };
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

fn record_arg(
    h: &Handle,
    kind: Kind,
    target: Target,
    what: &str,
) -> Result<Box<crate::event::Event>, c_int> {
    let l = &h.logger;
    let Some(settings) = l.settings() else {
        l.input_error();
        return Err(-libc::ECANCELED);
    };
    if !settings.records {
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
        l.shared()
            .stats
            .truncated
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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

/// Writes an acctlog record (ec_logger only): `type` is `'N'` (authentication), `'T'`
/// (authentication timeout), `'Z'` (authorization) or anything else for `'?'`; `listener`
/// (e.g. `"*:2025"`), `peer` (`"ip:port"`, NULL for Unix sockets), `user`, `result` (`1`
/// success, `0` failure, `-1` error), and for `'Z'` the `command` and the granting `role`
/// (NULL when refused). `now` NULL = the current time. Returns 0 (queued); `-EINVAL` (NULL
/// `li`); `-ENOTSUP` (not an ec_logger); `-ENOENT` (no `acctlog` configured);
/// `-ECANCELED` (not running); `-EAGAIN` (dropped: queue full in drop mode).
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
        let mut ev = match record_arg(h, Kind::Acct, Target::Acct, "acctlog") {
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

/// Writes an importlog record (ec_logger only): `orig_id` is the message id in the imported
/// spool, `new_id` the id in the live spool (NULL = unchanged), `result` 1 (success), 2
/// (metadata unreadable), 3 (message unreadable) or 4 (could not be written to the live
/// spool), `spool_dir` the imported spool's base directory. Returns 0; `-EINVAL` (NULL
/// `li`, `orig_id` NULL, `result` outside 1..4); `-ENOTSUP`; `-ENOENT` (no `importlog`
/// configured); `-ECANCELED`; `-EAGAIN` (dropped).
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
            h.logger.input_error();
            return -libc::EINVAL;
        }
        let mut ev = match record_arg(h, Kind::Import, Target::Import, "importlog") {
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

/// Makes the hooks read the host's objects through `api` (copied; the caller keeps its
/// table). NULL restores reading them as mtalog's reference structs. Call it before the
/// hooks run. Returns 0, or `-EINVAL` (NULL `li`, or `api->struct_size` smaller than
/// `sizeof(size_t)`).
///
/// # Safety
/// `li` is NULL or a live logger; `api` NULL or readable for `api->struct_size` bytes, its
/// function pointers callable as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_set_host_api(
    li: *mut logging_infrastructure,
    api: *const mtalog_host_api,
) -> c_int {
    let Some(h) = handle_ref(li) else {
        return -libc::EINVAL;
    };
    let r = boundary::guard(|| {
        if api.is_null() {
            h.host.set(None);
            return 0;
        }
        // SAFETY: `api` is readable for at least its first member (contract).
        let size = unsafe { (*api).struct_size };
        if size < std::mem::size_of::<usize>() {
            h.logger.input_error();
            return -libc::EINVAL;
        }
        // SAFETY: an all-zero table is valid (every accessor None).
        let mut table: mtalog_host_api = unsafe { std::mem::zeroed() };
        // Whole members only: every member is pointer-sized, and one that `struct_size`
        // cuts is absent like those beyond it (half a function pointer is never called).
        let word = std::mem::size_of::<usize>();
        let n = size.min(std::mem::size_of::<mtalog_host_api>()) / word * word;
        // SAFETY: copies `n` readable bytes of the caller's table into ours.
        unsafe {
            std::ptr::copy_nonoverlapping(
                api.cast::<u8>(),
                (&mut table as *mut mtalog_host_api).cast::<u8>(),
                n,
            )
        };
        table.struct_size = std::mem::size_of::<mtalog_host_api>();
        h.host.set(Some(table));
        0
    });
    r.unwrap_or(-libc::ENOTRECOVERABLE)
}

/// The library version, e.g. `"0.1.0"`; static.
#[unsafe(no_mangle)]
pub extern "C" fn mtalog_version() -> *const c_char {
    static V: once_cell::sync::Lazy<CString> =
        once_cell::sync::Lazy::new(|| CString::new(env!("CARGO_PKG_VERSION")).unwrap_or_default());
    V.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtable_is_first_and_hooks_are_set() {
        let li = unsafe { mtalog_new(c"ec_logger".as_ptr(), c"t".as_ptr()) };
        assert!(!li.is_null());
        let vt = unsafe { &*li };
        assert_eq!(vt.shared.module_api_version, 1);
        assert_eq!(
            unsafe { CStr::from_ptr(vt.shared.module_name) },
            c"ec_logger"
        );
        assert!(
            vt.log_error.is_some() && vt.log_rejection.is_some() && vt.shared.log_init.is_some()
        );
        // Hooks before init are ignored and counted.
        unsafe {
            (vt.log_delivery.unwrap())(
                li,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null(),
                0,
            )
        };
        assert_eq!(unsafe { (vt.log_close.unwrap())(li) }, -libc::ECANCELED);
        unsafe { mtalog_free(li) };
        unsafe { mtalog_free(std::ptr::null_mut()) };
    }

    #[test]
    fn unknown_kind_and_null_arguments() {
        assert!(unsafe { mtalog_new(c"nope".as_ptr(), c"x".as_ptr()) }.is_null());
        let e = unsafe { CStr::from_ptr(mtalog_last_error(std::ptr::null())) };
        assert!(e.to_str().unwrap().contains("unknown logger kind 'nope'"));
        assert!(unsafe { mtalog_new(std::ptr::null(), c"x".as_ptr()) }.is_null());
        assert_eq!(
            unsafe { mtalog_stats(std::ptr::null(), std::ptr::null_mut()) },
            -libc::EINVAL
        );
        assert_eq!(
            unsafe {
                mtalog_console(
                    std::ptr::null_mut(),
                    std::ptr::null(),
                    std::ptr::null_mut(),
                    0,
                )
            },
            -libc::EINVAL
        );
    }
}
