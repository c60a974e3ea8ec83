//! Owned events: what a hook copies out of the host's objects before it returns.
//!
//! An [`Event`](crate::event::Event) keeps every text field in one byte arena with an end offset per
//! [`Field`](crate::event::Field): in place up to [`INLINE_TEXT`](crate::event::INLINE_TEXT) bytes, so that a typical event is one
//! block of memory, and in a heap buffer beyond. Events are boxed and recycled through a
//! pool by the pipeline (see `pool`), so the producer side allocates nothing in the
//! steady state.
//!
//! Fields must be pushed in increasing [`Field`](crate::event::Field) order; a field that is never pushed is empty.

/// Marker appended to a field or text that was cut at its bound.
pub const TRUNCATED_MARKER: &[u8] = b"[truncated]";

/// `b` without a UTF-8 sequence that a cut left incomplete at its end, so that a value cut
/// at its bound never ends in half a character (bytes that are not UTF-8 stay as they are).
pub fn trim_partial_utf8(b: &[u8]) -> &[u8] {
    let n = b.len();
    for back in 1..=n.min(3) {
        let c = b[n - back];
        if c & 0xC0 == 0x80 {
            continue;
        }
        let need = match c {
            0xF8.. => 1,
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if need > back { &b[..n - back] } else { b };
    }
    b
}

/// What happened: one variant per hook, plus the records that have no hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `log_reception`: one recipient of a message was accepted.
    Reception,
    /// `log_attempt`: a delivery attempt is about to start.
    Attempt,
    /// `log_transient_failure`: an attempt failed and the message stays queued.
    TransientFailure,
    /// `log_permanent_failure`: 5xx reply or expiry; the message is given up.
    PermanentFailure,
    /// `log_delivery`: the remote host accepted the message.
    Delivery,
    /// `log_rejection`: an inbound session or transaction was refused.
    Rejection,
    /// `log_error`: a diagnostic text of the MTA.
    Error,
    /// `mtalog_acct_log`: authentication / authorization record.
    Acct,
    /// `mtalog_import_log`: spool import result.
    Import,
}

/// Number of [`Kind`] values.
pub const KIND_COUNT: usize = Kind::Import as usize + 1;

impl Kind {
    /// Every kind, in stats order.
    pub const ALL: [Kind; KIND_COUNT] = [
        Kind::Reception,
        Kind::Attempt,
        Kind::TransientFailure,
        Kind::PermanentFailure,
        Kind::Delivery,
        Kind::Rejection,
        Kind::Error,
        Kind::Acct,
        Kind::Import,
    ];

    /// Index of this kind in [`Kind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// A short lower-case name for messages and stats.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Reception => "reception",
            Kind::Attempt => "attempt",
            Kind::TransientFailure => "transient_failure",
            Kind::PermanentFailure => "permanent_failure",
            Kind::Delivery => "delivery",
            Kind::Rejection => "rejection",
            Kind::Error => "error",
            Kind::Acct => "acct",
            Kind::Import => "import",
        }
    }
}

/// A point in time: seconds and microseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub sec: i64,
    /// Microseconds, 0..=999_999.
    pub usec: u32,
}

impl Timestamp {
    /// Builds a timestamp, folding out-of-range microseconds into the seconds.
    pub fn new(sec: i64, usec: i64) -> Timestamp {
        let sec = sec.saturating_add(usec.div_euclid(1_000_000));
        Timestamp {
            sec,
            usec: usec.rem_euclid(1_000_000) as u32,
        }
    }

    /// The current wall-clock time.
    pub fn now() -> Timestamp {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Timestamp {
                sec: d.as_secs() as i64,
                usec: d.subsec_micros(),
            },
            Err(_) => Timestamp::default(),
        }
    }

    /// The latest time a log line shows: 9999-12-30T23:59:59.999999Z (every format writes
    /// four-digit years, also in a time zone a day ahead of UTC).
    pub const LATEST: Timestamp = Timestamp {
        sec: 253_402_214_399,
        usec: 999_999,
    };

    /// This time within what log lines show, from 1970-01-01T00:00:00Z (the epoch: the
    /// formats write no negative times) to [`Timestamp::LATEST`]: a host clock or `now`
    /// outside that range is garbage, and a line keeps its shape whatever it gets.
    pub fn clamped(self) -> Timestamp {
        self.clamp(Timestamp::default(), Timestamp::LATEST)
    }

    /// Is this the "unknown" value (0.0)?
    pub fn is_unset(self) -> bool {
        self.sec == 0 && self.usec == 0
    }

    /// Microseconds since the epoch.
    pub fn as_micros(self) -> i128 {
        self.sec as i128 * 1_000_000 + self.usec as i128
    }

    /// `self - earlier` in microseconds, never negative.
    pub fn micros_since(self, earlier: Timestamp) -> u64 {
        let d = self.as_micros() - earlier.as_micros();
        if d <= 0 {
            0
        } else {
            d.min(u64::MAX as i128) as u64
        }
    }
}

