//! pflogsumm's text rules, one function each: how it names a client's domain, shortens a
//! reason, groups a rejection and orders rows. They follow pflogsumm 1.1.5's regular
//! expressions (Perl's leftmost, greedy or lazy matching) without a regex engine; each
//! function names the expression it stands for.

/// Is `b` a Perl word character (`\w` on bytes)?
fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn digits3(s: &[u8]) -> bool {
    s.len() >= 3 && s[..3].iter().all(u8::is_ascii_digit)
}

/// Position of the first `needle` in `hay` at or after `from`.
pub fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    mtalog::format::read::find(&hay[from..], needle).map(|p| p + from)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    mtalog::format::read::find(hay, needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    mtalog::format::read::rfind(hay, needle)
}

/// `s/^.*KEY//`: what follows the last `key` (all of `s` when there is none).
pub fn rfind_after<'a>(s: &'a [u8], key: &[u8]) -> &'a [u8] {
    rfind(s, key).map_or(s, |p| &s[p + key.len()..])
}

/// `gimme_domain`: the domain of a client `name[addr]` (`mach.host.dom` becomes
/// `host.dom`, lower-cased), or its address when the name is `unknown` or missing.
pub fn gimme_domain(s: &[u8]) -> Vec<u8> {
    let (domain, ip): (&[u8], &[u8]) = split_client(s).unwrap_or((b"", b""));
    if domain.is_empty() || domain == b"unknown" {
        return ip.to_vec();
    }
    short_domain(domain).unwrap_or_else(|| domain.to_vec())
}

