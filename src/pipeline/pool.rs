//! The event boxes that travel from the producers to the writer and back.
//!
//! A producer takes a box, fills it and queues it; the writer formats it and gives it back.
//! Boxes are made ahead of need, so the producers allocate nothing in the steady state.
//!
//! How many boxes circulate matters for speed. Every box in flight was written by one core
//! and is read by another; a producer that runs a whole default queue (65,536 events, some
//! 40 MiB) ahead of the writer makes the writer fetch every event from main memory. So in
//! block mode the pool keeps [`WORKING_SET`] boxes (or `queue_size`, if smaller) while the
//! writer keeps up: a producer that finds the pool empty waits for the writer to give one
//! back, as it would wait for room in a full queue, and the events in flight stay in the
//! cache. (Such a wait ends after [`MAX_WAIT`], or `block_timeout`,
//! in any case.) Only when the writer takes nothing off the queue for [`STALL`] (a write stalled in
//! the kernel, a slow disk) does a producer take a box from the reserve, or make one when
//! the reserve is empty; from then on producers do so without waiting, until the writer
//! moves again, and the backlog can grow to the whole `queue_size`: that slack is what the
//! queue is for. Once the writer runs again it puts the extra boxes in the reserve, every
//! other one it is given back, so that the boxes in circulation shrink to the working set
//! without leaving the producers short, and the next stall finds its boxes made. While the
//! pool runs low (producers keep up with the writer) the writer also makes boxes for the
//! reserve ahead of need, up to a box for every slot of the queue, so that a stall after
//! such a load does not make the producers allocate either.
//!
//! Every box a producer or the writer does not pass on goes back through the pool (an
//! event dropped on a full queue, one the formatter failed on), so that the count of boxes
//! in circulation stays true; otherwise the working set would shrink. A box lost to a
//! panic in a hook is made up for by [`Pool::recount`](crate::pipeline::pool::Pool::recount), when the writer stays idle.
//!
//! In drop mode a producer never waits: an empty pool gives a box from the reserve or a new
//! one, and the writer keeps [`SPARE_LOW`] boxes spare, making more as the backlog grows.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::event::Event;

/// Boxes in circulation in block mode while the writer keeps up (and the boxes every
/// logger starts with): about 650 KiB of events, which stay in the caches between the
/// producer's core and the writer's. (4,096 boxes, 2.6 MiB, ran 10 to 15% slower where a
/// core's own cache is 2 MiB.)
pub const WORKING_SET: usize = 1024;
/// How long the writer may take nothing off the queue before producers that wait for a box
/// make new ones (block mode; `block_timeout`, when shorter, is used instead). Longer than
/// an ordinary 64 KiB write, shorter than a stalled one.
pub const STALL: Duration = Duration::from_millis(1);
/// Longest wait of a producer for a box while the writer moves (block mode, no
/// `block_timeout`); then it takes one from the reserve.
pub const MAX_WAIT: Duration = Duration::from_millis(16);
/// When fewer boxes than this (or than `queue_size`) are spare in drop mode, the writer
/// makes more for the pool, so that a growing backlog does not make the MTA's threads
/// allocate. There are never more boxes in all than `queue_size` and this many more.
pub const SPARE_LOW: usize = 1024;
/// When fewer boxes than this (or than `queue_size`) are spare in block mode, the load is
/// high and the writer makes boxes for the reserve, for a stall to find made.
pub const RESERVE_LOW: usize = WORKING_SET / 4;
/// Shortest time between the writer's two idle looks at the boxes that correct their
/// count ([`Pool::recount`]): far longer than a hook holds a box.
pub const RECOUNT_GAP: Duration = Duration::from_millis(100);
/// Boxes the writer makes at most per pass.
const TOP_UP: usize = 1024;
/// Boxes the writer makes at most per pass for the reserve (block mode): few enough that
/// making them (fresh memory, page faults) never holds the writer up for anything near
/// [`STALL`].
const RESERVE_STEP: usize = 64;
/// Largest heap text buffer of an event that goes back to the pool with its box (larger
/// ones are freed, and the writer makes a plain box in their place).
const MAX_CAPACITY: usize = 16 * 1024;