/// Text fields of an event, in the order they must be pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Field {
    // message
    /// MTA message id (per recipient), e.g. `60/00-31337-EF0F3556`.
    MsgId,
    /// Batch id (shared by the recipients of one transaction).
    BatchId,
    /// Connection id of the message.
    ConnId,
    /// Envelope sender (MAIL FROM), empty for the null reverse path.
    MailFrom,
    /// Envelope recipient (RCPT TO).
    RcptTo,
    /// Original recipient (ORCPT).
    Orcpt,
    /// The Message-ID header, with or without angle brackets.
    MessageIdHeader,
    /// MultiVIP binding group.
    BindingGroup,
    /// MultiVIP binding.
    Binding,
    /// Spool file path of the message.
    SpoolPath,
    /// Authenticated user of the message's submission.
    AuthUser,
    // domain
    /// Destination domain name.
    DomainName,
    /// MX host name of the attempt.
    MxHost,
    /// MX IP address of the attempt.
    MxIp,
    /// SMTP command the reply answered (e.g. `RCPT TO`).
    SmtpCommand,
    // accept construct
    /// Client IP.
    PeerIp,
    /// Client reverse-DNS name.
    PeerName,
    /// HELO/EHLO argument.
    Helo,
    /// Reception protocol name (`esmtp`, `smtp`, `rest`, ...).
    Protocol,
    /// Local listener IP.
    LocalIp,
    /// Connection id of the accept construct.
    AcceptConnId,
    /// SMTP AUTH user of the session.
    AcceptAuthUser,
    // validate context
    /// MAIL FROM known at rejection time.
    VMailFrom,
    /// RCPT TO known at rejection time.
    VRcptTo,
    /// Name of the last validation module.
    VModule,
    /// Pathway name.
    VPathway,
    /// Pathway group name.
    VPathwayGroup,
    /// Connection context as `key=value,...`.
    VCtxConn,
    /// Message context as `key=value,...`.
    VCtxMess,
    // acctlog / importlog
    /// acctlog: listener endpoint.
    AcctListener,
    /// acctlog: peer `ip:port`.
    AcctPeer,
    /// acctlog: user name.
    AcctUser,
    /// acctlog: console command (Z records).
    AcctCommand,
    /// acctlog: granting role (Z records).
    AcctRole,
    /// importlog: message id in the live spool.
    ImportNewId,
    /// importlog: base directory of the imported spool.
    ImportDir,
    /// The hook's note, the error text or the rejection text (always last).
    Note,
}

/// Number of [`Field`] values.
pub const FIELD_COUNT: usize = Field::Note as usize + 1;

impl Field {
    /// Every field, in order (`Field as usize` is the index).
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::MsgId,
        Field::BatchId,
        Field::ConnId,
        Field::MailFrom,
        Field::RcptTo,
        Field::Orcpt,
        Field::MessageIdHeader,
        Field::BindingGroup,
        Field::Binding,
        Field::SpoolPath,
        Field::AuthUser,
        Field::DomainName,
        Field::MxHost,
        Field::MxIp,
        Field::SmtpCommand,
        Field::PeerIp,
        Field::PeerName,
        Field::Helo,
        Field::Protocol,
        Field::LocalIp,
        Field::AcceptConnId,
        Field::AcceptAuthUser,
        Field::VMailFrom,
        Field::VRcptTo,
        Field::VModule,
        Field::VPathway,
        Field::VPathwayGroup,
        Field::VCtxConn,
        Field::VCtxMess,
        Field::AcctListener,
        Field::AcctPeer,
        Field::AcctUser,
        Field::AcctCommand,
        Field::AcctRole,
        Field::ImportNewId,
        Field::ImportDir,
        Field::Note,
    ];
}