/// The three expressions of `gimme_domain` that split `name[1.2.3.4]`, `name/addr` and
/// `name(addr)`.
fn split_client(s: &[u8]) -> Option<(&[u8], &[u8])> {
    // ^([^\[]*)\[((?:\d{1,3}\.){3}\d{1,3})\]
    if let Some(o) = s.iter().position(|&b| b == b'[') {
        let r = &s[o + 1..];
        if let Some(c) = r.iter().position(|&b| b == b']') {
            let ip = &r[..c];
            let parts: Vec<&[u8]> = ip.split(|&b| b == b'.').collect();
            if parts.len() == 4
                && parts
                    .iter()
                    .all(|p| (1..=3).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
            {
                return Some((&s[..o], ip));
            }
        }
    }
    // ^([^\/]*)\/([0-9a-f.:]+)  (case-insensitive)
    if let Some(o) = s.iter().position(|&b| b == b'/') {
        let r = &s[o + 1..];
        let n = r
            .iter()
            .take_while(|b| b.is_ascii_hexdigit() || **b == b'.' || **b == b':')
            .count();
        if n > 0 {
            return Some((&s[..o], &r[..n]));
        }
    }
    // ^([^\[\(\/]*)[\[\(\/]([^\]\)]+)[\]\)]:?\d*$
    let o = s.iter().position(|&b| matches!(b, b'[' | b'(' | b'/'))?;
    let r = &s[o + 1..];
    let c = r.iter().position(|&b| b == b']' || b == b')')?;
    if c == 0 {
        return None;
    }
    let mut t = &r[c + 1..];
    if t.first() == Some(&b':') {
        t = &t[1..];
    }
    t.iter()
        .all(u8::is_ascii_digit)
        .then_some((&s[..o], &r[..c]))
}

/// `s/^(.*)\.([^\.]+)\.([^\.]{3}|[^\.]{2,3}\.[^\.]{2})$/\L$2.$3/`: the last two labels
/// when the top one has three letters, the last three for `xx.yy`/`xxx.yy`; `None` when
/// the name has neither shape.
fn short_domain(d: &[u8]) -> Option<Vec<u8>> {
    let labels: Vec<&[u8]> = d.split(|&b| b == b'.').collect();
    let keep = kept_labels(&labels)?;
    Some(
        labels[labels.len() - keep..]
            .join(&b'.')
            .to_ascii_lowercase(),
    )
}

/// How many of a domain's last labels pflogsumm keeps (`[^\.]+\.[^\.]{3}`: 2;
/// `[^\.]+\.[^\.]{2,3}\.[^\.]{2}`: 3), with at least one label before them; `None`
/// when the name has neither shape.
pub fn kept_labels(labels: &[&[u8]]) -> Option<usize> {
    let n = labels.len();
    if n >= 3 && labels[n - 1].len() == 3 && !labels[n - 2].is_empty() {
        Some(2)
    } else if n >= 4
        && labels[n - 1].len() == 2
        && (2..=3).contains(&labels[n - 2].len())
        && !labels[n - 3].is_empty()
    {
        Some(3)
    } else {
        None
    }
}

/// `normalize_host`: the sort key of a row (an IPv4 address as its four numbers, a name
/// or address as its labels in reverse order, lower-cased), as code points.
pub fn normalize_host(s: &[u8]) -> Vec<u32> {
    let first = s.split(|b| b.is_ascii_whitespace()).next().unwrap_or(b"");
    let parts: Vec<&[u8]> = first.split(|&b| b == b'.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
    {
        return parts
            .iter()
            .map(|p| p.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
            .collect();
    }
    let labels: Vec<&[u8]> = first.split(|&b| b == b'.' || b == b'@').collect();
    labels
        .iter()
        .rev()
        .flat_map(|l| l.iter().map(|b| u32::from(b.to_ascii_lowercase())))
        .collect()
}

/// `string_trimmer`: `s` cut to `max` bytes, the last three being `...`.
pub fn string_trimmer(s: &[u8], max: usize, verbose: bool) -> Vec<u8> {
    if verbose || s.len() <= max {
        return s.to_vec();
    }
    let mut v = s[..max - 3].to_vec();
    v.extend_from_slice(b"...");
    v
}

/// `said_string_trimmer`: while longer than `max`, drop everything up to the last
/// ` said: `, else up to the first `:` (and the spaces after it), else cut with `...`.
pub fn said_string_trimmer(s: &[u8], max: usize) -> Vec<u8> {
    let mut t = s;
    while t.len() > max {
        if let Some(p) = rfind(t, b" said: ") {
            t = &t[p + 7..];
        } else if let Some(p) = t.iter().position(|&b| b == b':') {
            let mut q = p + 1;
            while t.get(q) == Some(&b' ') {
                q += 1;
            }
            t = &t[q..];
        } else {
            let mut v = t[..max - 3].to_vec();
            v.extend_from_slice(b"...");
            return v;
        }
    }
    t.to_vec()
}

/// `s/^\d{3} //`
pub fn drop_reply_code(s: &[u8]) -> &[u8] {
    if digits3(s) && s.get(3) == Some(&b' ') {
        &s[4..]
    } else {
        s
    }
}

/// cleanup's `s/( from \S+?)?; from=<.*$//`: a header/body check's text without the
/// client and the envelope.
pub fn cut_cleanup_envelope(s: &[u8]) -> &[u8] {
    for p in 0..s.len() {
        if s[p..].starts_with(b" from ") {
            let st = p + 6;
            let mut k = st + 1;
            while k <= s.len() && s[k - 1] != b' ' && !s[k - 1].is_ascii_whitespace() {
                if s[k..].starts_with(b"; from=<") {
                    return &s[..p];
                }
                k += 1;
            }
        }
        if s[p..].starts_with(b"; from=<") {
            return &s[..p];
        }
    }
    s
}

/// cleanup's `.*?\b((?:milter-)?reject|warning|hold|discard): (header|body|END-OF-MESSAGE)
/// (.*)$` on the text after `cleanup[PID]: `: the action, the check and the rest.
pub fn cleanup_action(s: &[u8]) -> Option<(&'static str, &[u8], &[u8])> {
    const ACTIONS: [&str; 5] = ["milter-reject", "reject", "warning", "hold", "discard"];
    const WHERE: [&[u8]; 3] = [b"header", b"body", b"END-OF-MESSAGE"];
    for i in 0..s.len() {
        if i > 0 && word(s[i - 1]) {
            continue;
        }
        for a in ACTIONS {
            let Some(r) = s[i..].strip_prefix(a.as_bytes()) else {
                continue;
            };
            let Some(r) = r.strip_prefix(b": ") else {
                continue;
            };
            for w in WHERE {
                if let Some(rest) = r.strip_prefix(w)
                    && rest.first() == Some(&b' ')
                {
                    return Some((a, w, &rest[1..]));
                }
            }
        }
    }
    None
}

/// The kinds of `proc_smtpd_reject`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    /// `reject:` (and cleanup's `milter-reject:`).
    Reject,
    /// `reject_warning:` (and cleanup's `warning:`).
    Warn,
    /// `hold:`
    Hold,
    /// `discard:`
    Discard,
}

/// One row of a reject, warning, hold or discard detail: stage, reason and the key
/// (client, address) counted under it.
pub struct RejectRow {
    /// `RCPT`, `MAIL`, ... (the word after `reject:`).
    pub stage: Vec<u8>,
    /// The reason as pflogsumm shortens it.
    pub reason: Vec<u8>,
    /// What is counted: the client's domain, the recipient or the sender.
    pub key: Vec<u8>,
}

/// What `proc_smtpd_reject` keeps of a reject line (`log` is the text after the host).
pub fn reject_row(log: &[u8], verbose: bool, add_from: bool, ignore_case: bool) -> RejectRow {
    let (typ, from_client, rmdr) = split_reject(log).unwrap_or((b"", b"", b""));
    let reason: Vec<u8> = if verbose {
        rmdr.to_vec()
    } else if matches!(typ, b"RCPT" | b"DATA" | b"CONNECT") {
        reason_rcpt(rmdr)
    } else if typ == b"MAIL" {
        reason_mail(rmdr)
    } else {
        reason_other(rmdr)
    };
    let mut to = tag_value(rmdr, b"to=<")
        .or_else(|| {
            // \d{3} <([^>]+)>: User unknown
            let mut from = 0;
            while let Some(p) = find_from(rmdr, b" <", from) {
                from = p + 1;
                if p >= 3 && digits3(&rmdr[p - 3..]) {
                    let r = &rmdr[p + 2..];
                    if let Some(e) = r.iter().position(|&b| b == b'>')
                        && e > 0
                        && r[e..].starts_with(b">: User unknown ")
                    {
                        return Some(r[..e].to_vec());
                    }
                }
            }
            None
        })
        .or_else(|| {
            // to=<(.*?)(?:[, ]|$)
            let p = find(rmdr, b"to=<")?;
            let r = &rmdr[p + 4..];
            let e = r
                .iter()
                .position(|&b| b == b',' || b == b' ')
                .unwrap_or(r.len());
            Some(r[..e].to_vec())
        })
        .unwrap_or_else(|| b"<>".to_vec());
    if ignore_case {
        to.make_ascii_lowercase();
    }
    let mut from = tag_value(rmdr, b"from=<").unwrap_or_else(|| b"<>".to_vec());
    if ignore_case {
        from.make_ascii_lowercase();
    }
    let with_from = |mut k: Vec<u8>| {
        if add_from {
            k.extend_from_slice(b"  (");
            k.extend_from_slice(&from);
            k.push(b')');
        }
        k
    };
    let (reason, key) = if reason.starts_with(b"Sender address rejected:") {
        (reason, from.clone())
    } else if reason.starts_with(b"Recipient address rejected:")
        || (reason.starts_with(b"User unknown") && matches!(reason.get(12), None | Some(b' ')))
    {
        let mut k = to;
        if add_from {
            k.extend_from_slice(b"  (");
            k.extend_from_slice(&from);
            k.push(b')');
        }
        (reason, k)
    } else if let Some(r) = coded_phrase(&reason, b"Improper use of SMTP command pipelining") {
        (r, pipelining_source(log))
    } else if let Some(r) = coded_phrase(&reason, b"Message size exceeds fixed limit") {
        (r, with_from(gimme_domain(from_client)))
    } else if let Some(r) = coded_phrase(&reason, b"Server configuration error")
        .or_else(|| coded_phrase(&reason, b"Server configuration problem"))
    {
        let mut l = b"(Local) ".to_vec();
        l.extend_from_slice(&r);
        (l, with_from(gimme_domain(from_client)))
    } else {
        (reason, with_from(gimme_domain(from_client)))
    };
    RejectRow {
        stage: typ.to_vec(),
        reason,
        key,
    }
}

/// `^.* \b(?:reject(?:_warning)?|hold|discard): (\S+) from (\S+?): (.*)$`: the stage, the
/// client and the rest, from the last action word that fits.
fn split_reject(s: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    const WORDS: [&[u8]; 4] = [b"reject: ", b"reject_warning: ", b"hold: ", b"discard: "];
    for p in (0..s.len()).rev() {
        if s[p] != b' ' {
            continue;
        }
        let after = &s[p + 1..];
        for w in WORDS {
            let Some(r) = after.strip_prefix(w) else {
                continue;
            };
            let typ_len = r.iter().take_while(|b| !b.is_ascii_whitespace()).count();
            if typ_len == 0 {
                continue;
            }
            let Some(r2) = r[typ_len..].strip_prefix(b" from ") else {
                continue;
            };
            let mut k = 1;
            while k < r2.len() && !r2[k - 1].is_ascii_whitespace() {
                if r2[k..].starts_with(b": ") {
                    return Some((&r[..typ_len], &r2[..k], &r2[k + 2..]));
                }
                k += 1;
            }
        }
    }
    None
}

/// `<([^>]+)>` after the first `key` that has one (`key` ends with `<`).
fn tag_value(s: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let mut from = 0;
    while let Some(p) = find_from(s, key, from) {
        from = p + 1;
        let r = &s[p + key.len()..];
        if let Some(e) = r.iter().position(|&b| b == b'>')
            && e > 0
        {
            return Some(r[..e].to_vec());
        }
    }
    None
}

/// `s/^.*?\d{3} (PHRASE);.*$/$1/`: `PHRASE` when it follows a reply code and precedes a
/// `;`.
fn coded_phrase(s: &[u8], phrase: &[u8]) -> Option<Vec<u8>> {
    let mut from = 0;
    while let Some(p) = find_from(s, phrase, from) {
        from = p + 1;
        if p >= 4
            && s[p - 1] == b' '
            && digits3(&s[p - 4..])
            && s.get(p + phrase.len()) == Some(&b';')
        {
            return Some(phrase.to_vec());
        }
    }
    None
}

/// `^.+? from (\S+?):.*$` on the whole line: the client of a pipelining reject.
fn pipelining_source(log: &[u8]) -> Vec<u8> {
    let mut from = 1;
    while let Some(p) = find_from(log, b" from ", from) {
        from = p + 1;
        let r = &log[p + 6..];
        let mut k = 1;
        while k < r.len() && !r[k - 1].is_ascii_whitespace() {
            if r[k] == b':' {
                return r[..k].to_vec();
            }
            k += 1;
        }
    }
    Vec::new()
}

/// The reason of a RCPT, DATA or CONNECT reject (five substitutions in turn).
fn reason_rcpt(s: &[u8]) -> Vec<u8> {
    let mut r = s.to_vec();
    // s/^(\d{3} <).*?(>:)/$1$2/
    if digits3(&r) && r[3..].starts_with(b" <") {
        if let Some(e) = find_from(&r, b">:", 5) {
            r.drain(5..e);
        }
    }
    // s/^(?:\d{3} \d\.\d\.\d )(Protocol error);.*$/$1/
    if r.len() >= 10
        && digits3(&r)
        && r[3] == b' '
        && r[4].is_ascii_digit()
        && r[5] == b'.'
        && r[6].is_ascii_digit()
        && r[7] == b'.'
        && r[8].is_ascii_digit()
        && r[9] == b' '
        && r[10..].starts_with(b"Protocol error;")
    {
        r = b"Protocol error".to_vec();
    }
    // s/^(?:.*?[:;] )(?:\[[^\]]+\] )?([^;,]+)[;,].*$/$1/
    'sep: for p in 0..r.len().saturating_sub(1) {
        if !matches!(r[p], b':' | b';') || r[p + 1] != b' ' {
            continue;
        }
        let rest = &r[p + 2..];
        let mut tries: Vec<&[u8]> = Vec::with_capacity(2);
        if rest.first() == Some(&b'[')
            && let Some(c) = rest.iter().position(|&b| b == b']')
            && c > 1
            && rest.get(c + 1) == Some(&b' ')
        {
            tries.push(&rest[c + 2..]);
        }
        tries.push(rest);
        for t in tries {
            if let Some(e) = t.iter().position(|&b| b == b';' || b == b',')
                && e > 0
            {
                r = t[..e].to_vec();
                break 'sep;
            }
        }
    }
    // s/^((?:Sender|Recipient) address rejected: [^:]+):.*$/$1/
    for pre in [
        &b"Sender address rejected: "[..],
        b"Recipient address rejected: ",
    ] {
        if r.starts_with(pre)
            && let Some(c) = r[pre.len()..].iter().position(|&b| b == b':')
            && c > 0
        {
            r.truncate(pre.len() + c);
        }
    }
    // s/(client|Client host|Sender address) .+? blocked/blocked/
    'blocked: for i in 0..r.len() {
        for w in [&b"client "[..], b"Client host ", b"Sender address "] {
            if r[i..].starts_with(w) {
                let st = i + w.len();
                if let Some(b) = find_from(&r, b" blocked", st + 1) {
                    let mut v = r[..i].to_vec();
                    v.extend_from_slice(b"blocked");
                    v.extend_from_slice(&r[b + 8..]);
                    r = v;
                    break 'blocked;
                }
            }
        }
    }
    r
}

