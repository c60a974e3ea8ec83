//! Inputs: files (plain or gzip, by their magic bytes) and standard input, read line by
//! line with a buffer of constant size, and a progress bar on standard error when it is a
//! terminal.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// An opened input.
pub struct Input {
    /// The name shown in messages (`-` is `(stdin)`).
    pub name: String,
    reader: Box<dyn BufRead>,
    /// Bytes of the underlying file read so far (compressed bytes for gzip).
    read: Arc<AtomicU64>,
    /// Size of the underlying file, when known.
    total: Option<u64>,
    progress: Option<Progress>,
    /// Line number of the last line returned (1-based).
    pub line_no: u64,
}

struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

const BUF: usize = 256 * 1024;

/// Opens `path` (`-` = standard input); gzip is recognised by its magic bytes.
pub fn open(path: &str, progress: bool) -> Result<Input, String> {
    let read = Arc::new(AtomicU64::new(0));
    let (name, raw, total): (String, Box<dyn Read>, Option<u64>) = if path == "-" {
        ("(stdin)".into(), Box::new(io::stdin()), None)
    } else {
        let f = File::open(path).map_err(|e| format!("{path}: cannot open: {e}"))?;
        let meta = f.metadata().map_err(|e| format!("{path}: {e}"))?;
        if meta.is_dir() {
            return Err(format!("{path}: is a directory"));
        }
        (path.to_owned(), Box::new(f), Some(meta.len()))
    };
    let counting = Counting {
        inner: raw,
        read: read.clone(),
    };
    let mut br = BufReader::with_capacity(BUF, counting);
    let head = br
        .fill_buf()
        .map_err(|e| format!("{name}: cannot read: {e}"))?;
    let reader: Box<dyn BufRead> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            BUF,
            flate2::bufread::MultiGzDecoder::new(br),
        ))
    } else {
        Box::new(br)
    };
    let progress =
        (progress && total.is_some_and(|t| t > 0) && io::stderr().is_terminal()).then(|| {
            Progress {
                last: Instant::now(),
                shown: false,
            }
        });
    Ok(Input {
        name,
        reader,
        read,
        total,
        progress,
        line_no: 0,
    })
}

impl Input {
    /// Reads the next line into `buf` (without its `\n`, and without a `\r` before it).
    /// Returns false at the end.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> Result<bool, String> {
        buf.clear();
        let n = self
            .reader
            .read_until(b'\n', buf)
            .map_err(|e| format!("{}: read error after line {}: {e}", self.name, self.line_no))?;
        if n == 0 {
            self.finish_progress();
            return Ok(false);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        self.line_no += 1;
        if self.line_no % 65_536 == 0 {
            self.tick();
        }
        Ok(true)
    }

    fn tick(&mut self) {
        let Some(p) = self.progress.as_mut() else {
            return;
        };
        if p.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        p.last = Instant::now();
        p.shown = true;
        let done = self.read.load(Ordering::Relaxed);
        let total = self.total.unwrap_or(1).max(1);
        let pct = (done.min(total) * 100 / total) as usize;
        let bar: String = (0..30)
            .map(|i| if i * 100 / 30 < pct { '#' } else { '.' })
            .collect();
        let mut e = io::stderr().lock();
        let _ = write!(
            e,
            "\r{} [{bar}] {pct:3}% {} lines",
            short(&self.name),
            self.line_no
        );
        let _ = e.flush();
    }

    fn finish_progress(&mut self) {
        if let Some(p) = self.progress.take()
            && p.shown
        {
            let mut e = io::stderr().lock();
            let _ = write!(e, "\r{:79}\r", "");
            let _ = e.flush();
        }
    }
}

struct Progress {
    last: Instant,
    shown: bool,
}

fn short(name: &str) -> &str {
    Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(name)
}
