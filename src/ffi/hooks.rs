//! The vtable hooks: copy what the event needs out of the host's objects (through the host
//! accessor table, or as mtalog's reference structs) into an owned event and queue it.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use super::{
    Handle, abstract_message, accept_construct, domain_record, logging_infrastructure,
    mtalog_accept, mtalog_domain, mtalog_host_api, mtalog_message, mtalog_validate,
    validate_context,
};
use crate::event::{Event, Field, Kind, TRUNCATED_MARKER, Timestamp, flags, trim_partial_utf8};
use crate::pipeline::stats::Counter;

// The C shim (src/shim.c): hidden symbols, linked into the library.
unsafe extern "C" {
    pub(crate) fn mtalog_shim_install(
        error: unsafe extern "C" fn(
            *mut logging_infrastructure,
            *mut libc::timeval,
            *const c_char,
            usize,
            c_int,
        ),
        reject: unsafe extern "C" fn(
            *mut logging_infrastructure,
            *mut libc::timeval,
            *mut accept_construct,
            *mut validate_context,
            c_int,
            *const c_char,
            usize,
            c_int,
        ),
    );
    pub(crate) fn mtalog_shim_log_error();
    pub(crate) fn mtalog_shim_log_rejection();
}

/// A `note_len` above this is treated as garbage (no note, counted as an input error).
pub const MAX_SANE_NOTE: c_int = 1 << 20;

/// A timeval as a timestamp (`time_t`/`suseconds_t` widths differ between platforms).
#[allow(clippy::unnecessary_cast)]
fn tv_ts(tv: &libc::timeval) -> Timestamp {
    Timestamp::new(tv.tv_sec as i64, tv.tv_usec as i64)
}

/// Converts the hook's `now` (NULL = the current time).
pub(crate) fn time_of(now: *const libc::timeval) -> Timestamp {
    // SAFETY: the host passes NULL or a valid timeval for the duration of the call.
    match unsafe { now.as_ref() } {
        Some(tv) => tv_ts(tv),
        None => Timestamp::now(),
    }
}

/// Bytes of a NUL-terminated string (NULL = empty).
fn cstr<'a>(p: *const c_char) -> &'a [u8] {
    if p.is_null() {
        return &[];
    }
    // SAFETY: the reference structs' contract: strings are NULL or NUL-terminated and live
    // for the duration of the hook call.
    unsafe { CStr::from_ptr(p) }.to_bytes()
}

/// Bytes returned by a host accessor (NULL pointer or NULL result = empty).
fn accessed<'a, T>(
    f: Option<unsafe extern "C" fn(*const T, *mut usize) -> *const c_char>,
    obj: *const T,
) -> &'a [u8] {
    let Some(f) = f else { return &[] };
    let mut len = 0usize;
    // SAFETY: the host table's contract: accessors are callable on the hook's thread with
    // the object the hook received, and return NULL or `len` readable bytes that stay valid
    // until the hook returns.
    let p = unsafe { f(obj, &mut len) };
    if p.is_null() || len == 0 || len > (MAX_SANE_NOTE as usize) * 16 {
        return &[];
    }
    // SAFETY: see above.
    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
}

fn num<T, R: Default>(f: Option<unsafe extern "C" fn(*const T) -> R>, obj: *const T) -> R {
    match f {
        // SAFETY: host table contract, as in `accessed`.
        Some(f) => unsafe { f(obj) },
        None => R::default(),
    }
}

struct Filler<'a> {
    ev: &'a mut Event,
    max: usize,
    truncated: u64,
    /// The fields the logger's format reads for this event ([`LoggerKind::fields_used`](crate::format::LoggerKind::fields_used)); the
    /// others are not copied (nor read from the host).
    want: u64,
}

impl Filler<'_> {
    #[inline]
    fn wants(&self, f: Field) -> bool {
        self.want & 1 << f as u64 != 0
    }

    fn put(&mut self, f: Field, v: &[u8]) {
        if !v.is_empty() && self.ev.push(f, v, self.max) {
            self.truncated += 1;
        }
    }
}