/// `s/^\d{3} (?:<.+>: )?([^;:]+)[;:]?.*$/$1/`: the reason of a MAIL reject.
fn reason_mail(s: &[u8]) -> Vec<u8> {
    if !(digits3(s) && s.get(3) == Some(&b' ')) {
        return s.to_vec();
    }
    let r = &s[4..];
    let capture = |t: &[u8]| -> Option<Vec<u8>> {
        let e = t
            .iter()
            .position(|&b| b == b';' || b == b':')
            .unwrap_or(t.len());
        (e > 0).then(|| t[..e].to_vec())
    };
    if r.first() == Some(&b'<') {
        let mut ends: Vec<usize> = Vec::new();
        let mut from = 2;
        while let Some(p) = find_from(r, b">: ", from) {
            ends.push(p);
            from = p + 1;
        }
        for &p in ends.iter().rev() {
            if let Some(c) = capture(&r[p + 3..]) {
                return c;
            }
        }
    }
    capture(r).unwrap_or_else(|| s.to_vec())
}

/// `s/^(?:.*[:;] )?([^,]+).*$/$1/`: the reason of a reject at other stages.
fn reason_other(s: &[u8]) -> Vec<u8> {
    let upto_comma = |t: &[u8]| -> Option<Vec<u8>> {
        let e = t.iter().position(|&b| b == b',').unwrap_or(t.len());
        (e > 0).then(|| t[..e].to_vec())
    };
    for p in (0..s.len().saturating_sub(1)).rev() {
        if matches!(s[p], b':' | b';')
            && s[p + 1] == b' '
            && let Some(c) = upto_comma(&s[p + 2..])
        {
            return c;
        }
    }
    upto_comma(s).unwrap_or_else(|| s.to_vec())
}