/// Bit flags of an event.
pub mod flags {
    /// TLS was used (message or session).
    pub const TLS: u8 = 1;
    /// ESMTP (EHLO) was used.
    pub const ESMTP: u8 = 2;
    /// The delivery was a transfer to another cluster node (ec_logger `X`).
    pub const TRANSFER: u8 = 4;
    /// The event carried an accept construct (reception/rejection context known).
    pub const HAS_ACCEPT: u8 = 8;
    /// The hook's `note` argument was present (not NULL).
    pub const HAS_NOTE: u8 = 16;
    /// The host reported a reception time.
    pub const HAS_RECEIVED: u8 = 32;
}

/// One owned event. Numeric fields are plain members; text fields live in the arena.
#[derive(Clone)]
pub struct Event {
    /// What happened.
    pub kind: Kind,
    /// When it happened (the hook's `now`, or the clock when `now` was NULL).
    pub time: Timestamp,
    /// Reception time of the message (unset = unknown).
    pub received: Timestamp,
    /// Message size in bytes.
    pub size: u64,
    /// Bytes transferred in this attempt.
    pub bytes_sent: u64,
    /// Number of earlier attempts.
    pub retries: u32,
    /// Number of envelope recipients of the message (0 = unknown).
    pub nrcpt: u32,
    /// Connection stage at failure (ec_logger table, 0..=22).
    pub stage: i32,
    /// Rejection phase (`MC_STATE_*` value) or acctlog/importlog result.
    pub phase: i32,
    /// SMTP reply code of a rejection, or acctlog type byte.
    pub code: i32,
    /// Client port.
    pub peer_port: u16,
    /// Local listener port.
    pub local_port: u16,
    /// MX port.
    pub mx_port: u16,
    /// [`flags`] bits.
    pub flags: u8,
    /// The Momentum bounce class a log line read back gave the failure (a bouncelog
    /// record's, a JSON record's `bounce_class`); 0 when none did. Hooks never set it: the
    /// class of a failure from the host is read from its text
    /// ([`failure_class`](crate::format::bounce::failure_class)).
    pub class: u8,
    /// Microseconds the producer waited for this event's box (block mode): counted against
    /// `block_timeout` when the queue is full too.
    pub waited_us: u32,
    /// The thread that made the event ([`thread_token`]; 0 = not known).
    pub thread: u64,
    last: u8,
    /// The text is in `spill`, not in `inline`.
    spilled: bool,
    /// Bytes of text.
    len: u32,
    ends: [u32; FIELD_COUNT],
    /// Text beyond [`INLINE_TEXT`] bytes; its buffer stays with the box for the next event.
    spill: Vec<u8>,
    inline: [u8; INLINE_TEXT],
}

/// Bytes of text an [`Event`] holds in place, in its own allocation: the members, the end
/// offsets and the text of a typical event sit in one block of consecutive cache lines,
/// which the writer reads without following a second pointer. Longer text moves to a heap
/// buffer that stays with the event's box when it is reused.
pub const INLINE_TEXT: usize = 384;

/// Bytes of in-place text [`Event::prefetch_for_write`] asks for: a typical delivery's.
pub const PREFETCH_TEXT: usize = 192;

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Event");
        d.field("kind", &self.kind)
            .field("time", &self.time)
            .field("flags", &self.flags);
        for field in Field::ALL {
            let v = self.get(field);
            if !v.is_empty() {
                d.field(&format!("{field:?}"), &String::from_utf8_lossy(v));
            }
        }
        d.finish_non_exhaustive()
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new(Kind::Error)
    }
}

impl Event {
    /// An empty event of `kind` at time 0.
    pub fn new(kind: Kind) -> Event {
        Event {
            kind,
            time: Timestamp::default(),
            received: Timestamp::default(),
            size: 0,
            bytes_sent: 0,
            retries: 0,
            nrcpt: 0,
            stage: 0,
            phase: 0,
            code: 0,
            peer_port: 0,
            local_port: 0,
            mx_port: 0,
            flags: 0,
            class: 0,
            waited_us: 0,
            thread: 0,
            last: 0,
            spilled: false,
            len: 0,
            ends: [0; FIELD_COUNT],
            spill: Vec::new(),
            inline: [0; INLINE_TEXT],
        }
    }