fn fill_message(fl: &mut Filler<'_>, api: Option<&mtalog_host_api>, msg: *const abstract_message) {
    if msg.is_null() {
        return;
    }
    if let Some(a) = api {
        for (f, acc) in [
            (Field::MsgId, a.message_id),
            (Field::BatchId, a.message_batch_id),
            (Field::ConnId, a.message_conn_id),
            (Field::MailFrom, a.message_mail_from),
            (Field::RcptTo, a.message_rcpt_to),
            (Field::Orcpt, a.message_orcpt),
            (Field::MessageIdHeader, a.message_message_id_header),
            (Field::BindingGroup, a.message_binding_group),
            (Field::Binding, a.message_binding),
            (Field::SpoolPath, a.message_spool_path),
            (Field::AuthUser, a.message_auth_user),
        ] {
            if fl.wants(f) {
                fl.put(f, accessed(acc, msg));
            }
        }
        let ev = &mut *fl.ev;
        ev.size = num(a.message_size, msg);
        ev.bytes_sent = num(a.message_bytes_sent, msg);
        ev.retries = num(a.message_retries, msg).min(u32::MAX as u64) as u32;
        ev.stage = num(a.message_stage, msg).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        ev.nrcpt = num(a.message_nrcpt, msg).min(u32::MAX as u64) as u32;
        if let Some(f) = a.message_received {
            // SAFETY: an all-zero timeval is valid.
            let mut tv: libc::timeval = unsafe { std::mem::zeroed() };
            // SAFETY: host table contract; `tv` is a valid out-pointer.
            if unsafe { f(msg, &mut tv) } == 0 {
                ev.received = tv_ts(&tv);
                ev.flags |= flags::HAS_RECEIVED;
            }
        }
        if num(a.message_is_transfer, msg) != 0 {
            ev.flags |= flags::TRANSFER;
        }
        if num(a.message_tls, msg) != 0 {
            ev.flags |= flags::TLS;
        }
        if num(a.message_esmtp, msg) != 0 {
            ev.flags |= flags::ESMTP;
        }
        return;
    }
    // SAFETY: without a host table the pointer is an `mtalog_message` (documented contract).
    let m = unsafe { &*msg.cast::<mtalog_message>() };
    for (f, p) in [
        (Field::MsgId, m.id),
        (Field::BatchId, m.batch_id),
        (Field::ConnId, m.conn_id),
        (Field::MailFrom, m.mail_from),
        (Field::RcptTo, m.rcpt_to),
        (Field::Orcpt, m.orcpt),
        (Field::MessageIdHeader, m.message_id_header),
        (Field::BindingGroup, m.binding_group),
        (Field::Binding, m.binding),
        (Field::SpoolPath, m.spool_path),
        (Field::AuthUser, m.auth_user),
    ] {
        if fl.wants(f) {
            fl.put(f, cstr(p));
        }
    }
    let ev = &mut *fl.ev;
    ev.size = m.size;
    ev.bytes_sent = m.bytes_sent;
    ev.retries = m.retries;
    ev.stage = m.stage;
    ev.nrcpt = m.nrcpt;
    if m.received.tv_sec != 0 || m.received.tv_usec != 0 {
        ev.received = tv_ts(&m.received);
        ev.flags |= flags::HAS_RECEIVED;
    }
    if m.is_transfer != 0 {
        ev.flags |= flags::TRANSFER;
    }
    if m.tls != 0 {
        ev.flags |= flags::TLS;
    }
    if m.esmtp != 0 {
        ev.flags |= flags::ESMTP;
    }
}