/// One pause of a producer waiting for the writer, the `step`th: a spin that doubles for
/// eight steps, then a yield of the CPU (to the writer, on a busy machine).
#[inline]
pub fn pause(step: u32) {
    if step < 8 {
        for _ in 0..1u32 << step {
            std::hint::spin_loop();
        }
    } else {
        std::thread::yield_now();
    }
}

/// The boxes not in use, and how many there are in all.
pub struct Pool {
    tx: Sender<Box<Event>>,
    rx: Receiver<Box<Event>>,
    /// Boxes kept out of circulation until a stall needs them.
    reserve_tx: Sender<Box<Event>>,
    reserve_rx: Receiver<Box<Event>>,
    /// Boxes made and not freed, the reserve's included (a box lost to a panic in a hook
    /// stays counted).
    boxes: AtomicUsize,
    /// One more than the writer's `dequeued` count at which a producer last found the
    /// writer stalled; 0 = never.
    stalled_at: AtomicU64,
    /// Boxes kept in circulation (block mode) or in all (drop mode).
    target: usize,
    /// Boxes the writer makes at most: one for every slot of the queue, and the spare ones.
    limit: usize,
    /// Block mode: producers wait for a box while the writer moves.
    gated: bool,
    /// How long the writer may stand still before waiting producers make boxes.
    stall: Duration,
    /// Longest wait for a box in all.
    max_wait: Duration,
}

/// What the idle writer saw of the boxes (see [`Pool::recount`]).
#[derive(Clone, Copy, Debug)]
pub struct IdleLook {
    boxes: usize,
    home: usize,
    taken: u64,
    at: Instant,
}

impl IdleLook {
    fn same(&self, other: &IdleLook) -> bool {
        (self.boxes, self.home, self.taken) == (other.boxes, other.home, other.taken)
    }
}

impl Pool {
    /// A pool for a queue of `queue_size` events, filled with its first boxes. `gated` in
    /// block mode, where `block_timeout` (if any) bounds a producer's wait for a box.
    pub fn new(queue_size: usize, gated: bool, block_timeout: Option<Duration>) -> Pool {
        let bound = |d: Duration| block_timeout.map_or(d, |t| t.min(d));
        Pool::with_waits(queue_size, gated, bound(STALL), bound(MAX_WAIT))
    }

    /// [`Pool::new`] with the stall time and the longest wait given.
    pub fn with_waits(queue_size: usize, gated: bool, stall: Duration, max_wait: Duration) -> Pool {
        let limit = queue_size + SPARE_LOW.min(queue_size);
        // Room for every box: a full queue, the spare ones and those in the producers' hands.
        let room = limit + 64;
        let (tx, rx) = bounded(room);
        let (reserve_tx, reserve_rx) = bounded(room);
        let first = queue_size.min(WORKING_SET);
        for _ in 0..first {
            let _ = tx.try_send(Box::default());
        }
        Pool {
            tx,
            rx,
            reserve_tx,
            reserve_rx,
            boxes: AtomicUsize::new(first),
            stalled_at: AtomicU64::new(0),
            target: if gated { first } else { limit },
            limit,
            gated,
            stall,
            max_wait,
        }
    }

    /// Boxes made and not freed.
    pub fn boxes(&self) -> usize {
        self.boxes.load(Ordering::Relaxed)
    }

    /// Boxes waiting in the pool.
    pub fn spare(&self) -> usize {
        self.rx.len()
    }

    /// Boxes in the reserve.
    pub fn reserve(&self) -> usize {
        self.reserve_rx.len()
    }

    /// A box for a producer, and the microseconds it waited for it. When none is spare:
    /// in block mode, waits while the writer moves (`progress` is its count of events taken
    /// off the queue; `wake` unparks it); otherwise, or once the writer stands still for
    /// the stall time, or after the longest wait, takes one from the reserve or makes one.
    #[inline]
    pub fn take(&self, progress: &AtomicU64, wake: impl Fn()) -> (Box<Event>, u32) {
        match self.rx.try_recv() {
            Ok(b) => (b, 0),
            Err(_) => self.take_slow(progress, wake),
        }
    }

    /// A box without waiting.
    pub fn take_now(&self) -> Box<Event> {
        self.rx.try_recv().unwrap_or_else(|_| self.unreserve())
    }

