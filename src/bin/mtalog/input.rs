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
    // A file of unknown size (standard input, a pipe) gets a count of the bytes read
    // instead of a bar.
    let total = total.filter(|t| *t > 0);
    let progress = (progress && io::stderr().is_terminal()).then(|| Progress {
        last: Instant::now(),
        shown: false,
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
        if self.line_no % 4_096 == 0 {
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
        let text = progress_text(short(&self.name), done, self.total, self.line_no);
        let mut e = io::stderr().lock();
        let _ = write!(e, "\r{text}");
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

/// The progress line: a bar and percentage when the size is known, the bytes read so far
/// otherwise (standard input, a pipe); then the lines read.
pub fn progress_text(name: &str, done: u64, total: Option<u64>, lines: u64) -> String {
    match total {
        Some(total) => {
            let total = total.max(1);
            let pct = (done.min(total) * 100 / total) as usize;
            let bar: String = (0..30)
                .map(|i| if i * 100 / 30 < pct { '#' } else { '.' })
                .collect();
            format!("{name} [{bar}] {pct:3}% {lines} lines")
        }
        None => format!("{name} {} read, {lines} lines", bytes_text(done)),
    }
}

/// `1023 B`, `1.5 KiB`, `12.3 MiB`, `1.2 GiB`.
fn bytes_text(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    if f < K {
        format!("{n} B")
    } else if f < K * K {
        format!("{:.1} KiB", f / K)
    } else if f < K * K * K {
        format!("{:.1} MiB", f / (K * K))
    } else {
        format!("{:.1} GiB", f / (K * K * K))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_shows_a_bar_for_files_and_the_bytes_read_for_a_stream() {
        assert_eq!(
            progress_text("mainlog", 50, Some(100), 4096),
            "mainlog [###############...............]  50% 4096 lines"
        );
        assert_eq!(
            progress_text("mainlog", 100, Some(100), 9),
            "mainlog [##############################] 100% 9 lines"
        );
        assert_eq!(
            progress_text("(stdin)", 1023, None, 8192),
            "(stdin) 1023 B read, 8192 lines"
        );
        assert_eq!(
            progress_text("(stdin)", 1536, None, 1),
            "(stdin) 1.5 KiB read, 1 lines"
        );
        assert_eq!(
            progress_text("(stdin)", 12_900_000, None, 70_000),
            "(stdin) 12.3 MiB read, 70000 lines"
        );
        assert_eq!(
            progress_text("(stdin)", 3 << 30, None, 2),
            "(stdin) 3.0 GiB read, 2 lines"
        );
    }
}
