//! Which formatted events are wholly in their files: the writer counts an event in
//! `written` once every byte of its lines is in a file, and in `dropped` when it gives up
//! on them (a close that timed out), so that `written` is the number of whole lines the
//! events left in the files, exactly.
//!
//! Each target's buffer is one stream of bytes: a formatted event is marked with where
//! its lines end in each stream, and a stream advances as its file takes bytes. A line
//! that a short write cut (disk full) is taken by the file whole, but its rest waits in
//! the file (see [`SharedFile::is_cut`](crate::file::SharedFile::is_cut)): until that rest
//! is written, the stream counts as not past the line. Likewise the bytes a syslog
//! destination took but has not sent yet are held: the stream is not past them.

use std::collections::VecDeque;

use crate::event::{KIND_COUNT, Kind};
use crate::format::{TARGET_COUNT, Target};

/// An event formatted: its kind, and where its lines end in each target's stream.
struct Mark {
    kind: Kind,
    ends: [i64; TARGET_COUNT],
}

/// The events formatted but not wholly written, in order (see the module documentation).
#[derive(Default)]
pub(super) struct Ledger {
    /// Per target: the stream position of the first byte still in the buffer (a header put
    /// ahead of the buffered lines moves it back).
    base: [i64; TARGET_COUNT],
    /// Per target: the line that a short write cut, named by its file, and how many of its
    /// bytes (taken from the buffer) are not in the file yet.
    cut: [Option<(u64, usize)>; TARGET_COUNT],
    /// Per target: bytes taken from the buffer by a syslog destination, not sent yet.
    held: [usize; TARGET_COUNT],
    marks: VecDeque<Mark>,
}

impl Ledger {
    /// An event of `kind` was formatted; `lens` are the buffers' lengths after it.
    #[inline]
    pub(super) fn formatted(&mut self, kind: Kind, lens: [usize; TARGET_COUNT]) {
        let ends = std::array::from_fn(|t| self.base[t] + lens[t] as i64);
        self.marks.push_back(Mark { kind, ends });
    }

    /// `n` bytes left the front of `t`'s buffer: taken by the file, or dropped with no
    /// file to take them.
    pub(super) fn taken(&mut self, t: Target, n: usize) {
        self.base[t as usize] += n as i64;
    }

    /// `n` bytes were put ahead of `t`'s buffered lines (a new file's header).
    pub(super) fn put_ahead(&mut self, t: Target, n: usize) {
        self.base[t as usize] -= n as i64;
    }

    /// The line a short write cut in `t`'s file: its number and the bytes not in the file.
    pub(super) fn set_cut(&mut self, t: Target, cut: (u64, usize)) {
        self.cut[t as usize] = Some(cut);
    }

    /// The number of the line cut in `t`'s file, when one is.
    pub(super) fn cut(&self, t: Target) -> Option<u64> {
        self.cut[t as usize].map(|(id, _)| id)
    }

    /// The cut line of `t` is finished, or given up.
    pub(super) fn clear_cut(&mut self, t: Target) {
        self.cut[t as usize] = None;
    }

    /// Of the bytes taken from `t`'s buffer, the last `n` are not sent yet (a syslog
    /// destination holds them).
    pub(super) fn set_held(&mut self, t: Target, n: usize) {
        self.held[t as usize] = n;
    }

    /// Removes the events now wholly in their files; returns how many.
    pub(super) fn complete(&mut self) -> u64 {
        let done: [i64; TARGET_COUNT] = std::array::from_fn(|t| {
            self.base[t] - self.cut[t].map_or(0, |(_, rest)| rest as i64) - self.held[t] as i64
        });
        let mut n = 0;
        while let Some(m) = self.marks.front() {
            if m.ends.iter().zip(&done).any(|(end, done)| end > done) {
                break;
            }
            self.marks.pop_front();
            n += 1;
        }
        n
    }

    /// Removes every event left (their lines will not be written); returns how many of
    /// each kind.
    pub(super) fn forget(&mut self) -> [u64; KIND_COUNT] {
        let mut lost = [0; KIND_COUNT];
        for m in self.marks.drain(..) {
            lost[m.kind.index()] += 1;
        }
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens(main: usize, panic: usize) -> [usize; TARGET_COUNT] {
        let mut l = [0; TARGET_COUNT];
        l[Target::Main as usize] = main;
        l[Target::Panic as usize] = panic;
        l
    }

    #[test]
    fn an_event_is_written_once_all_its_lines_are() {
        let mut l = Ledger::default();
        l.formatted(Kind::Delivery, lens(10, 0));
        l.formatted(Kind::Error, lens(10, 7)); // a line in the paniclog only
        l.formatted(Kind::Delivery, lens(25, 7));
        assert_eq!(l.complete(), 0);
        l.taken(Target::Main, 10);
        assert_eq!(l.complete(), 1);
        // The second waits for its paniclog line.
        assert_eq!(l.complete(), 0);
        l.taken(Target::Panic, 7);
        assert_eq!(l.complete(), 1);
        // The third's line was taken, but a short write cut it: 5 bytes wait.
        l.taken(Target::Main, 15);
        l.set_cut(Target::Main, (3, 5));
        assert_eq!(l.complete(), 0);
        l.clear_cut(Target::Main);
        assert_eq!(l.complete(), 1);
    }

    #[test]
    fn a_header_put_ahead_is_written_first() {
        let mut l = Ledger::default();
        l.formatted(Kind::Delivery, lens(10, 0));
        l.put_ahead(Target::Main, 4);
        l.taken(Target::Main, 10);
        assert_eq!(l.complete(), 0);
        l.taken(Target::Main, 4);
        assert_eq!(l.complete(), 1);
    }

    #[test]
    fn what_a_destination_holds_is_not_written_yet() {
        let mut l = Ledger::default();
        l.formatted(Kind::Delivery, lens(10, 0));
        l.formatted(Kind::Delivery, lens(20, 0));
        l.taken(Target::Main, 20);
        l.set_held(Target::Main, 15);
        assert_eq!(l.complete(), 0);
        l.set_held(Target::Main, 10);
        assert_eq!(l.complete(), 1);
        l.set_held(Target::Main, 0);
        assert_eq!(l.complete(), 1);
    }

    #[test]
    fn what_is_given_up_is_counted_by_kind() {
        let mut l = Ledger::default();
        l.formatted(Kind::Delivery, lens(10, 0));
        l.formatted(Kind::Rejection, lens(10, 0));
        l.formatted(Kind::Delivery, lens(20, 0));
        let lost = l.forget();
        assert_eq!(lost[Kind::Delivery.index()], 2);
        assert_eq!(lost[Kind::Rejection.index()], 1);
        assert_eq!(l.complete(), 0);
    }
}
