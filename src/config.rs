//! The configuration language: ecelerity.conf stanzas, parsed by mtalog itself.
//!
//! ```text
//! ec_logger "ec_logger1" {
//!   mainlog = "/var/log/ecelerity/mainlog.ec"   # a comment
//!   heartbeat = 60
//!   mainlog_mode = 0640
//!   log_transient_failures = false
//! }
//! ```
//!
//! A value is a bare word (`60`, `0640`, `/var/log/x`, `true`) or a double-quoted string in
//! which `\"` and `\\` stand for `"` and `\`. `#` starts a comment that runs to the end of the
//! line (outside quotes). [`Options`](crate::config::Options) turns entries into typed values and reports unknown
//! keys, so that a logger never starts half-configured.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A configuration error, naming the line and key when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line number in the text given (0 = not tied to a line).
    pub line: usize,
    /// The key concerned, if any.
    pub key: Option<String>,
    /// What is wrong.
    pub msg: String,
}

impl ConfigError {
    fn new(line: usize, key: Option<&str>, msg: impl Into<String>) -> ConfigError {
        ConfigError {
            line,
            key: key.map(str::to_owned),
            msg: msg.into(),
        }
    }
}

/// Where an error is, as every message names it: `config line N, key 'K'`.
struct Place<'a>(usize, Option<&'a str>);

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("config")?;
        if self.0 > 0 {
            write!(f, " line {}", self.0)?;
        }
        if let Some(k) = self.1 {
            write!(f, ", key '{k}'")?;
        }
        Ok(())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", Place(self.line, self.key.as_deref()), self.msg)
    }
}

impl std::error::Error for ConfigError {}

/// One `key = value` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The option name.
    pub key: String,
    /// The value, unquoted.
    pub value: String,
    /// 1-based line of the key.
    pub line: usize,
}

impl Entry {
    /// Where the entry is, as configuration errors name it: `config line N, key 'K'` (for
    /// errors found later, such as a file that cannot be opened).
    pub fn place(&self) -> String {
        Place(self.line, Some(&self.key)).to_string()
    }
}

/// One `kind "name" { ... }` stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stanza {
    /// The module kind, e.g. `ec_logger`.
    pub kind: String,
    /// The instance name (the kind itself when the stanza has no name).
    pub name: String,
    /// 1-based line of the stanza header.
    pub line: usize,
    /// The entries, in order.
    pub entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Eq,
    Semi,
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, ConfigError> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => {
                out.push((Tok::Open, line));
                i += 1;
            }
            b'}' => {
                out.push((Tok::Close, line));
                i += 1;
            }
            b'=' => {
                out.push((Tok::Eq, line));
                i += 1;
            }
            b';' => {
                out.push((Tok::Semi, line));
                i += 1;
            }
            b'"' => {
                let start_line = line;
                i += 1;
                let mut s = Vec::new();
                loop {
                    if i >= b.len() {
                        return Err(ConfigError::new(
                            start_line,
                            None,
                            "unterminated quoted string",
                        ));
                    }
                    match b[i] {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\\' if i + 1 < b.len() && (b[i + 1] == b'"' || b[i + 1] == b'\\') => {
                            s.push(b[i + 1]);
                            i += 2;
                        }
                        b'\n' => {
                            return Err(ConfigError::new(
                                start_line,
                                None,
                                "newline inside a quoted string",
                            ));
                        }
                        ch => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                // Input is &str and we only split at ASCII bytes, so this is valid UTF-8.
                out.push((
                    Tok::Quoted(String::from_utf8_lossy(&s).into_owned()),
                    start_line,
                ));
            }
            _ if c.is_ascii_control() => {
                return Err(ConfigError::new(
                    line,
                    None,
                    format!("unexpected control byte 0x{c:02x}"),
                ));
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b' ' | b'\t' | b'\r' | b'\n' | b'{' | b'}' | b'=' | b';' | b'"' | b'#'
                    )
                {
                    i += 1;
                }
                out.push((Tok::Word(text[start..i].to_owned()), line));
            }
        }
    }
    Ok(out)
}