fn fill_domain(fl: &mut Filler<'_>, api: Option<&mtalog_host_api>, d: *const domain_record) {
    if d.is_null() {
        return;
    }
    if let Some(a) = api {
        for (f, acc) in [
            (Field::DomainName, a.domain_name),
            (Field::MxHost, a.domain_mx_host),
            (Field::MxIp, a.domain_mx_ip),
            (Field::SmtpCommand, a.domain_smtp_command),
        ] {
            if fl.wants(f) {
                fl.put(f, accessed(acc, d));
            }
        }
        fl.ev.mx_port = num(a.domain_mx_port, d).min(u16::MAX as u64) as u16;
        return;
    }
    // SAFETY: without a host table the pointer is an `mtalog_domain`.
    let r = unsafe { &*d.cast::<mtalog_domain>() };
    for (f, p) in [
        (Field::DomainName, r.name),
        (Field::MxHost, r.mx_host),
        (Field::MxIp, r.mx_ip),
        (Field::SmtpCommand, r.smtp_command),
    ] {
        if fl.wants(f) {
            fl.put(f, cstr(p));
        }
    }
    fl.ev.mx_port = r.mx_port;
}

fn fill_accept(fl: &mut Filler<'_>, api: Option<&mtalog_host_api>, ac: *const accept_construct) {
    if ac.is_null() {
        return;
    }
    fl.ev.flags |= flags::HAS_ACCEPT;
    fill_accept_fields(fl, api, ac);
    // A session whose protocol is ESMTP said EHLO.
    if fl.ev.get(Field::Protocol).eq_ignore_ascii_case(b"esmtp") {
        fl.ev.flags |= flags::ESMTP;
    }
}

fn fill_accept_fields(
    fl: &mut Filler<'_>,
    api: Option<&mtalog_host_api>,
    ac: *const accept_construct,
) {
    if let Some(a) = api {
        for (f, acc) in [
            (Field::PeerIp, a.accept_peer_ip),
            (Field::PeerName, a.accept_peer_name),
            (Field::Helo, a.accept_helo),
            (Field::Protocol, a.accept_protocol),
            (Field::LocalIp, a.accept_local_ip),
            (Field::AcceptConnId, a.accept_conn_id),
            (Field::AcceptAuthUser, a.accept_auth_user),
        ] {
            if fl.wants(f) {
                fl.put(f, accessed(acc, ac));
            }
        }
        fl.ev.peer_port = num(a.accept_peer_port, ac).min(u16::MAX as u64) as u16;
        fl.ev.local_port = num(a.accept_local_port, ac).min(u16::MAX as u64) as u16;
        if num(a.accept_tls, ac) != 0 {
            fl.ev.flags |= flags::TLS;
        }
        return;
    }
    // SAFETY: without a host table the pointer is an `mtalog_accept`.
    let r = unsafe { &*ac.cast::<mtalog_accept>() };
    for (f, p) in [
        (Field::PeerIp, r.peer_ip),
        (Field::PeerName, r.peer_name),
        (Field::Helo, r.helo),
        (Field::Protocol, r.protocol),
        (Field::LocalIp, r.local_ip),
        (Field::AcceptConnId, r.conn_id),
        (Field::AcceptAuthUser, r.auth_user),
    ] {
        if fl.wants(f) {
            fl.put(f, cstr(p));
        }
    }
    fl.ev.peer_port = r.peer_port;
    fl.ev.local_port = r.local_port;
    if r.tls != 0 {
        fl.ev.flags |= flags::TLS;
    }
}

/// The accept construct a validate context points to (used when the hook's `ac` is NULL).
fn validate_accept(
    api: Option<&mtalog_host_api>,
    ctx: *const validate_context,
) -> *const accept_construct {
    if ctx.is_null() {
        return std::ptr::null();
    }
    match api {
        Some(a) => match a.validate_accept {
            // SAFETY: host table contract.
            Some(f) => unsafe { f(ctx) },
            None => std::ptr::null(),
        },
        // SAFETY: without a host table the pointer is an `mtalog_validate`.
        None => unsafe { &*ctx.cast::<mtalog_validate>() }.accept.cast(),
    }
}