    /// The writer, idle with the queue empty, having taken `taken` events so far: every box
    /// is spare or in the reserve, but for those producers are filling just now, so the
    /// count of boxes, which a box dropped without coming back (a panic in a hook) left too
    /// high, is set to their number. A box in a producer's hands is in neither place, so
    /// one look could forget it: the count is corrected only when a second look, at least
    /// [`RECOUNT_GAP`] after the first with no event taken in between, sees the same
    /// numbers. Returns how many boxes the count forgot.
    pub fn recount(&self, looked: &mut Option<IdleLook>, taken: u64, now: Instant) -> usize {
        let look = IdleLook {
            boxes: self.boxes(),
            home: self.spare() + self.reserve(),
            taken,
            at: now,
        };
        match *looked {
            Some(first) if first.same(&look) => {
                if now.duration_since(first.at) < RECOUNT_GAP || look.boxes <= look.home {
                    return 0;
                }
                // Relative, so that a box a producer makes meanwhile stays counted.
                let lost = look.boxes - look.home;
                self.boxes.fetch_sub(lost, Ordering::Relaxed);
                *looked = None;
                lost
            }
            _ => {
                *looked = Some(look);
                0
            }
        }
    }

    #[cold]
    fn take_slow(&self, progress: &AtomicU64, wake: impl Fn()) -> (Box<Event>, u32) {
        if !self.gated {
            return (self.unreserve(), 0);
        }
        let seen = progress.load(Ordering::Relaxed);
        if self.stalled_at.load(Ordering::Relaxed) == seen + 1 {
            return (self.unreserve(), 0);
        }
        wake();
        let start = Instant::now();
        let b = self.wait(progress, seen, start);
        let waited = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
        (b.unwrap_or_else(|| self.unreserve()), waited)
    }

    /// A box from the reserve, or a new one.
    fn unreserve(&self) -> Box<Event> {
        self.reserve_rx.try_recv().unwrap_or_else(|_| {
            self.boxes.fetch_add(1, Ordering::Relaxed);
            Box::default()
        })
    }

    /// Spins, then yields, until a box comes back; `None` once the writer's count stood
    /// still for the stall time (recorded, so that other producers do not wait again
    /// before it moves), or after the longest wait.
    fn wait(&self, progress: &AtomicU64, mut seen: u64, start: Instant) -> Option<Box<Event>> {
        let mut still_since = start;
        let mut step = 0u32;
        // The writer counts the events of a pass after it hands their boxes back: polling
        // that count, a line it writes once a pass, leaves the pool's lines alone until
        // boxes come (polling the pool would pull them away from the writer at every
        // step). The first step always tries the pool: boxes may have come back since the
        // caller's try.
        let mut tried = None;
        loop {
            pause(step);
            step += 1;
            let count = progress.load(Ordering::Acquire);
            if tried != Some(count) || step % 16 == 0 {
                tried = Some(count);
                if let Ok(b) = self.rx.try_recv() {
                    return Some(b);
                }
            }
            if step % 16 != 0 {
                continue;
            }
            let now = Instant::now();
            let count = progress.load(Ordering::Relaxed);
            if count != seen {
                seen = count;
                still_since = now;
            } else if now.duration_since(still_since) >= self.stall {
                self.stalled_at.store(seen + 1, Ordering::Relaxed);
                return None;
            }
            if now.duration_since(start) >= self.max_wait {
                return None;
            }
        }
    }