fn parse_entries(
    toks: &[(Tok, usize)],
    pos: &mut usize,
    in_block: bool,
) -> Result<Vec<Entry>, ConfigError> {
    let mut entries = Vec::new();
    loop {
        let Some((tok, line)) = toks.get(*pos) else {
            if in_block {
                let line = toks.last().map_or(0, |t| t.1);
                return Err(ConfigError::new(line, None, "missing '}' at end of stanza"));
            }
            return Ok(entries);
        };
        match tok {
            Tok::Close if in_block => {
                *pos += 1;
                return Ok(entries);
            }
            Tok::Semi => *pos += 1,
            Tok::Word(key) => {
                let key_line = *line;
                match toks.get(*pos + 1) {
                    Some((Tok::Eq, _)) => {}
                    Some((Tok::Open, _)) | Some((Tok::Quoted(_), _)) => {
                        return Err(ConfigError::new(
                            key_line,
                            Some(key),
                            "nested scopes are not supported inside a logger stanza",
                        ));
                    }
                    _ => {
                        return Err(ConfigError::new(
                            key_line,
                            Some(key),
                            "expected '=' after the option name",
                        ));
                    }
                }
                let value = match toks.get(*pos + 2) {
                    Some((Tok::Word(v), l)) | Some((Tok::Quoted(v), l))
                        if *l == key_line || matches!(toks[*pos + 2].0, Tok::Quoted(_)) =>
                    {
                        v.clone()
                    }
                    _ => return Err(ConfigError::new(key_line, Some(key), "missing value")),
                };
                if let Some(first) = entries.iter().find(|e: &&Entry| e.key == *key) {
                    return Err(ConfigError::new(
                        key_line,
                        Some(key),
                        format!(
                            "given twice in one stanza (first at line {}); keep one",
                            first.line
                        ),
                    ));
                }
                entries.push(Entry {
                    key: key.clone(),
                    value,
                    line: key_line,
                });
                *pos += 3;
            }
            Tok::Quoted(q) => {
                return Err(ConfigError::new(
                    *line,
                    None,
                    format!("unexpected string \"{q}\""),
                ));
            }
            Tok::Open => return Err(ConfigError::new(*line, None, "unexpected '{'")),
            Tok::Close => return Err(ConfigError::new(*line, None, "unexpected '}'")),
            Tok::Eq => {
                return Err(ConfigError::new(
                    *line,
                    None,
                    "unexpected '=' without an option name",
                ));
            }
        }
    }
}

/// Parses a whole configuration text into its stanzas (`kind ["name"] { ... }`).
pub fn parse_file(text: &str) -> Result<Vec<Stanza>, ConfigError> {
    let toks = tokenize(text)?;
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < toks.len() {
        match &toks[pos] {
            (Tok::Semi, _) => pos += 1,
            (Tok::Word(kind), line) => {
                let line = *line;
                let (name, open_at) = match toks.get(pos + 1) {
                    Some((Tok::Quoted(n), _)) | Some((Tok::Word(n), _)) => (n.clone(), pos + 2),
                    Some((Tok::Open, _)) => (kind.clone(), pos + 1),
                    Some((Tok::Eq, _)) => {
                        return Err(ConfigError::new(
                            line,
                            Some(kind),
                            "option outside of a logger stanza",
                        ));
                    }
                    _ => {
                        return Err(ConfigError::new(
                            line,
                            Some(kind),
                            "expected '\"name\" {' after the module kind",
                        ));
                    }
                };
                if !matches!(toks.get(open_at), Some((Tok::Open, _))) {
                    return Err(ConfigError::new(
                        line,
                        Some(kind),
                        "expected '{' to open the stanza",
                    ));
                }
                pos = open_at + 1;
                let entries = parse_entries(&toks, &mut pos, true)?;
                out.push(Stanza {
                    kind: kind.clone(),
                    name,
                    line,
                    entries,
                });
            }
            (_, line) => {
                return Err(ConfigError::new(
                    *line,
                    None,
                    "expected a module kind to start a stanza",
                ));
            }
        }
    }
    Ok(out)
}