/// A delivery line's fields (`to=<...>, [orig_to=<...>, ]relay=..., [conn_use=...,
/// ]delay=..., [delays=..., ][dsn=..., ]status=WORD REST`).
pub struct Delivery<'a> {
    /// The recipient.
    pub to: &'a [u8],
    /// The relay (`host[addr]:port`, `local`, `none`).
    pub relay: &'a [u8],
    /// The delay as written.
    pub delay: &'a [u8],
    /// `sent`, `deferred`, `bounced`, ...
    pub status: &'a [u8],
    /// After the status word.
    pub rest: &'a [u8],
}

/// pflogsumm's delivery expression, at the first `to=<` where it fits.
pub fn delivery(s: &[u8]) -> Option<Delivery<'_>> {
    let mut from = 0;
    while let Some(p) = find_from(s, b"to=<", from) {
        from = p + 1;
        if let Some(d) = delivery_at(&s[p + 4..]) {
            return Some(d);
        }
    }
    None
}

fn delivery_at(s: &[u8]) -> Option<Delivery<'_>> {
    let e = s.iter().position(|&b| b == b'>')?;
    let to = &s[..e];
    let mut r = s[e + 1..].strip_prefix(b", ")?;
    if let Some(o) = r.strip_prefix(b"orig_to=<")
        && let Some(c) = o.iter().position(|&b| b == b'>')
        && let Some(after) = o[c + 1..].strip_prefix(b", ")
        && after.starts_with(b"relay=")
    {
        r = after;
    }
    let r = r.strip_prefix(b"relay=")?;
    let (relay, mut r) = field(r)?;
    if let Some(c) = r.strip_prefix(b"conn_use=")
        && let Some((_, after)) = field(c)
        && after.starts_with(b"delay=")
    {
        r = after;
    }
    let r = r.strip_prefix(b"delay=")?;
    let (delay, mut r) = field(r)?;
    for opt in [&b"delays="[..], b"dsn="] {
        if let Some(c) = r.strip_prefix(opt)
            && let Some((_, after)) = field(c)
        {
            r = after;
        }
    }
    let r = r.strip_prefix(b"status=")?;
    let n = r.iter().take_while(|b| !b.is_ascii_whitespace()).count();
    if n == 0 {
        return None;
    }
    Some(Delivery {
        to,
        relay,
        delay,
        status: &r[..n],
        rest: &r[n..],
    })
}