fn fill_validate(fl: &mut Filler<'_>, api: Option<&mtalog_host_api>, ctx: *const validate_context) {
    if ctx.is_null() {
        return;
    }
    if let Some(a) = api {
        for (f, acc) in [
            (Field::VMailFrom, a.validate_mail_from),
            (Field::VRcptTo, a.validate_rcpt_to),
            (Field::VModule, a.validate_module),
            (Field::VPathway, a.validate_pathway),
            (Field::VPathwayGroup, a.validate_pathway_group),
            (Field::VCtxConn, a.validate_ctx_conn),
            (Field::VCtxMess, a.validate_ctx_mess),
        ] {
            if fl.wants(f) {
                fl.put(f, accessed(acc, ctx));
            }
        }
        fl.ev.code = num(a.validate_code, ctx).clamp(0, 999) as i32;
        return;
    }
    // SAFETY: without a host table the pointer is an `mtalog_validate`.
    let v = unsafe { &*ctx.cast::<mtalog_validate>() };
    for (f, p) in [
        (Field::VMailFrom, v.mail_from),
        (Field::VRcptTo, v.rcpt_to),
        (Field::VModule, v.module),
        (Field::VPathway, v.pathway),
        (Field::VPathwayGroup, v.pathway_group),
        (Field::VCtxConn, v.ctx_conn),
        (Field::VCtxMess, v.ctx_mess),
    ] {
        if fl.wants(f) {
            fl.put(f, cstr(p));
        }
    }
    fl.ev.code = v.code.clamp(0, 999);
}

/// Why a note was refused.
const BAD_NOTE: &str =
    "the note was refused: note is NULL with a note_len > 0, or note_len is negative or over 1 MiB";

/// Copies the note; returns false when its arguments were invalid (counted by the caller).
fn fill_note(fl: &mut Filler<'_>, note: *const c_char, note_len: c_int) -> bool {
    if note_len == 0 {
        if !note.is_null() {
            fl.ev.flags |= flags::HAS_NOTE;
        }
        return true;
    }
    if note.is_null() || !(0..=MAX_SANE_NOTE).contains(&note_len) {
        return false;
    }
    fl.ev.flags |= flags::HAS_NOTE;
    if !fl.wants(Field::Note) {
        return true;
    }
    let len = note_len as usize;
    // Read at most max_field bytes: the rest would be cut anyway.
    let take = len.min(fl.max);
    // SAFETY: the hook's contract: `note` points to `note_len` readable bytes (not
    // NUL-terminated) for the duration of the call; we read at most that many.
    let bytes = unsafe { std::slice::from_raw_parts(note.cast::<u8>(), take) };
    if len > fl.max {
        fl.ev
            .push_parts(Field::Note, &[trim_partial_utf8(bytes), TRUNCATED_MARKER]);
        fl.truncated += 1;
    } else {
        fl.ev.push(Field::Note, bytes, fl.max);
    }
    true
}

/// Queues a filled event; `bad_input` says why part of the call was refused.
fn finish(h: &Handle, ev: Box<Event>, truncated: u64, bad_input: Option<&str>) {
    let stats = &h.logger.shared().stats;
    if truncated > 0 {
        stats.add(Counter::truncated, truncated);
    }
    if let Some(why) = bad_input {
        h.logger.input_error(why);
    }
    h.logger.submit(ev);
}

/// The handle behind `self` (NULL-safe; counts nothing).
pub(crate) fn handle<'a>(li: *mut logging_infrastructure) -> Option<&'a Handle> {
    super::handle_ref(li)
}

macro_rules! hook_guard {
    ($h:expr, $body:block) => {{
        if let Err(msg) = super::boundary::guard(|| $body) {
            $h.logger.internal_error(&msg);
        }
    }};
}