/// Parses the `config` argument of `log_init`: either one whole stanza (whose kind and name
/// must be `kind` and `name`) or only its body. Empty text gives no entries.
pub fn parse_init(text: &str, kind: &str, name: &str) -> Result<Vec<Entry>, ConfigError> {
    let toks = tokenize(text)?;
    let head = (
        toks.first().map(|t| &t.0),
        toks.get(1).map(|t| &t.0),
        toks.get(2).map(|t| &t.0),
    );
    let is_stanza = matches!(
        head,
        (Some(Tok::Word(_)), Some(Tok::Open), _)
            | (
                Some(Tok::Word(_)),
                Some(Tok::Quoted(_) | Tok::Word(_)),
                Some(Tok::Open)
            )
    );
    if !is_stanza {
        let mut pos = 0;
        return parse_entries(&toks, &mut pos, false);
    }
    let mut stanzas = parse_file(text)?;
    if stanzas.len() != 1 {
        let line = stanzas.get(1).map_or(0, |s| s.line);
        return Err(ConfigError::new(
            line,
            None,
            "log_init takes one stanza; use mtalog_load for a whole file",
        ));
    }
    let s = stanzas.remove(0);
    if s.kind != kind {
        return Err(ConfigError::new(
            s.line,
            None,
            format!("stanza is for '{}' but this logger is a '{kind}'", s.kind),
        ));
    }
    if s.name != name {
        return Err(ConfigError::new(
            s.line,
            None,
            format!("stanza is named '{}' but this logger is '{name}'", s.name),
        ));
    }
    Ok(s.entries)
}

/// Typed access to a list of entries; every key read is marked used, and
/// [`Options::finish`] rejects the keys nobody read.
#[derive(Debug)]
pub struct Options<'a> {
    entries: &'a [Entry],
    used: Vec<bool>,
    /// Every key asked for, present or not.
    asked: Vec<String>,
}

/// How a full queue is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// The hook waits for room (bounded by `block_timeout` when set).
    Block,
    /// The hook drops the event and counts it.
    Drop,
}

/// When files are fsync'ed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// Never.
    None,
    /// At `log_close` (and before a rotation).
    Close,
    /// Every `flush_interval`, and at close.
    Interval,
}

impl<'a> Options<'a> {
    /// Wraps entries.
    pub fn new(entries: &'a [Entry]) -> Options<'a> {
        Options {
            entries,
            used: vec![false; entries.len()],
            asked: Vec::new(),
        }
    }

    /// Every key asked for so far, whether present or not, once each, in the order first
    /// asked: after a logger kind has read its options from an empty list, the keys that
    /// kind knows.
    pub fn keys(&self) -> &[String] {
        &self.asked
    }

    fn ask(&mut self, keys: &[&str]) {
        for k in keys {
            if !self.asked.iter().any(|a| a == k) {
                self.asked.push((*k).to_owned());
            }
        }
    }

    /// The last entry for any of `keys` (aliases of one option; the later one wins),
    /// marking all of them used. The parser refuses the same key twice in a stanza.
    pub fn entry(&mut self, keys: &[&str]) -> Option<&'a Entry> {
        self.ask(keys);
        let mut found = None;
        for (i, e) in self.entries.iter().enumerate() {
            if keys.contains(&e.key.as_str()) {
                self.used[i] = true;
                found = Some(e);
            }
        }
        found
    }

    /// Is any of `keys` present?
    pub fn has(&mut self, keys: &[&str]) -> bool {
        self.ask(keys);
        self.entries.iter().any(|e| keys.contains(&e.key.as_str()))
    }

    /// A string value.
    pub fn string(&mut self, key: &str) -> Option<String> {
        self.entry(&[key]).map(|e| e.value.clone())
    }

    /// A path value (must not be empty).
    pub fn path(&mut self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        match self.entry(&[key]) {
            None => Ok(None),
            Some(e) if e.value.is_empty() => Err(err(e, "empty path")),
            Some(e) if e.value.contains('\0') => Err(err(e, "path contains a NUL byte")),
            Some(e) if e.value.starts_with("jlog://") || e.value.starts_with("cluster://") => {
                Err(err(
                    e,
                    "jlog:// and cluster:// paths are not supported; give a file path",
                ))
            }
            Some(e) => Ok(Some(PathBuf::from(&e.value))),
        }
    }