/// `([^,]+), `: a non-empty value up to the first comma, which a space follows.
fn field(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let c = s.iter().position(|&b| b == b',')?;
    if c == 0 {
        return None;
    }
    Some((&s[..c], s[c + 1..].strip_prefix(b" ")?))
}

/// `from=<([^>]*)>, size=(\d+)`: the sender and size of a qmgr line.
pub fn from_size(s: &[u8]) -> Option<(&[u8], u64)> {
    let mut from = 0;
    while let Some(p) = find_from(s, b"from=<", from) {
        from = p + 1;
        let r = &s[p + 6..];
        let Some(e) = r.iter().position(|&b| b == b'>') else {
            continue;
        };
        let Some(sz) = r[e + 1..].strip_prefix(b", size=") else {
            continue;
        };
        let n = sz.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            continue;
        }
        let size = sz[..n].iter().fold(0u64, |a, d| {
            a.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        return Some((&r[..e], size));
    }
    None
}

/// The address as pflogsumm keys it: the domain part lower-cased (`s/(@.+)/\L$1/`), or
/// all of it with `-i`.
pub fn addr_key(a: &[u8], ignore_case: bool) -> Vec<u8> {
    let mut v = a.to_vec();
    if ignore_case {
        v.make_ascii_lowercase();
    } else if let Some(p) = v.iter().position(|&b| b == b'@')
        && p + 1 < v.len()
    {
        v[p..].make_ascii_lowercase();
    }
    v
}

/// `s/^[^@]+\@(.+)$/$1/`: the domain of an address, when it has a user part and a domain.
pub fn addr_domain(a: &[u8]) -> Option<&[u8]> {
    let p = a.iter().position(|&b| b == b'@')?;
    (p > 0 && p + 1 < a.len()).then(|| &a[p + 1..])
}

/// The smtp client's connection failures in the forms pflogsumm knows (Postfix before
/// 2.x): `connect to HOST: REASON; address ADDR port N` and `connect to HOST[ADDR]: REASON
/// (port N)`; `(reason, host)`.
pub fn old_connect_failure(s: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    // .* connect to (\S+?): ([^;]+); address \S+ port.*$
    if let Some(p) = rfind(s, b" connect to ") {
        let r = &s[p + 12..];
        let mut k = 1;
        while k < r.len() && !r[k - 1].is_ascii_whitespace() {
            if r[k..].starts_with(b": ") {
                let why = &r[k + 2..];
                if let Some(sc) = why.iter().position(|&b| b == b';')
                    && sc > 0
                    && why[sc..].starts_with(b"; address ")
                {
                    let a = &why[sc + 10..];
                    let n = a.iter().take_while(|b| !b.is_ascii_whitespace()).count();
                    if n > 0 && a[n..].starts_with(b" port") {
                        return Some((why[..sc].to_ascii_lowercase(), &r[..k]));
                    }
                }
                break;
            }
            k += 1;
        }
        // .* connect to ([^[]+)\[\S+?\]: (.+?) \(port \d+\)$
        if let Some(o) = r.iter().position(|&b| b == b'[')
            && o > 0
            && let Some(c) = find(&r[o..], b"]: ")
            && !r[o..o + c].iter().any(u8::is_ascii_whitespace)
            && c > 1
        {
            let why = &r[o + c + 3..];
            if let Some(q) = rfind(why, b" (port ")
                && q > 0
                && why.ends_with(b")")
                && why[q + 7..why.len() - 1].iter().all(u8::is_ascii_digit)
                && why.len() > q + 8
            {
                return Some((why[..q].to_ascii_lowercase(), &r[..o]));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: Vec<u8>) -> String {
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn domains_of_clients() {
        assert_eq!(
            s(gimme_domain(b"mx.friend.example[127.0.1.10]")),
            "mx.friend.example"
        );
        assert_eq!(s(gimme_domain(b"unknown[127.0.1.12]")), "127.0.1.12");
        assert_eq!(
            s(gimme_domain(b"a.B.Example.COM[192.0.2.1]")),
            "example.com"
        );
        assert_eq!(
            s(gimme_domain(b"mail.example.co.uk[192.0.2.1]")),
            "example.co.uk"
        );
        assert_eq!(s(gimme_domain(b"unknown[2001:db8::1]")), "2001:db8::1");
        assert_eq!(
            s(gimme_domain(
                b"ws1.example.test[127.0.0.2] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"
            )),
            "ws1.example.test"
        );
    }

    #[test]
    fn trimmers() {
        let r = said_string_trimmer(
            b"host tempfail.example[127.0.2.6] said: 452 4.2.2 Mailbox full, try again later (in reply to RCPT TO command",
            65,
        );
        assert_eq!(
            s(drop_reply_code(&r).to_vec()),
            "4.2.2 Mailbox full, try again later (in reply to RCPT TO c..."
        );
        let r = said_string_trimmer(
            b"host slow.example[127.0.2.2] said: 450 4.2.0 Recipient address rejected: Greylisted, please try again later (in reply to RCPT TO command",
            65,
        );
        assert_eq!(
            s(r),
            "Greylisted, please try again later (in reply to RCPT TO command"
        );
        assert_eq!(s(string_trimmer(b"abcdef", 5, false)), "ab...");
        assert_eq!(s(string_trimmer(b"abcdef", 5, true)), "abcdef");
    }

    #[test]
    fn reject_rows_group_as_pflogsumm_does() {
        let row = |l: &str| {
            let r = reject_row(l.as_bytes(), false, false, false);
            (s(r.stage), s(r.reason), s(r.key))
        };
        assert_eq!(
            row(
                "postfix/smtpd[1]: NOQUEUE: reject: RCPT from mx.friend.example[127.0.1.10]: 554 5.7.1 <x@y.example>: Relay access denied; from=<a@b.example> to=<x@y.example> proto=ESMTP helo=<h>"
            ),
            (
                "RCPT".into(),
                "Relay access denied".into(),
                "mx.friend.example".into()
            )
        );
        assert_eq!(
            row(
                "postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[127.0.1.10]: 550 5.1.1 <nosuchuser@example.test>: Recipient address rejected: User unknown in local recipient table; from=<a@b.example> to=<nosuchuser@example.test> proto=ESMTP helo=<h>"
            ),
            (
                "RCPT".into(),
                "Recipient address rejected: User unknown in local recipient table".into(),
                "nosuchuser@example.test".into()
            )
        );
        assert_eq!(
            row(
                "postfix/smtpd[1]: NOQUEUE: reject: MAIL from unknown[127.0.1.12]: 554 5.7.1 <spammer@junk.example>: Sender address rejected: Access denied; from=<spammer@junk.example> proto=ESMTP helo=<x>"
            ),
            (
                "MAIL".into(),
                "5.7.1 <spammer@junk.example>".into(),
                "127.0.1.12".into()
            )
        );
        assert_eq!(
            row(
                "postfix/smtpd[1]: NOQUEUE: reject: EHLO from unknown[127.0.1.12]: 501 5.5.2 <bad_helo!>: Helo command rejected: Invalid name; proto=SMTP helo=<bad_helo!>"
            ),
            (
                "EHLO".into(),
                "proto=SMTP helo=<bad_helo!>".into(),
                "127.0.1.12".into()
            )
        );
        assert_eq!(
            row(
                "postfix/smtpd[1]: NOQUEUE: reject: CONNECT from spam.bad.example[127.0.1.11]: 554 5.7.1 <spam.bad.example[127.0.1.11]>: Client host rejected: Your host is on our local blocklist; proto=SMTP"
            ),
            (
                "CONNECT".into(),
                "Client host rejected: Your host is on our local blocklist".into(),
                "spam.bad.example".into()
            )
        );
        let r = reject_row(b"postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[127.0.1.10]: 550 5.1.1 <u@example.test>: Recipient address rejected: User unknown; from=<a@b.example> to=<u@example.test> proto=ESMTP helo=<h>", false, true, false);
        assert_eq!(s(r.key), "u@example.test  (a@b.example)");
    }

    #[test]
    fn cleanup_checks() {
        let (a, w, r) = cleanup_action(b"E152E9942FA: reject: header Subject: cheap replica watches from mx.friend.example[127.0.1.10]; from=<p@f.example> to=<a@e.test> proto=ESMTP helo=<mx>: 5.7.1 no").unwrap();
        assert_eq!((a, w), ("reject", &b"header"[..]));
        assert_eq!(cut_cleanup_envelope(r), b"Subject: cheap replica watches");
        let (a, w, r) = cleanup_action(b"0DED2994466: milter-reject: END-OF-MESSAGE from mx.friend.example[127.0.1.10]: 5.7.1 Message rejected by milter: phishing; from=<s@l.example> to=<b@e.test> proto=ESMTP helo=<mx>").unwrap();
        assert_eq!((a, w), ("milter-reject", &b"END-OF-MESSAGE"[..]));
        assert_eq!(
            cut_cleanup_envelope(r),
            &b"from mx.friend.example[127.0.1.10]: 5.7.1 Message rejected by milter: phishing"[..]
        );
        assert_eq!(
            cut_cleanup_envelope(
                b"unsubscribe from this mass mailing from mx[1.2.3.4]; from=<a> to=<b>"
            ),
            b"unsubscribe from this mass mailing"
        );
        assert!(cleanup_action(b"QID: message-id=<x@y>").is_none());
    }

    #[test]
    fn deliveries_and_sizes() {
        let d = delivery(b"QID: to=<a@b.example>, orig_to=<info>, relay=local, delay=0.02, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)").unwrap();
        assert_eq!(
            (d.to, d.relay, d.delay, d.status, d.rest),
            (
                &b"a@b.example"[..],
                &b"local"[..],
                &b"0.02"[..],
                &b"sent"[..],
                &b" (delivered to mailbox)"[..]
            )
        );
        assert!(delivery(b"QID: to=<a@b.example>, status=sent").is_none());
        assert_eq!(
            from_size(b"QID: from=<>, size=120, nrcpt=1 (queue active)"),
            Some((&b""[..], 120))
        );
        assert_eq!(
            from_size(b"QID: from=<a@b>, status=expired, returned to sender"),
            None
        );
        assert_eq!(addr_key(b"Al@EX.test", false), b"Al@ex.test");
        assert_eq!(addr_key(b"Al@EX.test", true), b"al@ex.test");
        assert_eq!(addr_domain(b"a@b.example"), Some(&b"b.example"[..]));
        assert_eq!(addr_domain(b"from=<>"), None);
    }

    #[test]
    fn sort_keys() {
        assert!(normalize_host(b"mx.friend.example") < normalize_host(b"127.0.1.12"));
        assert!(normalize_host(b"amy@accept.example") < normalize_host(b"noreply@example.test"));
        assert_eq!(normalize_host(b"10.0.0.1"), vec![10, 0, 0, 1]);
    }

    #[test]
    fn old_smtp_failures_only() {
        assert!(
            old_connect_failure(
                b"postfix/smtp[1]: connect to dead.example[127.0.2.5]:25: Connection refused"
            )
            .is_none()
        );
        let (r, h) = old_connect_failure(
            b"postfix/smtp[1]: connect to mx.example[192.0.2.1]: Connection refused (port 25)",
        )
        .unwrap();
        assert_eq!(
            (&r[..], h),
            (&b"connection refused"[..], &b"mx.example"[..])
        );
    }
}