pub(crate) unsafe extern "C" fn log_reception(
    li: *mut logging_infrastructure,
    ac: *mut accept_construct,
    msg: *mut abstract_message,
    now: *mut libc::timeval,
    note: *const c_char,
    note_len: c_int,
) {
    let Some(h) = handle(li) else { return };
    hook_guard!(h, {
        if msg.is_null() {
            h.logger
                .input_error("log_reception: the message is NULL; nothing was logged");
            return;
        }
        let Some(mut ev) = h.logger.begin(Kind::Reception) else {
            return;
        };
        ev.time = time_of(now);
        let api = h.host_api();
        let mut fl = Filler {
            want: h.logger.fields_used(ev.kind),
            ev: &mut ev,
            max: h.logger.max_field(),
            truncated: 0,
        };
        fill_message(&mut fl, api, msg);
        fill_accept(&mut fl, api, ac);
        let ok = fill_note(&mut fl, note, note_len);
        let t = fl.truncated;
        finish(h, ev, t, (!ok).then_some(BAD_NOTE));
    })
}

fn mail_hook(
    li: *mut logging_infrastructure,
    kind: Kind,
    msg: *mut abstract_message,
    dr: *mut domain_record,
    now: *mut libc::timeval,
    note: *const c_char,
    note_len: c_int,
) {
    let Some(h) = handle(li) else { return };
    hook_guard!(h, {
        if msg.is_null() {
            h.logger.input_error(&format!(
                "a {} hook got a NULL message; nothing was logged",
                kind.name()
            ));
            return;
        }
        let Some(mut ev) = h.logger.begin(kind) else {
            return;
        };
        ev.time = time_of(now);
        let api = h.host_api();
        let mut fl = Filler {
            want: h.logger.fields_used(ev.kind),
            ev: &mut ev,
            max: h.logger.max_field(),
            truncated: 0,
        };
        fill_message(&mut fl, api, msg);
        fill_domain(&mut fl, api, dr);
        let ok = fill_note(&mut fl, note, note_len);
        let t = fl.truncated;
        finish(h, ev, t, (!ok).then_some(BAD_NOTE));
    })
}

pub(crate) unsafe extern "C" fn log_attempt(
    li: *mut logging_infrastructure,
    msg: *mut abstract_message,
    dr: *mut domain_record,
    now: *mut libc::timeval,
    note: *const c_char,
    note_len: c_int,
) {
    mail_hook(li, Kind::Attempt, msg, dr, now, note, note_len)
}

pub(crate) unsafe extern "C" fn log_transient_failure(
    li: *mut logging_infrastructure,
    msg: *mut abstract_message,
    dr: *mut domain_record,
    now: *mut libc::timeval,
    note: *const c_char,
    note_len: c_int,
) {
    mail_hook(li, Kind::TransientFailure, msg, dr, now, note, note_len)
}

pub(crate) unsafe extern "C" fn log_permanent_failure(
    li: *mut logging_infrastructure,
    msg: *mut abstract_message,
    dr: *mut domain_record,
    now: *mut libc::timeval,
    note: *const c_char,
    note_len: c_int,
) {
    mail_hook(li, Kind::PermanentFailure, msg, dr, now, note, note_len)
}

pub(crate) unsafe extern "C" fn log_delivery(
    li: *mut logging_infrastructure,
    msg: *mut abstract_message,
    dr: *mut domain_record,
    now: *mut libc::timeval,
    note: *const c_char,
    note_len: c_int,
) {
    mail_hook(li, Kind::Delivery, msg, dr, now, note, note_len)
}

pub(crate) unsafe extern "C" fn log_close(li: *mut logging_infrastructure) -> c_int {
    let Some(h) = handle(li) else {
        return -libc::EINVAL;
    };
    match super::boundary::guard(|| h.logger.close()) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => -e.errno(),
        Err(msg) => {
            h.logger.internal_error(&msg);
            -libc::ENOTRECOVERABLE
        }
    }
}