    /// The writer gives back the box of its `n`th event: to the pool; or, in block mode,
    /// to the reserve while more boxes than the working set circulate (every other one,
    /// so that waiting producers still get boxes); or freed, when its text buffer grew
    /// large.
    #[inline]
    pub fn give_back(&self, ev: Box<Event>, n: u64) {
        if ev.capacity() > MAX_CAPACITY {
            self.boxes.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        // `boxes` first: the reserve's length is read only when there may be extra boxes.
        if self.gated
            && n & 1 == 1
            && self.boxes() > self.target
            && self.circulating() > self.target
        {
            if let Err(e) = self.reserve_tx.try_send(ev) {
                drop(e.into_inner());
                self.boxes.fetch_sub(1, Ordering::Relaxed);
            }
            return;
        }
        self.put_back(ev);
    }

    /// Boxes made and not in the reserve.
    fn circulating(&self) -> usize {
        self.boxes().saturating_sub(self.reserve())
    }

    /// Returns an unused box (the event was dropped).
    pub fn put_back(&self, ev: Box<Event>) {
        if self.tx.try_send(ev).is_err() {
            self.boxes.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The writer adds boxes to the pool when fewer than the target circulate: in block
    /// mode to replace freed ones (from the reserve when it has some), in drop mode when
    /// fewer than [`SPARE_LOW`] are spare. In block mode with fewer than [`RESERVE_LOW`]
    /// spare it makes boxes for the reserve. Returns how many it made.
    pub fn top_up(&self) -> usize {
        let spare = self.spare();
        let circulating = self.circulating();
        if circulating < self.target && (self.gated || spare < SPARE_LOW.min(self.target)) {
            self.fill_pool(self.target - circulating)
        } else if self.gated && spare < RESERVE_LOW.min(self.target) && self.boxes() < self.limit {
            self.fill_reserve(RESERVE_STEP.min(self.limit - self.boxes()))
        } else {
            0
        }
    }

    /// Puts up to `want` boxes (at most [`TOP_UP`]) into the pool: the reserve's first,
    /// then new ones. Returns how many it made.
    fn fill_pool(&self, want: usize) -> usize {
        let mut made = 0;
        for _ in 0..TOP_UP.min(want) {
            let b = self.reserve_rx.try_recv().unwrap_or_else(|_| {
                made += 1;
                Box::default()
            });
            // The pool has room for every box; should it not, the box is freed.
            if self.tx.try_send(b).is_err() {
                self.boxes.fetch_sub(1, Ordering::Relaxed);
                break;
            }
        }
        self.boxes.fetch_add(made, Ordering::Relaxed);
        made
    }

    /// Makes `want` new boxes for the reserve. Returns how many it made.
    fn fill_reserve(&self, want: usize) -> usize {
        let made = (0..want)
            .take_while(|_| self.reserve_tx.try_send(Box::default()).is_ok())
            .count();
        self.boxes.fetch_add(made, Ordering::Relaxed);
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Field, Kind};
    use std::sync::Arc;

    const LONG: Duration = Duration::from_secs(30);

    #[test]
    fn a_pool_starts_with_its_working_set() {
        let p = Pool::new(65536, true, None);
        assert_eq!((p.boxes(), p.spare()), (WORKING_SET, WORKING_SET));
        let p = Pool::new(16, false, None);
        assert_eq!((p.boxes(), p.spare()), (16, 16));
    }

    #[test]
    fn block_mode_waits_for_a_box_while_the_writer_moves() {
        // The writer moves every 5 ms, well under the 100 ms stall time, and hands a box
        // back after 200 ms: the producer waits for it, past the stall time, and makes
        // none.
        let p = Arc::new(Pool::with_waits(4, true, Duration::from_millis(100), LONG));
        let progress = Arc::new(AtomicU64::new(0));
        let mut held: Vec<_> = (0..4).map(|_| p.take(&progress, || {}).0).collect();
        assert_eq!(p.spare(), 0);
        let (p2, pr2) = (Arc::clone(&p), Arc::clone(&progress));
        let writer = std::thread::spawn(move || {
            for _ in 0..40 {
                std::thread::sleep(Duration::from_millis(5));
                pr2.fetch_add(1, Ordering::Relaxed);
            }
            p2.give_back(held.pop().unwrap(), 0);
            held
        });
        let t = Instant::now();
        let (b, waited_us) = p.take(&progress, || {});
        let held = writer.join().unwrap();
        assert!(t.elapsed() >= Duration::from_millis(200));
        assert!(waited_us >= 200_000, "{waited_us} µs");
        assert_eq!((p.boxes(), p.spare(), p.reserve()), (4, 0, 0));
        drop((b, held));
    }

    #[test]
    fn a_wait_for_a_box_ends_at_the_longest_wait_even_while_the_writer_moves() {
        let max_wait = Duration::from_millis(40);
        let p = Arc::new(Pool::with_waits(4, true, LONG, max_wait));
        let progress = Arc::new(AtomicU64::new(0));
        let _held: Vec<_> = (0..4).map(|_| p.take(&progress, || {}).0).collect();
        let pr2 = Arc::clone(&progress);
        let writer = std::thread::spawn(move || {
            for _ in 0..40 {
                std::thread::sleep(Duration::from_millis(5));
                pr2.fetch_add(1, Ordering::Relaxed);
            }
        });
        let (_b, waited_us) = p.take(&progress, || {});
        writer.join().unwrap();
        assert!(waited_us >= 40_000, "{waited_us} µs");
        assert_eq!(p.boxes(), 5, "a new box after the longest wait");
        // block_timeout, when shorter, bounds both the stall time and the longest wait.
        let p = Pool::new(4, true, Some(Duration::from_micros(300)));
        assert_eq!(
            (p.stall, p.max_wait),
            (Duration::from_micros(300), Duration::from_micros(300))
        );
        let p = Pool::new(4, true, Some(Duration::from_secs(5)));
        assert_eq!((p.stall, p.max_wait), (STALL, MAX_WAIT));
    }

    #[test]
    fn the_idle_writer_recounts_boxes_lost_to_a_panic() {
        let p = Pool::with_waits(4, true, LONG, LONG);
        let mut looked = None;
        let t0 = Instant::now();
        // A box in a producer's hands at the first look is not forgotten: it comes back
        // before the second, or the writer takes an event meanwhile.
        let held = p.take_now();
        assert_eq!(p.recount(&mut looked, 0, t0), 0);
        p.put_back(held);
        assert_eq!(p.recount(&mut looked, 0, t0 + RECOUNT_GAP), 0);
        assert_eq!(p.boxes(), 4);
        let held = p.take_now();
        assert_eq!(p.recount(&mut looked, 0, t0 + 2 * RECOUNT_GAP), 0);
        assert_eq!(p.recount(&mut looked, 1, t0 + 3 * RECOUNT_GAP), 0);
        p.put_back(held);
        assert_eq!(p.boxes(), 4);

        let mut looked = None;
        let lost = p.take_now();
        drop(lost);
        assert_eq!((p.boxes(), p.spare()), (4, 3));
        assert_eq!(p.circulating(), 4, "the count still has the lost box");
        assert_eq!(p.recount(&mut looked, 5, t0), 0);
        assert_eq!(
            p.recount(&mut looked, 5, t0 + RECOUNT_GAP / 2),
            0,
            "too soon"
        );
        assert_eq!(p.boxes(), 4);
        assert_eq!(p.recount(&mut looked, 5, t0 + RECOUNT_GAP), 1);
        assert_eq!(p.boxes(), 3);
        assert_eq!(p.top_up(), 1);
        assert_eq!((p.boxes(), p.spare()), (4, 4));
    }

    #[test]
    fn a_stalled_writer_lets_producers_make_boxes_without_waiting_again() {
        let stall = Duration::from_millis(20);
        let p = Pool::with_waits(4, true, stall, LONG);
        let progress = AtomicU64::new(7);
        let woken = AtomicU64::new(0);
        let wake = || {
            woken.fetch_add(1, Ordering::Relaxed);
        };
        let _held: Vec<_> = (0..4).map(|_| p.take(&progress, wake).0).collect();
        assert_eq!(woken.load(Ordering::Relaxed), 0);
        let t = Instant::now();
        let _a = p.take(&progress, wake);
        assert!(t.elapsed() >= stall);
        assert_eq!((p.boxes(), woken.load(Ordering::Relaxed)), (5, 1));
        // Still stalled: the next producer makes a box at once, without waking anyone.
        let _b = p.take(&progress, wake);
        assert_eq!((p.boxes(), woken.load(Ordering::Relaxed)), (6, 1));
        // The writer moved: the next empty pool is waited on again.
        progress.fetch_add(1, Ordering::Relaxed);
        let _c = p.take(&progress, wake);
        assert_eq!((p.boxes(), woken.load(Ordering::Relaxed)), (7, 2));
    }

    #[test]
    fn drop_mode_never_waits_and_the_writer_keeps_boxes_spare() {
        let p = Pool::new(65536, false, None);
        let progress = AtomicU64::new(0);
        let held: Vec<_> = (0..WORKING_SET + 1)
            .map(|_| p.take(&progress, || panic!("drop mode woke the writer")).0)
            .collect();
        assert_eq!((p.boxes(), p.spare()), (WORKING_SET + 1, 0));
        assert_eq!(p.top_up(), TOP_UP);
        assert_eq!(p.top_up(), 0, "enough spare");
        for (n, b) in held.into_iter().enumerate() {
            p.give_back(b, n as u64);
        }
        assert_eq!(
            p.boxes(),
            WORKING_SET + 1 + TOP_UP,
            "drop mode keeps its boxes"
        );
        assert_eq!(p.reserve(), 0);
        // Never more than twice a small queue in all.
        let small = Pool::new(16, false, None);
        let all: Vec<_> = (0..20).map(|_| small.take_now()).collect();
        assert_eq!(small.top_up(), 12);
        assert_eq!(small.top_up(), 0);
        assert_eq!((small.boxes(), small.spare()), (32, 12));
        drop(all);
    }

    #[test]
    fn extra_boxes_go_to_the_reserve_and_come_back_in_a_stall() {
        let p = Pool::with_waits(4, true, Duration::from_millis(5), LONG);
        let held: Vec<_> = (0..10).map(|_| p.take_now()).collect();
        assert_eq!(p.boxes(), 10);
        for (n, b) in held.into_iter().enumerate() {
            p.give_back(b, n as u64);
        }
        // Six boxes over the working set: every odd-numbered one went to the reserve while
        // more than four circulated (boxes 1, 3, 5, 7, 9 with 10, 9, 8, 7, 6 circulating).
        assert_eq!((p.boxes(), p.spare(), p.reserve()), (10, 5, 5));
        assert_eq!(p.top_up(), 0);
        // In a stall the reserve's boxes are used before any is made.
        let progress = AtomicU64::new(0);
        let _held: Vec<_> = (0..10).map(|_| p.take(&progress, || {}).0).collect();
        assert_eq!((p.boxes(), p.spare(), p.reserve()), (10, 0, 0));
        let _one_more = p.take(&progress, || {});
        assert_eq!(p.boxes(), 11);
    }

    #[test]
    fn under_load_the_writer_makes_boxes_for_the_reserve() {
        let p = Pool::new(WORKING_SET + 100, true, None);
        assert_eq!(p.top_up(), 0, "an idle pool needs nothing");
        let held: Vec<_> = (0..WORKING_SET - RESERVE_LOW + 1)
            .map(|_| p.take_now())
            .collect();
        // Fewer than RESERVE_LOW spare: boxes for every slot and the spare ones, a few at
        // a time.
        let passes: Vec<usize> = std::iter::from_fn(|| Some(p.top_up()).filter(|&n| n > 0))
            .take(1000)
            .collect();
        assert_eq!(passes.iter().sum::<usize>(), 100 + SPARE_LOW);
        assert!(passes.iter().all(|&n| n <= RESERVE_STEP), "{passes:?}");
        assert_eq!(p.top_up(), 0);
        assert_eq!(p.reserve(), 100 + SPARE_LOW);
        assert_eq!(p.boxes(), WORKING_SET + 100 + SPARE_LOW);
        assert_eq!(
            p.spare(),
            RESERVE_LOW - 1,
            "the pool itself stays at the working set"
        );
        drop(held);
    }

    #[test]
    fn big_boxes_are_freed_and_replaced() {
        let p = Pool::with_waits(4, true, LONG, LONG);
        let big = vec![b'x'; MAX_CAPACITY + 1];
        let mut b = p.take_now();
        b.reset(Kind::Error);
        b.push(Field::Note, &big, usize::MAX);
        p.give_back(b, 0);
        assert_eq!((p.boxes(), p.spare()), (3, 3));
        assert_eq!(p.top_up(), 1);
        assert_eq!((p.boxes(), p.spare()), (4, 4));
        // A replacement comes from the reserve when it has one.
        let all: Vec<_> = (0..6).map(|_| p.take_now()).collect();
        for (n, b) in all.into_iter().enumerate() {
            p.give_back(b, n as u64);
        }
        assert_eq!((p.boxes(), p.reserve()), (6, 2));
        let mut b = p.take_now();
        b.reset(Kind::Error);
        b.push(Field::Note, &big, usize::MAX);
        p.give_back(b, 0);
        assert_eq!((p.boxes(), p.spare(), p.reserve()), (5, 3, 2));
        assert_eq!(p.top_up(), 0, "taken from the reserve, none made");
        assert_eq!((p.boxes(), p.spare(), p.reserve()), (5, 4, 1));
    }
}
