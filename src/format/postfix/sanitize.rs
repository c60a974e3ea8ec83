//! Sanitizing host-controlled text (the four contexts of the module doc).

use crate::event::{Event, Field};

/// Calls `f` for each character of `bytes`: `Some(c)` for a valid, printable character
/// (with its bytes), `None` for a control character or an invalid byte (to write as `?`).
pub(super) fn for_each_char(bytes: &[u8], mut f: impl FnMut(Option<char>, &[u8])) {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut i = 0;
        for c in valid.chars() {
            let n = c.len_utf8();
            let raw = &valid.as_bytes()[i..i + n];
            i += n;
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                f(None, raw);
            } else {
                f(Some(c), raw);
            }
        }
        for _ in chunk.invalid() {
            f(None, b"?");
        }
    }
}

/// Postfix's field names, which log readers match as `name=` at the start of a word (as
/// mailgraph's `\bstatus=sent\b`).
const FIELD_NAMES: [&[u8]; 18] = [
    b"status",
    b"relay",
    b"dsn",
    b"delay",
    b"delays",
    b"size",
    b"nrcpt",
    b"client",
    b"from",
    b"to",
    b"orig_to",
    b"helo",
    b"proto",
    b"message-id",
    b"conn_use",
    b"sasl_method",
    b"sasl_username",
    b"sasl_sender",
];

/// Does `written` end with a field name that starts a word, or with `status` (which an
/// operator's `grep status=sent` finds anywhere)?
fn ends_with_field_name(written: &[u8]) -> bool {
    FIELD_NAMES.iter().any(|name| {
        let Some(at) = written.len().checked_sub(name.len()) else {
            return false;
        };
        written[at..].eq_ignore_ascii_case(name)
            && (at == 0 || *name == b"status" || {
                let b = written[at - 1];
                !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            })
    })
}

/// Calls `f` as [`for_each_char`] does, for the characters of `bytes` that are not
/// printable ASCII for which `plain` holds; runs of those are copied to `buf` as they are
/// (what `f` does with them), in one go. The characters `f` sees are split off at ASCII
/// bytes only, which never belong to a multi-byte character or to an invalid sequence, so
/// the output is the same as `for_each_char` over the whole.
fn for_each_special(
    buf: &mut Vec<u8>,
    bytes: &[u8],
    plain: impl Fn(u8) -> bool,
    mut f: impl FnMut(&mut Vec<u8>, Option<char>, &[u8]),
) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let i = rest
            .iter()
            .position(|&b| !(b' '..=b'~').contains(&b) || !plain(b))
            .unwrap_or(rest.len());
        buf.extend_from_slice(&rest[..i]);
        rest = &rest[i..];
        let Some(&b) = rest.first() else { break };
        if b.is_ascii() {
            // What `for_each_char` makes of one ASCII byte.
            let c = (b' '..=b'~').contains(&b).then_some(b as char);
            f(buf, c, &rest[..1]);
            rest = &rest[1..];
            continue;
        }
        let j = rest.iter().position(u8::is_ascii).unwrap_or(rest.len());
        for_each_char(&rest[..j], |c, raw| f(buf, c, raw));
        rest = &rest[j..];
    }
}

/// One character of a bracketed value written from `start` on (context 3).
pub(super) fn bracketed_char(buf: &mut Vec<u8>, start: usize, c: Option<char>, raw: &[u8]) {
    match c {
        Some('<' | '>' | ' ') | None => buf.push(b'?'),
        Some('=') if ends_with_field_name(&buf[start..]) => buf.push(b'?'),
        Some(_) => buf.extend_from_slice(raw),
    }
}

/// Appends a bracketed value (context 3 of the module doc).
pub fn push_bracketed(buf: &mut Vec<u8>, bytes: &[u8]) {
    let start = buf.len();
    let plain = |b: u8| !matches!(b, b'<' | b'>' | b' ' | b'=');
    for_each_special(buf, bytes, plain, |buf, c, raw| {
        bracketed_char(buf, start, c, raw)
    });
}

/// Bytes allowed in a host token (bit 1) and in a user token (bit 2).
const TOKEN_OK: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':') {
            t[b] = 3;
        } else if matches!(c, b'@' | b'+' | b'%' | b'/') {
            t[b] = 2;
        }
        b += 1;
    }
    t
};

/// Appends a host token (context 2 of the module doc); `user` allows `@`, `+`, `%`, `/`.
pub fn push_token(buf: &mut Vec<u8>, bytes: &[u8], user: bool) {
    let mask = if user { 2 } else { 1 };
    let mut rest = bytes;
    while let Some(i) = rest.iter().position(|&b| TOKEN_OK[b as usize] & mask == 0) {
        buf.extend_from_slice(&rest[..i]);
        buf.push(b'?');
        rest = &rest[i + 1..];
    }
    buf.extend_from_slice(rest);
}

/// One character of free text written from `start` on (context 4).
pub(super) fn text_char(buf: &mut Vec<u8>, start: usize, c: Option<char>, raw: &[u8]) {
    match c {
        None => buf.push(b'?'),
        Some('=') => {
            let prev = if buf.len() > start {
                buf[buf.len() - 1]
            } else {
                b' '
            };
            let word = prev.is_ascii_alphanumeric() || prev == b'_' || prev == b'-';
            buf.push(if word { b'?' } else { b'=' });
        }
        Some(':') => {
            let written = &buf[start..];
            let action = [&b"reject"[..], b"reject_warning", b"hold", b"discard"]
                .iter()
                .any(|w| written.ends_with(w));
            buf.push(if action { b'?' } else { b':' });
        }
        Some(' ') => {
            let written = &buf[start..];
            let forward = written.len() >= 12
                && written[written.len() - 12..].eq_ignore_ascii_case(b"forwarded as");
            buf.push(if forward { b'?' } else { b' ' });
        }
        Some(_) => buf.extend_from_slice(raw),
    }
}

/// Appends free text (context 4 of the module doc).
pub fn push_text(buf: &mut Vec<u8>, bytes: &[u8]) {
    let start = buf.len();
    let plain = |b: u8| !matches!(b, b'=' | b':' | b' ');
    for_each_special(buf, bytes, plain, |buf, c, raw| {
        text_char(buf, start, c, raw)
    });
}

/// Appends `NAME[IP]` for a relay (`unknown` for a missing part).
pub(super) fn push_host(buf: &mut Vec<u8>, name: &[u8], ip: &[u8]) {
    let name = if name.is_empty() { ip } else { name };
    push_token(buf, if name.is_empty() { b"unknown" } else { name }, false);
    buf.push(b'[');
    push_token(buf, if ip.is_empty() { b"unknown" } else { ip }, false);
    buf.push(b']');
}

/// Appends the client `NAME[IP]` of an event.
pub(super) fn push_client(buf: &mut Vec<u8>, ev: &Event) {
    let name = ev.get(Field::PeerName);
    push_token(buf, if name.is_empty() { b"unknown" } else { name }, false);
    buf.push(b'[');
    let ip = ev.get(Field::PeerIp);
    push_token(buf, if ip.is_empty() { b"unknown" } else { ip }, false);
    buf.push(b']');
}