    /// Resets every member so the box can be reused; keeps the arena's capacity. The end
    /// offsets are left as they are: only those below `last` are ever read, and the next
    /// pushes write them. So a reused box is written only where the new event has data,
    /// and fewer of its cache lines travel between the producer's core and the writer's.
    #[inline]
    pub fn reset(&mut self, kind: Kind) {
        self.kind = kind;
        self.time = Timestamp::default();
        self.received = Timestamp::default();
        self.size = 0;
        self.bytes_sent = 0;
        self.retries = 0;
        self.nrcpt = 0;
        self.stage = 0;
        self.phase = 0;
        self.code = 0;
        self.peer_port = 0;
        self.local_port = 0;
        self.mx_port = 0;
        self.flags = 0;
        self.class = 0;
        self.waited_us = 0;
        self.thread = 0;
        self.last = 0;
        self.spilled = false;
        self.len = 0;
        self.spill.clear();
    }

    /// Asks the CPU for the cache lines that filling this box writes (the members, the end
    /// offsets and the first [`PREFETCH_TEXT`] bytes of text), for writing, before the
    /// first store: a box comes back from the writer's core, and stores that each wait for
    /// a line held there would stall the hook in turn.
    #[inline]
    pub fn prefetch_for_write(&self) {
        let base = (self as *const Event).cast::<u8>();
        let text = std::mem::offset_of!(Event, inline);
        let after = text + INLINE_TEXT;
        crate::sys::prefetch_for_write(base, text + PREFETCH_TEXT);
        crate::sys::prefetch_for_write(
            base.wrapping_add(after),
            std::mem::size_of::<Event>() - after,
        );
    }

    /// Capacity of the heap buffer for long text (used by the pool to drop oversized
    /// buffers; 0 while every event of this box fitted in place).
    pub fn capacity(&self) -> usize {
        self.spill.capacity()
    }

    /// The text: every field's bytes, back to back.
    #[inline]
    fn data(&self) -> &[u8] {
        if self.spilled {
            &self.spill
        } else {
            &self.inline[..self.len as usize]
        }
    }

    #[inline]
    fn append(&mut self, b: &[u8]) {
        let len = self.len as usize;
        if !self.spilled {
            if let Some(dst) = self.inline.get_mut(len..len + b.len()) {
                copy_short(dst, b);
                self.len = (len + b.len()) as u32;
                return;
            }
            self.move_to_spill(b.len());
        }
        self.spill.extend_from_slice(b);
        self.len = self.spill.len() as u32;
    }

    #[cold]
    fn move_to_spill(&mut self, extra: usize) {
        let len = self.len as usize;
        self.spill.clear();
        self.spill.reserve(len + extra);
        self.spill.extend_from_slice(&self.inline[..len]);
        self.spilled = true;
    }

    fn open_field(&mut self, field: Field) -> bool {
        let idx = field as usize;
        if idx < self.last as usize {
            // Out of order: ignore rather than corrupt earlier fields.
            return false;
        }
        let end = self.len;
        for e in &mut self.ends[self.last as usize..idx] {
            *e = end;
        }
        self.last = idx as u8;
        true
    }

    fn close_field(&mut self, field: Field) {
        let idx = field as usize;
        self.ends[idx] = self.len;
        self.last = idx as u8 + 1;
    }

    /// Stores `bytes` as `field`, cut to `max` bytes with [`TRUNCATED_MARKER`] appended
    /// when longer. Fields must be pushed in increasing order; an out-of-order push is
    /// ignored. Returns whether the value was truncated.
    pub fn push(&mut self, field: Field, bytes: &[u8], max: usize) -> bool {
        if !self.open_field(field) {
            return false;
        }
        let truncated = bytes.len() > max;
        if truncated {
            self.append(trim_partial_utf8(&bytes[..max]));
            self.append(TRUNCATED_MARKER);
        } else {
            self.append(bytes);
        }
        self.close_field(field);
        truncated
    }

    /// Stores the concatenation of `parts` as `field`, without a bound.
    pub fn push_parts(&mut self, field: Field, parts: &[&[u8]]) {
        if !self.open_field(field) {
            return;
        }
        for p in parts {
            self.append(p);
        }
        self.close_field(field);
    }

