//! Fuzz checks for mtalog: the configuration parser and the four formatters, driven by
//! arbitrary bytes. Each function panics when an invariant breaks; the `cargo fuzz`
//! targets in `fuzz_targets/` call them, and so does the `smoke` binary (a deterministic
//! pseudo-random driver that needs no fuzzing toolchain).
//!
//! Invariants of every formatter: its output is whole lines (every buffer empty or ending
//! in `\n`), no control byte other than those line ends, the documented number of lines
//! per event. Per format: ec_logger mainlog lines split into the documented number of
//! `@`-separated fields and every field unescapes to the value given; imta_logger lines
//! parse with `imta::parse_line` (and the service log with `parse_service_line`), giving
//! back the envelope addresses as the documented rule transforms them; json_logger lines
//! parse as JSON (serde_json), keys in the documented order, every string value giving
//! back the bytes logged (U+FFFD for what is not UTF-8, counted), and read back with the
//! library's own reader.

use mtalog::config::{self, Entry, Options};
use mtalog::event::{Event, FIELD_COUNT, Field, Kind, Timestamp};
use mtalog::format::imta::{self, Imta};
use mtalog::format::json::{self, Json};
use mtalog::format::{self, FormatContext, Formatter, Level, LoggerKind, Out, Target, ec::Ec};

/// Every field, in order (`Field as usize` is the index).
const FIELDS: [Field; FIELD_COUNT] = Field::ALL;

/// Reads fuzz input front to back; past the end everything is zero.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }

    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        let src = self.bytes(8);
        b[..src.len()].copy_from_slice(src);
        u64::from_le_bytes(b)
    }

    /// Often small, sometimes anything: small values reach more branches.
    fn num(&mut self) -> u64 {
        match self.byte() % 4 {
            0 => u64::from(self.byte()),
            1 => self.u64() % 100_000,
            2 => self.u64(),
            _ => 0,
        }
    }

    fn time(&mut self) -> Timestamp {
        let sec = match self.byte() % 4 {
            0 => 1_700_000_000 + (self.u64() % 100_000_000) as i64,
            1 => self.u64() as i64,
            2 => (self.u64() % 4_000_000_000) as i64 - 2_000_000_000,
            _ => 0,
        };
        Timestamp::new(sec, self.num() as i64)
    }
}

/// An event of any kind with any numbers and any field values (each field at most once).
/// With `utf8`, values that are not UTF-8 are made so (imta's parser reads `&str`).
fn event(inp: &mut Input<'_>, utf8: bool) -> Event {
    let kind = Kind::ALL[usize::from(inp.byte()) % Kind::ALL.len()];
    let mut ev = Event::new(kind);
    ev.time = inp.time();
    ev.received = inp.time();
    ev.size = inp.num();
    ev.bytes_sent = inp.num();
    ev.retries = inp.num() as u32;
    ev.nrcpt = inp.num() as u32;
    ev.stage = inp.num() as i32;
    ev.phase = (inp.num() as i32).wrapping_sub(2);
    ev.code = inp.num() as i32;
    ev.peer_port = inp.num() as u16;
    ev.local_port = inp.num() as u16;
    ev.mx_port = inp.num() as u16;
    ev.flags = inp.byte();
    let mut values: Vec<(usize, Vec<u8>)> = Vec::new();
    while !inp.0.is_empty() {
        let f = usize::from(inp.byte()) % FIELD_COUNT;
        let len = match inp.byte() {
            l @ 0..=0xef => usize::from(l),
            l => usize::from(l - 0xef) * 600,
        };
        let v = inp.bytes(len).to_vec();
        let v = if utf8 {
            // Cut long values at a character boundary: the library cuts at max_field bytes,
            // which may split a character, and imta's parser reads &str.
            let mut s = String::from_utf8_lossy(&v).into_owned();
            let mut end = s.len().min(4096);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
            s.into_bytes()
        } else {
            v
        };
        if !values.iter().any(|(g, _)| *g == f) {
            values.push((f, v));
        }
    }
    values.sort_by_key(|(f, _)| *f);
    for (f, v) in &values {
        ev.push(FIELDS[*f], v, 4096);
    }
    ev
}