    /// A boolean: `true/false/yes/no/on/off/enabled/disabled/1/0`.
    pub fn boolean(&mut self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.entry(&[key]) {
            None => Ok(default),
            Some(e) => match e.value.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" | "enabled" => Ok(true),
                "false" | "no" | "off" | "0" | "disabled" => Ok(false),
                _ => Err(err(
                    e,
                    format!("expected true/false/yes/no/on/off/1/0, got '{}'", e.value),
                )),
            },
        }
    }

    /// An octal file mode such as `0640` (any of `keys`).
    pub fn mode(&mut self, keys: &[&str], default: u32) -> Result<u32, ConfigError> {
        match self.entry(keys) {
            None => Ok(default),
            Some(e) => {
                let v = e.value.strip_prefix("0o").unwrap_or(&e.value);
                match u32::from_str_radix(v, 8) {
                    Ok(m) if m <= 0o7777 && !v.is_empty() => Ok(m),
                    _ => Err(err(
                        e,
                        format!(
                            "expected an octal file mode such as 0640, got '{}'",
                            e.value
                        ),
                    )),
                }
            }
        }
    }

    /// An unsigned integer within `min..=max`.
    pub fn uint(
        &mut self,
        key: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        match self.entry(&[key]) {
            None => Ok(default),
            Some(e) => match e.value.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                Ok(_) => Err(err(
                    e,
                    format!("must be between {min} and {max}, got '{}'", e.value),
                )),
                Err(_) => Err(err(
                    e,
                    format!("expected a whole number, got '{}'", e.value),
                )),
            },
        }
    }

    /// A duration: a number with an optional unit `ms`, `s`, `m`, `h` or `d` (default
    /// seconds). Any of `keys`.
    pub fn duration(&mut self, keys: &[&str], default: Duration) -> Result<Duration, ConfigError> {
        match self.entry(keys) {
            None => Ok(default),
            Some(e) => parse_duration(&e.value).ok_or_else(|| {
                err(
                    e,
                    format!(
                        "expected a duration such as 30, 250ms, 30s, 5m, 2h or 1d, got '{}'",
                        e.value
                    ),
                )
            }),
        }
    }

    /// A byte size: a number with an optional suffix `K`, `M` or `G` (powers of 1024).
    /// Any of `keys`.
    pub fn size(&mut self, keys: &[&str], default: u64) -> Result<u64, ConfigError> {
        match self.entry(keys) {
            None => Ok(default),
            Some(e) => parse_size(&e.value).ok_or_else(|| {
                err(
                    e,
                    format!(
                        "expected a size such as 4096, 512K, 10M or 1G, got '{}'",
                        e.value
                    ),
                )
            }),
        }
    }

    /// One of a fixed set of words (case-insensitive); returns its index in `choices`.
    pub fn choice(
        &mut self,
        key: &str,
        choices: &[&str],
        default: usize,
    ) -> Result<usize, ConfigError> {
        match self.entry(&[key]) {
            None => Ok(default),
            Some(e) => choices
                .iter()
                .position(|c| c.eq_ignore_ascii_case(&e.value))
                .ok_or_else(|| {
                    err(
                        e,
                        format!("expected one of {}, got '{}'", choices.join("|"), e.value),
                    )
                }),
        }
    }

    /// Fails on the first entry whose key nobody read.
    pub fn finish(&self) -> Result<(), ConfigError> {
        match self.entries.iter().zip(&self.used).find(|(_, u)| !**u) {
            Some((e, _)) => Err(err(e, "unknown option")),
            None => Ok(()),
        }
    }
}

/// An error about entry `e`.
pub fn err(e: &Entry, msg: impl Into<String>) -> ConfigError {
    ConfigError::new(e.line, Some(&e.key), msg)
}

/// Parses `30`, `250ms`, `30s`, `5m`, `2h`, `1d`.
pub fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit.to_ascii_lowercase().as_str() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    if !secs.is_finite() || !(0.0..=1e10).contains(&secs) {
        return None;
    }
    Some(Duration::from_secs_f64(secs))
}