    /// Bytes of text of every field pushed.
    #[inline]
    pub fn text_len(&self) -> usize {
        self.len as usize
    }

    /// The bytes of `field` (empty when never pushed).
    pub fn get(&self, field: Field) -> &[u8] {
        let idx = field as usize;
        if idx >= self.last as usize {
            return &[];
        }
        let start = if idx == 0 {
            0
        } else {
            self.ends[idx - 1] as usize
        };
        &self.data()[start..self.ends[idx] as usize]
    }

    /// Reads a byte of each cache line the formatters read (the members and the used part
    /// of the arena) and returns them folded together, so that the reads happen.
    #[inline]
    pub fn touch(&self) -> u8 {
        let mut x = self.flags ^ self.last;
        if let Some(e) = self.ends[..self.last as usize].last() {
            x ^= *e as u8;
        }
        let data = self.data();
        for b in data.iter().step_by(64) {
            x ^= *b;
        }
        x ^ data.last().copied().unwrap_or(0)
    }

    /// Is a flag set?
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A token for the calling thread: the same for every call on this thread, different from
/// that of every other thread alive at the same time, never 0 (the thread's `pthread_t`; a
/// thread started after another ended may get its token). One load, no lock, no
/// allocation, no thread-local lookup.
#[inline]
pub fn thread_token() -> u64 {
    crate::sys::thread_self()
}

/// `dst.copy_from_slice(src)`, with fixed-size moves for up to 32 bytes: most values of an
/// event are that short, and a call to `memcpy` costs the hook more than the copy.
#[inline(always)]
pub fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n > 32 || dst.len() != n {
        dst.copy_from_slice(src);
    } else if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..].copy_from_slice(&src[n - 4..]);
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
}