pub(crate) unsafe extern "C" fn log_reopen(li: *mut logging_infrastructure) -> c_int {
    let Some(h) = handle(li) else {
        return -libc::EINVAL;
    };
    match super::boundary::guard(|| h.logger.reopen()) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            if matches!(e, crate::logger::Error::NotRunning) {
                h.logger
                    .input_error("log_reopen: the logger is not running");
            }
            -e.errno()
        }
        Err(msg) => {
            h.logger.internal_error(&msg);
            -libc::ENOTRECOVERABLE
        }
    }
}

/// Flags from the shim.
const SHIM_TRUNCATED: c_int = 1;
const SHIM_NULL_FORMAT: c_int = 2;
const SHIM_FORMAT_FAILED: c_int = 4;

fn text_of<'a>(text: *const c_char, len: usize) -> &'a [u8] {
    if text.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the shim passes `len` readable bytes valid for the duration of the call.
    unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) }
}

/// Called by the shim with the formatted `log_error` text.
pub(crate) unsafe extern "C" fn error_sink(
    li: *mut logging_infrastructure,
    now: *mut libc::timeval,
    text: *const c_char,
    len: usize,
    shim_flags: c_int,
) {
    let Some(h) = handle(li) else { return };
    hook_guard!(h, {
        if shim_flags & SHIM_NULL_FORMAT != 0 {
            h.logger
                .input_error("log_error: the format is NULL; nothing was logged");
            return;
        }
        let Some(mut ev) = h.logger.begin(Kind::Error) else {
            return;
        };
        ev.time = time_of(now);
        let bytes = text_of(text, len);
        if shim_flags & SHIM_TRUNCATED != 0 {
            let (body, nl): (&[u8], &[u8]) = match bytes.strip_suffix(b"\n") {
                Some(b) => (b, b"\n"),
                None => (bytes, b""),
            };
            ev.push_parts(
                Field::Note,
                &[trim_partial_utf8(body), b" ", TRUNCATED_MARKER, nl],
            );
        } else {
            ev.push(Field::Note, bytes, usize::MAX);
        }
        let truncated = u64::from(shim_flags & SHIM_TRUNCATED != 0);
        let bad = (shim_flags & SHIM_FORMAT_FAILED != 0)
            .then_some("log_error: the format could not be expanded (vsnprintf failed)");
        finish(h, ev, truncated, bad);
    })
}

/// Called by the shim with the formatted `log_rejection` text.
pub(crate) unsafe extern "C" fn reject_sink(
    li: *mut logging_infrastructure,
    now: *mut libc::timeval,
    ac: *mut accept_construct,
    ctx: *mut validate_context,
    phase: c_int,
    text: *const c_char,
    len: usize,
    shim_flags: c_int,
) {
    let Some(h) = handle(li) else { return };
    hook_guard!(h, {
        let Some(mut ev) = h.logger.begin(Kind::Rejection) else {
            return;
        };
        ev.time = time_of(now);
        ev.phase = phase;
        let api = h.host_api();
        let max = h.logger.max_field();
        let ac = if ac.is_null() {
            validate_accept(api, ctx)
        } else {
            ac.cast_const()
        };
        let mut fl = Filler {
            want: h.logger.fields_used(ev.kind),
            ev: &mut ev,
            max,
            truncated: 0,
        };
        fill_accept(&mut fl, api, ac);
        fill_validate(&mut fl, api, ctx);
        let bytes = text_of(text, len);
        if bytes.len() > max || shim_flags & SHIM_TRUNCATED != 0 {
            fl.ev.push_parts(
                Field::Note,
                &[
                    trim_partial_utf8(&bytes[..bytes.len().min(max)]),
                    TRUNCATED_MARKER,
                ],
            );
            fl.truncated += 1;
        } else {
            fl.ev.push(Field::Note, bytes, max);
        }
        let t = fl.truncated;
        let bad = (shim_flags & (SHIM_NULL_FORMAT | SHIM_FORMAT_FAILED) != 0)
            .then_some("log_rejection: the format is NULL or could not be expanded");
        finish(h, ev, t, bad);
    })
}