/// Options for a formatter from one byte of input per switch.
fn entries(pairs: &[(&str, String)]) -> Vec<Entry> {
    pairs
        .iter()
        .enumerate()
        .map(|(i, (k, v))| Entry {
            key: (*k).to_owned(),
            value: v.clone(),
            line: i + 1,
        })
        .collect()
}

fn ctx() -> FormatContext {
    FormatContext {
        error_default_level: Level::Error,
        pid: 4242,
        hostname: "mx1.example.org".into(),
    }
}

/// Lines of a buffer, checking it is whole lines without other control bytes.
fn lines(buf: &[u8]) -> Vec<&[u8]> {
    if buf.is_empty() {
        return Vec::new();
    }
    assert_eq!(
        buf.last(),
        Some(&b'\n'),
        "output does not end a line: {buf:?}"
    );
    let body = &buf[..buf.len() - 1];
    let ls: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    for l in &ls {
        assert!(
            !l.iter().any(|&b| b < 0x20 || b == 0x7f),
            "control byte in a line: {:?}",
            String::from_utf8_lossy(l)
        );
    }
    ls
}

fn all_lines(out: &Out) -> usize {
    Target::ALL
        .iter()
        .map(|&t| lines(&out.bufs[t as usize]).len())
        .sum()
}

// ---------------------------------------------------------------------------------------
// Configuration

/// A stanza without its line numbers: kind, name, `(key, value)` entries.
type Plain = (String, String, Vec<(String, String)>);

/// The configuration parser: never panics; a text it accepts prints back (every value
/// quoted) to a text that parses to the same stanzas; a stanza of a known kind goes
/// through the typed options and the kind's setup without panicking.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(stanzas) = config::parse_file(&text) {
        let mut printed = String::new();
        for s in &stanzas {
            printed.push_str(&format!("{} {} {{\n", s.kind, quote(&s.name)));
            for e in &s.entries {
                printed.push_str(&format!("  {} = {}\n", e.key, quote(&e.value)));
            }
            printed.push_str("}\n");
        }
        let again = config::parse_file(&printed)
            .unwrap_or_else(|e| panic!("printed config does not parse: {e}\n{printed}"));
        let strip = |v: &[config::Stanza]| -> Vec<Plain> {
            v.iter()
                .map(|s| {
                    let es = s.entries.iter().map(|e| (e.key.clone(), e.value.clone()));
                    (s.kind.clone(), s.name.clone(), es.collect())
                })
                .collect()
        };
        assert_eq!(strip(&stanzas), strip(&again), "printed:\n{printed}");
        for s in &stanzas {
            typed(&s.kind, &s.entries);
        }
    }
    for kind in ["ec_logger", "postfix_logger", "imta_logger", "json_logger"] {
        if let Ok(es) = config::parse_init(&text, kind, "x") {
            typed(kind, &es);
        }
    }
    let _ = config::parse_duration(&text);
    let _ = config::parse_size(&text);
}

