//! What the allocation check and the cost probes share: a host's message and domain, as
//! mtalog's reference structs, with the strings of the benchmark's D line.

use std::ffi::CString;

use mtalog::ffi::{
    abstract_message, domain_record, logging_infrastructure, mtalog_domain, mtalog_message,
};

/// CPU time of the calling thread in nanoseconds (not the time it waited for a core).
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A C string (the texts here have no NUL).
pub fn cs(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

/// The host's objects; the strings live as long as the structs that point to them.
pub struct Host {
    /// Owns the texts `msg` and `dom` point to.
    pub strings: Vec<CString>,
    /// The message.
    pub msg: mtalog_message,
    /// The destination.
    pub dom: mtalog_domain,
}

/// The message and destination of the benchmark's D line, with the texts a real host
/// also has (sender, recipient, Message-ID, MX host, SMTP command).
pub fn host() -> Box<Host> {
    let strings: Vec<CString> = [
        "60/00-31337-EF0F3556",
        "1A/20-31337-821F3556",
        "newsletter@sender.example",
        "user0001@dest-example-provider.example",
        "outbound-pool-east",
        "vip-outbound-east-17",
        "mail-in.dest-example-provider.example",
        "198.51.100.250",
        "<20261123.4821@sender.example>",
        "mx1.dest-example-provider.example",
        "DATA",
    ]
    .iter()
    .map(|s| cs(s))
    .collect();
    let p = |i: usize| strings[i].as_ptr();
    // SAFETY: all-zero is valid for these plain C structs (NULL pointers, zero numbers).
    let mut msg: mtalog_message = unsafe { std::mem::zeroed() };
    msg.id = p(0);
    msg.batch_id = p(0);
    msg.conn_id = p(1);
    msg.mail_from = p(2);
    msg.rcpt_to = p(3);
    msg.message_id_header = p(8);
    msg.binding_group = p(4);
    msg.binding = p(5);
    msg.size = 48213;
    msg.retries = 2;
    msg.received.tv_sec = 1_795_432_137 - 144;
    // SAFETY: as above.
    let mut dom: mtalog_domain = unsafe { std::mem::zeroed() };
    dom.name = p(6);
    dom.mx_ip = p(7);
    dom.mx_host = p(9);
    dom.smtp_command = p(10);
    Box::new(Host { strings, msg, dom })
}

/// The note of a delivery.
pub const NOTE: &[u8] = b"250 2.0.0 OK 1795432137 queued as 4821";

/// The configuration of an ec_logger writing into `dir`, plus `extra` lines.
pub fn ec_config(dir: &str, extra: &str) -> CString {
    cs(&format!(
        "mainlog = \"{dir}/main.log\"\nrejectlog = \"{dir}/reject.log\"\npaniclog = \"{dir}/panic.log\"\nheartbeat = 0\nfsync = none\n{extra}"
    ))
}

/// The configuration of a json_logger writing into `dir` (the files of [`ec_config`]),
/// plus `extra` lines.
pub fn json_config(dir: &str, extra: &str) -> CString {
    cs(&format!(
        "mainlog = \"{dir}/main.log\"\npaniclog = \"{dir}/panic.log\"\nfsync = none\n{extra}"
    ))
}

/// The configuration of a logger of `kind` (`ec_logger` or `json_logger`) writing into
/// `dir`, plus `extra` lines.
pub fn config(kind: &str, dir: &str, extra: &str) -> CString {
    match kind {
        "json_logger" => json_config(dir, extra),
        _ => ec_config(dir, extra),
    }
}

/// Removes the files of [`ec_config`] and [`json_config`].
pub fn clean(dir: &str) {
    for f in ["main.log", "reject.log", "panic.log"] {
        let _ = std::fs::remove_file(format!("{dir}/{f}"));
    }
}

/// Call `i` of a run: `log_delivery` of `h`'s message through the vtable of `li`, with a
/// timestamp that moves on every 4096 calls.
///
/// # Safety
/// `li` is an initialised logger; `h` outlives the call.
pub unsafe fn deliver(li: *mut logging_infrastructure, h: &mut Host, i: u64) {
    let mut tv = libc::timeval {
        tv_sec: 1_795_432_137 + (i >> 12) as libc::time_t,
        tv_usec: (i * 977 % 1_000_000) as libc::suseconds_t,
    };
    // SAFETY: the caller's contract; the structs are mtalog's reference structs.
    unsafe {
        ((*li).log_delivery.expect("vtable"))(
            li,
            (&mut h.msg as *mut mtalog_message).cast::<abstract_message>(),
            (&mut h.dom as *mut mtalog_domain).cast::<domain_record>(),
            &mut tv,
            NOTE.as_ptr().cast(),
            NOTE.len() as i32,
        )
    }
}