/// Builds an event from `(field, value)` pairs in any order (tests and tools).
pub fn build(kind: Kind, mut fields: Vec<(Field, &[u8])>) -> Event {
    fields.sort_by_key(|(f, _)| *f);
    let mut ev = Event::new(kind);
    for (f, v) in fields {
        ev.push(f, v, usize::MAX);
    }
    ev
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_copies_copy_every_length() {
        let src: Vec<u8> = (0..40u8).map(|b| b.wrapping_mul(29) ^ 0xa5).collect();
        for n in 0..=src.len() {
            let mut dst = vec![0u8; n];
            super::copy_short(&mut dst, &src[..n]);
            assert_eq!(dst, &src[..n], "n = {n}");
        }
    }

    #[test]
    fn field_all_is_in_index_order() {
        for (i, f) in super::Field::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
        }
    }

    #[test]
    fn cuts_never_split_a_character() {
        use super::trim_partial_utf8 as t;
        assert_eq!(t("ab\u{e9}".as_bytes()), "ab\u{e9}".as_bytes());
        assert_eq!(t(&"ab\u{e9}".as_bytes()[..3]), b"ab");
        assert_eq!(t(&"a\u{20ac}".as_bytes()[..3]), b"a");
        assert_eq!(t(&"a\u{1f600}".as_bytes()[..4]), b"a");
        assert_eq!(t("a\u{1f600}".as_bytes()), "a\u{1f600}".as_bytes());
        assert_eq!(t(b"\xff\x80"), b"\xff\x80");
        assert_eq!(t(b""), b"");
        let mut ev = super::Event::new(super::Kind::Delivery);
        assert!(ev.push(super::Field::Note, "xy\u{e9}z".as_bytes(), 3));
        assert_eq!(ev.get(super::Field::Note), b"xy[truncated]");
    }

    use super::*;

    #[test]
    fn fields_round_trip_and_missing_fields_are_empty() {
        let mut ev = Event::new(Kind::Delivery);
        ev.push(Field::MsgId, b"60/00-31337-EF0F3556", 100);
        ev.push(Field::RcptTo, b"bob@dest.example", 100);
        ev.push(Field::Note, b"250 ok", 100);
        assert_eq!(ev.get(Field::MsgId), b"60/00-31337-EF0F3556");
        assert_eq!(ev.get(Field::BatchId), b"");
        assert_eq!(ev.get(Field::MailFrom), b"");
        assert_eq!(ev.get(Field::RcptTo), b"bob@dest.example");
        assert_eq!(ev.get(Field::MxIp), b"");
        assert_eq!(ev.get(Field::Note), b"250 ok");
    }

    #[test]
    fn out_of_order_push_is_ignored() {
        let mut ev = Event::new(Kind::Delivery);
        ev.push(Field::RcptTo, b"b", 100);
        ev.push(Field::MsgId, b"a", 100);
        assert_eq!(ev.get(Field::RcptTo), b"b");
        assert_eq!(ev.get(Field::MsgId), b"");
    }

    #[test]
    fn long_fields_are_cut_with_a_marker() {
        let mut ev = Event::new(Kind::Delivery);
        assert!(ev.push(Field::Note, b"abcdef", 3));
        assert_eq!(ev.get(Field::Note), b"abc[truncated]");
    }

    #[test]
    fn reset_keeps_capacity() {
        let mut ev = Event::new(Kind::Delivery);
        ev.push(Field::Note, &[b'x'; 1000], 4096);
        let cap = ev.capacity();
        ev.reset(Kind::Reception);
        assert_eq!(ev.capacity(), cap);
        assert_eq!(ev.get(Field::Note), b"");
        assert_eq!(ev.kind, Kind::Reception);
    }

    #[test]
    fn a_reset_event_has_no_stale_fields() {
        let mut ev = Event::new(Kind::Delivery);
        for f in Field::ALL {
            ev.push(f, format!("{f:?}").as_bytes(), 100);
        }
        ev.size = 9;
        ev.flags = flags::TLS;
        ev.reset(Kind::Reception);
        ev.push(Field::Binding, b"vip-2", 100);
        ev.push(Field::MxIp, b"192.0.2.7", 100);
        for f in Field::ALL {
            let want: &[u8] = match f {
                Field::Binding => b"vip-2",
                Field::MxIp => b"192.0.2.7",
                _ => b"",
            };
            assert_eq!(ev.get(f), want, "{f:?}");
        }
        assert_eq!((ev.kind, ev.size, ev.flags), (Kind::Reception, 0, 0));
    }

    #[test]
    fn long_text_moves_out_of_place_and_keeps_its_buffer() {
        let long = vec![b'y'; 3 * INLINE_TEXT];
        let mut ev = Event::new(Kind::Delivery);
        ev.push(Field::MsgId, b"id-1", 100);
        ev.push(Field::RcptTo, &long[..INLINE_TEXT - 4], 4096);
        assert_eq!(ev.capacity(), 0, "exactly full, still in place");
        ev.push(Field::Note, &long, 4096);
        assert_eq!(ev.get(Field::MsgId), b"id-1");
        assert_eq!(ev.get(Field::RcptTo), &long[..INLINE_TEXT - 4]);
        assert_eq!(ev.get(Field::Note), &long[..]);
        let cap = ev.capacity();
        assert!(cap >= 4 * INLINE_TEXT);
        ev.reset(Kind::Reception);
        assert_eq!(ev.capacity(), cap);
        ev.push(Field::MsgId, b"id-2", 100);
        assert_eq!(ev.get(Field::MsgId), b"id-2");
        assert_eq!(ev.get(Field::Note), b"");
        assert!(format!("{ev:?}").contains("MsgId: \"id-2\""));
    }

    #[test]
    fn thread_tokens_differ_between_threads_and_stay_put() {
        let here = thread_token();
        assert_ne!(here, 0);
        assert_eq!(thread_token(), here);
        let there = std::thread::spawn(|| (thread_token(), thread_token()))
            .join()
            .unwrap();
        assert_eq!(there.0, there.1);
        assert_ne!(there.0, here);
        assert_ne!(there.0, 0);
    }

    #[test]
    fn timestamps_fold_and_subtract() {
        assert_eq!(
            Timestamp::new(10, 1_500_000),
            Timestamp {
                sec: 11,
                usec: 500_000
            }
        );
        assert_eq!(
            Timestamp::new(10, -1),
            Timestamp {
                sec: 9,
                usec: 999_999
            }
        );
        let a = Timestamp { sec: 100, usec: 0 };
        let b = Timestamp {
            sec: 101,
            usec: 250_000,
        };
        assert_eq!(b.micros_since(a), 1_250_000);
        assert_eq!(a.micros_since(b), 0);
    }
}