fn quote(v: &str) -> String {
    let mut s = String::from("\"");
    for c in v.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

/// What `log_init` does with entries, short of opening files.
fn typed(kind: &str, es: &[Entry]) {
    let Some(k) = LoggerKind::from_name(kind) else {
        return;
    };
    let mut o = Options::new(es);
    if mtalog::pipeline::settings::Settings::parse(&mut o).is_err() {
        return;
    }
    if k.setup(&mut o, &ctx(), "x").is_err() {
        return;
    }
    let _ = o.finish();
}

// ---------------------------------------------------------------------------------------
// ec_logger

fn ec_unescape(f: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < f.len() {
        if f[i] != b'\\' {
            out.push(f[i]);
            i += 1;
            continue;
        }
        let e = *f.get(i + 1).expect("a lone backslash ends a field");
        match e {
            b'@' | b'\\' | b'"' => out.push(e),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'x' => {
                let h = std::str::from_utf8(f.get(i + 2..i + 4).expect("\\x needs 2 digits"))
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .expect("\\x needs 2 hex digits");
                out.push(h);
                i += 2;
            }
            _ => panic!("unknown escape \\{}", e as char),
        }
        i += 2;
    }
    out
}

/// Splits at unescaped `@`, into at most `max` fields (the last one takes the rest).
fn ec_split(line: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut i, mut start) = (0, 0);
    while i < line.len() && out.len() + 1 < max {
        match line[i] {
            b'\\' => i += 1,
            b'@' => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&line[start..]);
    out
}

/// ec_logger: one line per event, in one file; mainlog lines have the documented fields,
/// each unescaping to the value logged.
pub fn ec(data: &[u8]) {
    let mut inp = Input(data);
    let hires = inp.byte() & 1 == 1;
    let ev = event(&mut inp, false);
    let mut f = Ec::new(hires);
    let mut out = Out::default();
    f.format(&ev, &mut out);
    let n = all_lines(&out);
    assert!(n <= 1, "{n} lines for one {:?} event", ev.kind);
    let main = lines(&out.bufs[Target::Main as usize]);
    let Some(line) = main.first() else { return };
    let all = ec_split(line, 64);
    let letter = all.get(4).copied().unwrap_or_default();
    let (want, free_text): (usize, bool) = match letter {
        b"R" => (14, false),
        b"D" | b"X" | b"A" => (12, false),
        b"T" | b"P" => (14, true),
        _ => panic!(
            "unexpected mainlog line {:?}",
            String::from_utf8_lossy(line)
        ),
    };
    let fields = if free_text {
        assert!(all.len() >= want, "too few fields: {line:?}");
        ec_split(line, want)
    } else {
        assert_eq!(
            all.len(),
            want,
            "field count of {:?}",
            String::from_utf8_lossy(line)
        );
        all
    };
    let id = if ev.get(Field::MsgId).is_empty() {
        format::ec::NULL_ID
    } else {
        ev.get(Field::MsgId)
    };
    assert_eq!(ec_unescape(fields[1]), id);
    let group_at = if letter == b"R" { 12 } else { 7 };
    assert_eq!(ec_unescape(fields[group_at]), ev.get(Field::BindingGroup));
    assert_eq!(ec_unescape(fields[group_at + 1]), ev.get(Field::Binding));
    if letter == b"R" {
        let (l, d) = format::ec::split_address(ev.get(Field::RcptTo));
        assert_eq!(ec_unescape(fields[5]), l);
        assert_eq!(ec_unescape(fields[6]), d);
    } else {
        assert_eq!(ec_unescape(fields[5]), ev.get(Field::DomainName));
    }
    if free_text {
        let text = format::strip_one_newline(ev.get(Field::Note));
        assert_eq!(ec_unescape(fields[13]), text);
    }
}

// ---------------------------------------------------------------------------------------
// postfix_logger

/// postfix_logger: the documented number of lines per event; every line has the syslog
/// prefix, no control byte, valid UTF-8, and at most one of each field pflogsumm keys on.
pub fn postfix(data: &[u8]) {
    let mut inp = Input(data);
    let switches = inp.byte();
    let ev = event(&mut inp, false);
    let bool_of = |bit: u8| if switches & bit != 0 { "true" } else { "false" }.to_owned();
    let es = entries(&[
        ("myhostname", "mx1.example.org".into()),
        ("utc", bool_of(1)),
        ("long_queue_ids", bool_of(2)),
        ("log_expired_line", bool_of(4)),
        (
            "timestamp_style",
            if switches & 8 != 0 {
                "rfc3339"
            } else {
                "traditional"
            }
            .into(),
        ),
        (
            "error_severity",
            if switches & 16 != 0 {
                "error"
            } else {
                "warning"
            }
            .into(),
        ),
    ]);
    let mut o = Options::new(&es);
    let mut f = format::postfix::setup(&mut o, &ctx())
        .expect("postfix options")
        .formatter;
    let mut out = Out::default();
    f.format(&ev, &mut out);
    let n = all_lines(&out);
    let max = match ev.kind {
        Kind::Reception => 3,
        Kind::Delivery | Kind::PermanentFailure => 3,
        Kind::TransientFailure | Kind::Rejection | Kind::Error => 1,
        _ => 0,
    };
    assert!(n <= max, "{n} lines for one {:?} event", ev.kind);
    for t in Target::ALL {
        for l in lines(&out.bufs[t as usize]) {
            let s = std::str::from_utf8(l).expect("postfix lines are UTF-8");
            assert!(s.contains(" postfix/"), "no syslog prefix: {s}");
            for key in [
                "status=",
                " to=<",
                " from=<",
                " helo=<",
                ": reject: ",
                " relay=",
            ] {
                assert!(s.matches(key).count() <= 1, "{key} twice: {s}");
            }
            for key in [" to=<", "orig_to=<", " from=<", " helo=<"] {
                if let Some(i) = s.find(key) {
                    let rest = &s[i + key.len()..];
                    let end = rest
                        .find('>')
                        .unwrap_or_else(|| panic!("{key} unclosed: {s}"));
                    assert!(!rest[..end].contains(['<', ' ']), "{key} value breaks: {s}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// imta_logger

/// imta_logger: at most a connection entry and a message entry per event; every line
/// parses with the library's own grammar, and the envelope addresses read back as the
/// documented rule makes them.
pub fn imta(data: &[u8]) {
    let mut inp = Input(data);
    let format_byte = inp.byte();
    let conn = inp.byte();
    let switches = inp.byte();
    let ev = event(&mut inp, true);
    let bool_of = |bit: u8| if switches & bit != 0 { "true" } else { "false" }.to_owned();
    let es = entries(&[
        ("log_format", (1 + format_byte % 3).to_string()),
        ("log_connection", (u32::from(conn) & 0x63).to_string()),
        ("log_filename", bool_of(1)),
        ("log_message_id", bool_of(2)),
        ("log_process", bool_of(4)),
        ("log_username", bool_of(8)),
        ("log_node", bool_of(16)),
        ("log_reason", bool_of(32)),
        ("log_notary", bool_of(64)),
        ("log_reception_note", bool_of(128)),
        // The bits of `conn` that log_connection leaves unused.
        ("log_envelope_id", (conn & 4 != 0).to_string()),
        ("log_queue_time", (conn & 8 != 0).to_string()),
        ("legacy_codes", (conn & 16 != 0).to_string()),
        ("utc", "true".into()),
    ]);
    let mut o = Options::new(&es);
    let opts = imta::options(&mut o, &ctx()).expect("imta options");
    let mut f = Imta::new(opts.clone());
    let mut out = Out::default();
    f.format(&ev, &mut out);
    let n = all_lines(&out);
    assert!(n <= 2, "{n} lines for one {:?} event", ev.kind);
    for t in [Target::Main, Target::Connection] {
        for l in lines(&out.bufs[t as usize]) {
            let s = std::str::from_utf8(l).expect("UTF-8 in, UTF-8 out");
            let e = imta::parse_line(s, &opts).unwrap_or_else(|m| panic!("{m}: {s:?}"));
            if e.is_connection()
                || !matches!(
                    ev.kind,
                    Kind::Delivery | Kind::TransientFailure | Kind::PermanentFailure
                )
            {
                continue;
            }
            let word = |v: &[u8]| -> String {
                let v = match v {
                    [b'<', inner @ .., b'>'] => inner,
                    _ => v,
                };
                let keep_spaces = opts.log_format == 3;
                let m: Vec<u8> = v
                    .iter()
                    .map(|&b| match b {
                        0..=0x1f | 0x7f if keep_spaces => b' ',
                        0..=0x1f | 0x7f | b' ' if !keep_spaces => b'_',
                        _ => b,
                    })
                    .collect();
                String::from_utf8(m).unwrap()
            };
            assert_eq!(e.from, word(ev.get(Field::MailFrom)), "from of {s:?}");
            assert_eq!(e.to, word(ev.get(Field::RcptTo)), "to of {s:?}");
        }
    }
    for l in lines(&out.bufs[Target::Panic as usize]) {
        let s = std::str::from_utf8(l).expect("UTF-8 in, UTF-8 out");
        imta::parse_service_line(s).unwrap_or_else(|m| panic!("{m}: {s:?}"));
    }
}

// ---------------------------------------------------------------------------------------
// json_logger

/// The keys of each record type, in the documented order (docs/json-logger.md).
fn key_order(ty: &str) -> &'static [&'static str] {
    match ty {
        "reception" => &[
            "v",
            "time",
            "type",
            "logger",
            "host",
            "pid",
            "seq",
            "event_id",
            "id",
            "batch_id",
            "conn_id",
            "sender",
            "rcpt",
            "size",
            "binding",
            "binding_group",
            "protocol",
            "peer_ip",
            "peer_port",
            "local_ip",
            "local_port",
            "helo",
            "note",
        ],
        "delivery" | "transfer" | "attempt" | "transient_failure" | "permanent_failure" => &[
            "v",
            "time",
            "type",
            "logger",
            "host",
            "pid",
            "seq",
            "event_id",
            "id",
            "batch_id",
            "conn_id",
            "sender",
            "rcpt",
            "size",
            "binding",
            "binding_group",
            "retries",
            "queue_time",
            "domain",
            "mx",
            "mx_ip",
            "response",
            "code",
            "dsn",
        ],
        "rejection" => &[
            "v",
            "time",
            "type",
            "logger",
            "host",
            "pid",
            "seq",
            "event_id",
            "conn_id",
            "protocol",
            "peer_ip",
            "peer_port",
            "local_ip",
            "local_port",
            "helo",
            "phase",
            "phase_text",
            "sender",
            "rcpt",
            "module",
            "pathway",
            "pathway_group",
            "ctx_conn",
            "ctx_mess",
            "text",
            "code",
            "dsn",
        ],
        "error" => &[
            "v", "time", "type", "logger", "host", "pid", "seq", "event_id", "level", "text",
        ],
        "auth" => &[
            "v", "time", "type", "logger", "host", "pid", "seq", "event_id", "auth", "listener",
            "peer", "user", "result", "command", "role",
        ],
        "import" => &[
            "v",
            "time",
            "type",
            "logger",
            "host",
            "pid",
            "seq",
            "event_id",
            "id",
            "new_id",
            "result",
            "spool_dir",
        ],
        other => panic!("unknown type {other}"),
    }
}

fn first_of<'a>(a: &'a [u8], b: &'a [u8]) -> &'a [u8] {
    if a.is_empty() { b } else { a }
}

/// The string keys of a record of `ev` and the bytes each must give back.
fn strings(ev: &Event) -> Vec<(&'static str, Vec<u8>)> {
    let g = |f: Field| ev.get(f).to_vec();
    let message = || {
        vec![
            ("id", g(Field::MsgId)),
            ("batch_id", g(Field::BatchId)),
            (
                "conn_id",
                first_of(ev.get(Field::ConnId), ev.get(Field::AcceptConnId)).to_vec(),
            ),
            ("sender", g(Field::MailFrom)),
            ("rcpt", g(Field::RcptTo)),
            ("binding", g(Field::Binding)),
            ("binding_group", g(Field::BindingGroup)),
        ]
    };
    let session = [
        ("protocol", g(Field::Protocol)),
        ("peer_ip", g(Field::PeerIp)),
        ("local_ip", g(Field::LocalIp)),
        ("helo", g(Field::Helo)),
    ];
    match ev.kind {
        Kind::Reception => {
            let mut v = message();
            v.extend(session);
            v.push(("note", g(Field::Note)));
            v
        }
        Kind::Delivery | Kind::Attempt | Kind::TransientFailure | Kind::PermanentFailure => {
            let mut v = message();
            v.extend([
                ("domain", g(Field::DomainName)),
                ("mx", g(Field::MxHost)),
                ("mx_ip", g(Field::MxIp)),
                ("response", g(Field::Note)),
            ]);
            v
        }
        Kind::Rejection => {
            let mut v = vec![(
                "conn_id",
                first_of(ev.get(Field::AcceptConnId), ev.get(Field::ConnId)).to_vec(),
            )];
            v.extend(session);
            v.extend([
                ("sender", g(Field::VMailFrom)),
                ("rcpt", g(Field::VRcptTo)),
                ("module", g(Field::VModule)),
                ("pathway", g(Field::VPathway)),
                ("pathway_group", g(Field::VPathwayGroup)),
                ("ctx_conn", g(Field::VCtxConn)),
                ("ctx_mess", g(Field::VCtxMess)),
                (
                    "text",
                    format::strip_one_newline(ev.get(Field::Note)).to_vec(),
                ),
            ]);
            v
        }
        Kind::Error => {
            let text = format::strip_one_newline(ev.get(Field::Note));
            let (_, text, _) = format::split_severity(text, Level::Error);
            vec![("text", text.to_vec())]
        }
        Kind::Acct => vec![
            ("listener", g(Field::AcctListener)),
            ("peer", g(Field::AcctPeer)),
            ("user", g(Field::AcctUser)),
            ("command", g(Field::AcctCommand)),
            ("role", g(Field::AcctRole)),
        ],
        Kind::Import => vec![
            ("id", g(Field::MsgId)),
            ("new_id", g(Field::ImportNewId)),
            ("spool_dir", g(Field::ImportDir)),
        ],
    }
}

/// json_logger: one line per event, in the file of its kind; it parses as a JSON object
/// (serde_json) whose keys come in the documented order, whose string values give back
/// the bytes logged (each sequence that is not UTF-8 as one U+FFFD, and counted), and
/// which the library's reader reads back.
pub fn json(data: &[u8]) {
    let mut inp = Input(data);
    let switches = inp.byte();
    let boot = inp.u64();
    let ev = event(&mut inp, false);
    let errors = if switches & 1 != 0 {
        Target::Panic
    } else {
        Target::Main
    };
    let (logger, host) = ("json\"1\\\u{1}", "mx1.example.org\u{2028}");
    let mut f = Json::new(logger, host, 4242, boot, errors, Level::Error);
    let mut out = Out::default();
    f.format(&ev, &mut out);
    assert_eq!(all_lines(&out), 1, "one line per {:?} event", ev.kind);
    let target = if ev.kind == Kind::Error {
        errors
    } else {
        Target::Main
    };
    let buf = &out.bufs[target as usize];
    let line = &buf[..buf.len() - 1];
    let v: serde_json::Value = serde_json::from_slice(line)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(line)));
    let m = v.as_object().expect("an object");
    let ty = json::type_name(&ev);
    assert_eq!(m["v"], 1);
    assert_eq!(m["type"], ty);
    assert_eq!(m["logger"], logger);
    assert_eq!(m["host"], host);
    assert_eq!(m["seq"], 1);
    assert_eq!(m["event_id"], format!("{boot:016x}{:016x}", 1));

    // Keys in the documented order, each once.
    let obj = json::read::parse_object(line).expect("the library reads its own line");
    let keys: Vec<&str> = obj
        .iter()
        .map(|(k, _)| std::str::from_utf8(k).unwrap())
        .collect();
    let order = key_order(ty);
    let mut at = 0;
    for k in &keys {
        let p = order[at..]
            .iter()
            .position(|o| o == k)
            .unwrap_or_else(|| panic!("key {k} out of order in {keys:?}"));
        at += p + 1;
    }

    // String values give back the bytes logged; absent when empty.
    let mut replaced = 0;
    for (k, want) in strings(&ev) {
        if want.is_empty() {
            assert!(!m.contains_key(k), "{k} present though empty");
            continue;
        }
        assert_eq!(m[k], String::from_utf8_lossy(&want).as_ref(), "{k}");
        replaced += want
            .utf8_chunks()
            .filter(|c| !c.invalid().is_empty())
            .count() as u64;
    }
    assert_eq!(f.take_replaced(), replaced);

    // The reader reads it back.
    let mut recs = Vec::new();
    json::read::line(line, &mut recs)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(line)));
    match ev.kind {
        Kind::Acct | Kind::Import => assert!(recs.is_empty()),
        _ => {
            assert_eq!(recs.len(), 1);
            let back = &recs[0].ev;
            assert_eq!(back.kind, ev.kind);
            if ev.kind != Kind::Error && (-62_167_219_200..=253_402_300_799).contains(&ev.time.sec)
            {
                assert_eq!(back.time, ev.time);
            }
            let f = match ev.kind {
                Kind::Rejection => Field::VRcptTo,
                Kind::Error => Field::Note,
                _ => Field::RcptTo,
            };
            if ev.kind != Kind::Error {
                assert_eq!(
                    String::from_utf8_lossy(back.get(f)),
                    String::from_utf8_lossy(ev.get(f))
                );
            }
        }
    }
}
