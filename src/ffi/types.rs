//! The C types: the Ecelerity vtable, the opaque host types, mtalog's reference structs,
//! the host accessor table and `struct mtalog_stats`.

use std::os::raw::{c_char, c_int};

use crate::pipeline::stats::StatsSnapshot;

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
///
/// This is mtalog's own definition. Ecelerity's `log_module.h` puts a
/// `shared_module_infrastructure` first in `logging_infrastructure`, but Momentum's
/// definition of that struct is internal and not published, so mtalog defines the header
/// it needs: an ABI version and the three members a module may not leave NULL
/// (`module_name`, `module_description`, `log_init`). The rest of
/// `logging_infrastructure` follows `log_module.h` member for member. A host whose own
/// module header differs keeps its header and adapts in one place: it reads `module_name`
/// and `module_description` from here, calls `log_init` through this member (or wraps it
/// in its own init function), and copies the nine hook pointers into its own vtable; the
/// hooks take the `logging_infrastructure *` that `mtalog_new` returned as their `self`.
#[repr(C)]
pub struct shared_module_infrastructure {
    /// `MTALOG_MODULE_API_VERSION`.
    pub module_api_version: u32,
    /// The logger kind (`"ec_logger"`, `"postfix_logger"`, `"imta_logger"`, `"json_logger"`,
    /// ...); static.
    pub module_name: *const c_char,
    /// A one-line description of the kind; static.
    pub module_description: *const c_char,
    /// Initialises the logger from one configuration stanza (or its body; NULL or empty =
    /// defaults). Returns 0, `-EINVAL` (configuration; the text names key and line),
    /// `-EILSEQ` (the text is not UTF-8), `-ENOENT` (a log directory is missing; it is not
    /// created), `-EACCES` (a file; or a `syslog+tls://` receiver whose certificate does
    /// not verify), `-ELOOP` (a symlink at a log path), `-ENXIO` (a log path is a FIFO
    /// that no process reads: mtalog does not wait for one), `-EADDRINUSE` or `-EEXIST`
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
    /// a negative errno (the old files stay in use on failure; `-ENXIO`: a FIFO that no
    /// process reads, which mtalog does not wait for).
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

macro_rules! c_stats {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// `struct mtalog_stats` (the header's text is generated by build.rs from the same
        /// list, because C cannot have a typedef and a function of the same name;
        /// `tests/c_tests` checks that the layouts match). Counters of one logger. Set
        /// `struct_size` before `mtalog_stats`; only members that lie within it are
        /// written, so a host built against an older header keeps working.
        #[repr(C)]
        #[derive(Clone, Copy, Default)]
        pub struct MtalogStatsC {
            /// `sizeof(mtalog_stats)` as the caller was compiled.
            pub struct_size: usize,
            $($(#[doc = $doc])* pub $name: u64,)*
        }

        impl MtalogStatsC {
            pub(crate) fn new(struct_size: usize, s: &StatsSnapshot) -> MtalogStatsC {
                MtalogStatsC {
                    struct_size,
                    $($name: s.$name,)*
                }
            }
        }
    };
}

crate::for_each_counter!(c_stats);

/// The reception phases, Momentum's `MC_STATE_*` values: the `phase` argument of
/// `log_rejection`. The rejectlog's `P="..."` text and the Postfix reject stage follow
/// them; a value outside the table prints `unknown`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum mc_state {
    /// Just connected.
    Start = 0,
    /// Sending the banner.
    StartResponse = 1,
    /// Awaiting EHLO/HELO.
    Ehlo = 2,
    /// Sending the EHLO/HELO response.
    EhloResponse = 3,
    /// Awaiting MAIL FROM.
    Mailfrom = 4,
    /// Sending the MAIL FROM response.
    MailfromResponse = 5,
    /// Awaiting RCPT TO.
    Rcptto = 6,
    /// Sending the RCPT TO response.
    RcpttoResponse = 7,
    /// The DATA command.
    Data = 8,
    /// Reading the body.
    Body = 9,
    /// Sending the body response.
    BodyResponse = 10,
    /// The asynchronous body handler.
    AsyncBodyResponse = 11,
    /// About to send OK after DATA.
    Ok = 12,
    /// Relaying denied.
    RelayingDenied = 13,
    /// Extension phase 1.
    Extension1 = 14,
    /// Extension phase 2.
    Extension2 = 15,
    /// Extension phase 3.
    Extension3 = 16,
    /// Extension phase 4.
    Extension4 = 17,
    /// A concurrency limit.
    ConcurrencyLimit = 18,
    /// The RCPT TO list response.
    RcpttoListResponse = 19,
    /// The final RCPT TO list response.
    RcpttoListFinalResponse = 20,
    /// Session setup.
    Setup = 21,
    /// Fix-up after the message was committed (no rejectlog text: `unknown`).
    McmtFixup = 22,
    /// The number of phases (never a phase itself).
    Count = 23,
}