/// Parses `4096`, `512K`, `10M`, `1G` (also `KB`, `MB`, `GB`; powers of 1024).
pub fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_whole_stanza_with_comments_and_quotes() {
        let text = "# logs\nec_logger \"ec_logger1\" {\n  mainlog = \"/tmp/a \\\"b\\\".ec\" # here\n  heartbeat = 60\n  mainlog_mode = 0640\n}\n";
        let s = parse_file(text).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, "ec_logger");
        assert_eq!(s[0].name, "ec_logger1");
        assert_eq!(s[0].line, 2);
        assert_eq!(
            s[0].entries,
            vec![
                Entry {
                    key: "mainlog".into(),
                    value: "/tmp/a \"b\".ec".into(),
                    line: 3
                },
                Entry {
                    key: "heartbeat".into(),
                    value: "60".into(),
                    line: 4
                },
                Entry {
                    key: "mainlog_mode".into(),
                    value: "0640".into(),
                    line: 5
                },
            ]
        );
    }

    #[test]
    fn init_accepts_body_or_matching_stanza() {
        let body = parse_init("heartbeat = 0\nlog_errors = off\n", "ec_logger", "x").unwrap();
        assert_eq!(body.len(), 2);
        assert!(parse_init("", "ec_logger", "x").unwrap().is_empty());
        assert!(parse_init("ec_logger \"x\" { heartbeat = 1 }", "ec_logger", "x").is_ok());
        let e = parse_init("ec_logger \"y\" { heartbeat = 1 }", "ec_logger", "x").unwrap_err();
        assert!(e.msg.contains("named 'y'"), "{e}");
        let e = parse_init("postfix_logger \"x\" { }", "ec_logger", "x").unwrap_err();
        assert!(e.msg.contains("postfix_logger"), "{e}");
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = parse_init("heartbeat = 1\nmainlog =\n", "ec_logger", "x").unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (2, Some("mainlog")));
        assert_eq!(e.to_string(), "config line 2, key 'mainlog': missing value");
        let e = parse_file("ec_logger \"a\" {\n mainlog = \"x\"\n").unwrap_err();
        assert!(e.msg.contains("missing '}'"));
        let e = parse_file("mainlog = x\n").unwrap_err();
        assert!(e.msg.contains("outside"));
        let e = parse_init(
            "heartbeat = 1\nmainlog = a\n\nheartbeat = 2\n",
            "ec_logger",
            "x",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "config line 4, key 'heartbeat': given twice in one stanza (first at line 1); keep one"
        );
        // Two stanzas may each give a key once.
        let s =
            parse_file("ec_logger \"a\" { heartbeat = 1 }\nec_logger \"b\" { heartbeat = 1 }\n");
        assert_eq!(s.unwrap().len(), 2);
    }

    #[test]
    fn typed_values_and_unknown_keys() {
        let entries = parse_init(
            "a = yes\nb = off\nm = 0600\nd = 5m\nz = 10M\nn = 7\nc = DROP\nbogus = 1\n",
            "k",
            "k",
        )
        .unwrap();
        let mut o = Options::new(&entries);
        assert!(o.boolean("a", false).unwrap());
        assert!(!o.boolean("b", true).unwrap());
        assert!(o.boolean("missing", true).unwrap());
        assert_eq!(o.mode(&["m"], 0o644).unwrap(), 0o600);
        assert_eq!(
            o.duration(&["d"], Duration::ZERO).unwrap(),
            Duration::from_secs(300)
        );
        assert_eq!(o.size(&["z"], 0).unwrap(), 10 << 20);
        assert_eq!(o.uint("n", 0, 0, 10).unwrap(), 7);
        assert_eq!(o.choice("c", &["block", "drop"], 0).unwrap(), 1);
        let e = o.finish().unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref(), e.msg.as_str()),
            (8, Some("bogus"), "unknown option")
        );
    }

    #[test]
    fn bad_values_are_clear() {
        let entries = parse_init("m = 0899\nb = maybe\nn = 11\n", "k", "k").unwrap();
        let mut o = Options::new(&entries);
        assert!(o.mode(&["m"], 0).unwrap_err().msg.contains("octal"));
        assert!(o.boolean("b", false).unwrap_err().msg.contains("maybe"));
        assert!(o.uint("n", 0, 0, 10).unwrap_err().msg.contains("between"));
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86400)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_size("512K"), Some(512 * 1024));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("1T"), None);
    }
}
