//! The few calls into the C library that std does not offer (time zone, host name, file
//! system space, descriptor flags, the signal mask of mtalog's threads, the Unix socket
//! calls of the control socket, file locks and a rename that never replaces). Each is a
//! small safe wrapper.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Offset from UTC in seconds (east positive) of the local time zone at `epoch`.
pub fn utc_offset(epoch: i64) -> i32 {
    let t = epoch as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value of this plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call; localtime_r is
    // thread-safe and writes only into `tm`.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() { 0 } else { tm.tm_gmtoff as i32 }
}

/// The machine's host name (empty-safe: `localhost` when it cannot be read).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `len` bytes; gethostname NUL-terminates on success
    // when the name fits, and we bound the scan by the buffer anyway.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if r != 0 {
        return "localhost".to_owned();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    if name.is_empty() {
        "localhost".to_owned()
    } else {
        name
    }
}

/// 64 random bits from the kernel (`getrandom`), for identifiers that must differ between
/// hosts, processes and restarts. Where the kernel has no `getrandom`, the clock, the
/// process id and std's randomly keyed hasher are mixed instead.
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    for _ in 0..4 {
        // SAFETY: the buffer is valid for 8 bytes; getrandom writes at most that many.
        let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
        if n == 8 {
            return u64::from_le_bytes(b);
        }
    }
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    h.write_u128(t.as_nanos());
    h.write_u32(std::process::id());
    h.finish()
}

/// Free bytes available to unprivileged users on the file system holding `path`.
pub fn free_space(path: &std::path::Path) -> Option<u64> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero `statvfs` is a valid value of this plain C struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid out-pointer for the call.
    let r = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if r != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// The uid of a user name (`log_owner`).
pub fn user_id(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 16384];
    // SAFETY: an all-zero `passwd` is a valid value of this plain C struct.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut res: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and `buf` is as long as we say.
    let r = unsafe { libc::getpwnam_r(c.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut res) };
    (r == 0 && !res.is_null()).then_some(pw.pw_uid)
}

/// The calling thread's `pthread_t`, as a number (never 0 on Linux: it is the address of
/// the thread's control block).
#[inline]
pub fn thread_self() -> u64 {
    // SAFETY: pthread_self has no preconditions and cannot fail.
    unsafe { libc::pthread_self() as u64 }
}

/// The process's effective uid.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The name of the process's effective user (`None` when the user database has no entry
/// for the effective uid).
pub fn effective_user_name() -> Option<String> {
    let uid = effective_uid();
    let mut buf = vec![0 as libc::c_char; 16384];
    // SAFETY: an all-zero `passwd` is a valid value of this plain C struct.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut res: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and `buf` is as long as we say.
    let r = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut res) };
    if r != 0 || res.is_null() || pw.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success `pw_name` points to a NUL-terminated string inside `buf`, which
    // lives until the end of this function.
    let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
    Some(name.to_string_lossy().into_owned()).filter(|n| !n.is_empty())
}

/// The gid of a group name (`log_group`).
pub fn group_id(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 16384];
    // SAFETY: an all-zero `group` is a valid value of this plain C struct.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut res: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and `buf` is as long as we say.
    let r = unsafe { libc::getgrnam_r(c.as_ptr(), &mut gr, buf.as_mut_ptr(), buf.len(), &mut res) };
    (r == 0 && !res.is_null()).then_some(gr.gr_gid)
}

/// A cell holding at most one boxed value that readers borrow without a lock, and that can
/// be set again (after `fork()` the child replaces its pipeline). A value once set is never
/// freed while the cell lives: a replaced value is parked in a process-wide list, because a
/// reader may still hold a reference to it (and, in a forked child, its locks may be held by
/// threads that no longer exist, so it must not be dropped either).
pub struct SwapCell<T> {
    ptr: std::sync::atomic::AtomicPtr<T>,
}

static RETIRED: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

impl<T> SwapCell<T> {
    /// An empty cell.
    pub const fn empty() -> SwapCell<T> {
        SwapCell {
            ptr: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        let p = self.ptr.load(std::sync::atomic::Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `set` and is freed only in
        // `drop`, which takes `&mut self`, so it outlives the `&self` borrow.
        unsafe { p.as_ref() }
    }

    /// Stores `v`; a previous value is retired (kept alive, never dropped).
    pub fn set(&self, v: T) {
        self.put(Box::into_raw(Box::new(v)));
    }

    /// Empties the cell; its value is retired (kept alive, never dropped).
    pub fn retire(&self) {
        self.put(std::ptr::null_mut());
    }

    fn put(&self, new: *mut T) {
        let old = self.ptr.swap(new, std::sync::atomic::Ordering::AcqRel);
        if !old.is_null() {
            let mut r = RETIRED.try_lock();
            if let Ok(list) = r.as_mut() {
                list.push(old as usize);
            }
        }
    }
}

impl<T> Drop for SwapCell<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` and no borrow can outlive `&mut self`.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

// SAFETY: the cell hands out `&T` to any thread, which is sound when `T: Sync`; moving the
// cell moves ownership of a `T`, which needs `T: Send`.
unsafe impl<T: Send + Sync> Sync for SwapCell<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SwapCell<T> {}

/// Asks the CPU to fetch the cache lines of `len` bytes at `start` for writing
/// (PREFETCHW), so that the stores that follow find them in this core's cache instead of
/// each waiting for another core to give its copy up. A hint only: it reads and writes
/// nothing the program sees and cannot fault, and does nothing where the CPU lacks the
/// instruction.
#[inline]
pub fn prefetch_for_write(start: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    if has_prefetchw() {
        let first = start as usize & !63;
        let end = start as usize + len;
        let mut line = first;
        while line < end {
            // SAFETY: PREFETCHW is a hint that touches no memory the program sees and
            // never faults, whatever the address.
            unsafe {
                std::arch::asm!(
                    "prefetchw [{0}]",
                    in(reg) line,
                    options(nostack, preserves_flags, readonly)
                );
            }
            line += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, len);
}

/// Does the CPU have PREFETCHW (CPUID 0x8000_0001, ECX bit 8)?
#[cfg(target_arch = "x86_64")]
#[inline]
fn has_prefetchw() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    // 0 = not asked yet, 1 = no, 2 = yes.
    static HAS: AtomicU8 = AtomicU8::new(0);
    match HAS.load(Ordering::Relaxed) {
        0 => {
            // `__cpuid` is an unsafe fn before Rust 1.94 (the crate builds from 1.85).
            #[allow(unused_unsafe)]
            // SAFETY: CPUID leaf 0x8000_0001 exists on every x86_64 CPU; it reads no memory.
            let leaf = unsafe { std::arch::x86_64::__cpuid(0x8000_0001) };
            let yes = leaf.ecx & (1 << 8) != 0;
            HAS.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
        v => v == 2,
    }
}

/// The address of the Unix socket at `path` (at most 107 bytes, no NUL).
fn unix_addr(path: &Path) -> io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: an all-zero `sockaddr_un` is a valid value of this plain C struct.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "path too long for a socket address (at most 107 bytes) or containing NUL",
        ));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, &b) in addr.sun_path.iter_mut().zip(bytes) {
        *d = b as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
    Ok((addr, len as libc::socklen_t))
}

/// A new Unix stream socket (close-on-exec, non-blocking when asked).
fn unix_socket(nonblocking: bool) -> io::Result<OwnedFd> {
    let flags =
        libc::SOCK_STREAM | libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
    // SAFETY: plain system call with no pointer arguments.
    let fd = unsafe { libc::socket(libc::AF_UNIX, flags, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Binds a listening Unix stream socket at `path` whose file has at most `mode` (the
/// umask narrows it further): the mode is set on the socket before bind(2) creates the
/// file (Linux takes the file's mode from the socket's), so that the file never has a
/// wider one. Fails with `EADDRINUSE` when anything exists at `path`: bind never replaces
/// a file.
pub fn bind_unix(path: &Path, mode: u32) -> io::Result<UnixListener> {
    let (addr, len) = unix_addr(path)?;
    let fd = unix_socket(false)?;
    // SAFETY: `fd` is an open socket owned by this function. Where the system does not
    // take a socket's mode from fchmod, the caller restricts the file after the bind.
    unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) };
    // SAFETY: `addr` is a valid socket address of `len` bytes for the call.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast::<libc::sockaddr>(),
            len,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: plain system call on a socket this function owns.
    if unsafe { libc::listen(fd.as_raw_fd(), 128) } != 0 {
        let e = io::Error::last_os_error();
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(UnixListener::from(fd))
}

/// Whether a process listens on the Unix stream socket at `path`, without waiting: `Ok`
/// when a connection was made or is pending (a full backlog, `EAGAIN`), the error of
/// connect(2) otherwise (`ECONNREFUSED` when nobody listens).
pub fn probe_unix(path: &Path) -> io::Result<()> {
    let (addr, len) = unix_addr(path)?;
    let fd = unix_socket(true)?;
    // SAFETY: `addr` is a valid socket address of `len` bytes for the call.
    let r = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast::<libc::sockaddr>(),
            len,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN | libc::EINPROGRESS) => Ok(()),
        _ => Err(e),
    }
}

/// Starts a thread of mtalog's named `name` running `body`, with SIGPIPE blocked in it:
/// a write to a FIFO or pipe whose reader has gone fails with `EPIPE`, and never signals
/// the host (see `block_sigpipe`). Every thread mtalog starts is started here.
pub fn spawn<T: Send + 'static>(
    name: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> io::Result<std::thread::JoinHandle<T>> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            block_sigpipe();
            body()
        })
}

/// Blocks SIGPIPE in the calling thread. A `write(2)` to a pipe or FIFO whose reader has
/// gone then fails with `EPIPE` (a write fault like any other), and the SIGPIPE the kernel
/// raises for it stays pending on this thread, to which it is directed: it never reaches
/// the host's threads, its handler, or the default action that would end the process.
/// Only for threads of mtalog's own: the host's threads keep their signal masks.
fn block_sigpipe() {
    // SAFETY: an all-zero `sigset_t` is a valid value; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t for each call; pthread_sigmask changes only the
    // calling thread's mask and accepts a null old-set pointer.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Clears `O_NONBLOCK` on `fd` (files are opened with it so that opening never waits; see
/// `crate::file::open`).
pub fn clear_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_GETFL on a valid descriptor has no other effect.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK == 0 {
        return Ok(());
    }
    // SAFETY: F_SETFL with the descriptor's own flags minus O_NONBLOCK.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Sends what it can of `buf` on the socket `fd` without waiting, and without SIGPIPE
/// when the peer has gone (`EPIPE` is returned instead).
pub fn send_nosignal(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes for the call.
    let n = unsafe {
        libc::send(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Sends what it can of `buf` on the socket `fd`, waiting for room as long as the
/// socket's send timeout (`SO_SNDTIMEO`) allows, and without SIGPIPE when the peer has
/// gone (`EPIPE` is returned instead). For sockets written on a host's thread too (a TLS
/// handshake in `log_init`), whose signal mask is the host's.
pub fn send_wait_nosignal(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes for the call.
        let n = unsafe {
            libc::send(
                fd.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Waits at most `timeout` (rounded up to whole milliseconds) until one of `fds` is ready:
/// readable (or at end of file, or in error) for `false`, writable for `true`. Returns
/// early on a signal; the caller tries its descriptors whatever this returns.
pub fn poll(fds: &[(BorrowedFd<'_>, bool)], timeout: Duration) {
    poll_ready(fds, timeout);
}

/// [`poll`], telling which descriptors are ready: entry `i` is `true` when `fds[i]` is
/// readable or writable as asked, at end of file, or in error (all `false` after a timeout
/// or a signal).
pub fn poll_ready(fds: &[(BorrowedFd<'_>, bool)], timeout: Duration) -> Vec<bool> {
    let mut set: Vec<libc::pollfd> = fds
        .iter()
        .map(|(fd, write)| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: if *write { libc::POLLOUT } else { libc::POLLIN },
            revents: 0,
        })
        .collect();
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `set` is valid for `set.len()` entries for the call.
    let n = unsafe { libc::poll(set.as_mut_ptr(), set.len() as libc::nfds_t, ms) };
    set.iter().map(|p| n > 0 && p.revents != 0).collect()
}

/// How many descriptors [`ForkClosed`] records at most at a time (a control socket's
/// listener, its wake-up pair and its clients).
pub const FORK_CLOSED_SLOTS: usize = 1024;

/// Descriptors to close in a forked child: the process that made each (high 32 bits) and
/// the descriptor plus one (low 32 bits); 0 is a free slot.
static FORK_CLOSED: [AtomicU64; FORK_CLOSED_SLOTS] =
    [const { AtomicU64::new(0) }; FORK_CLOSED_SLOTS];

fn fork_slot(pid: u32, fd: i32) -> u64 {
    (u64::from(pid) << 32) | u64::from(fd as u32 + 1)
}

/// Owns `T` (a socket of a thread of this process) and has its descriptor closed in any
/// child this process forks ([`close_in_child`]), where the thread that uses it does not
/// exist. At most [`FORK_CLOSED_SLOTS`] are recorded at a time; past that a descriptor is
/// simply inherited.
pub struct ForkClosed<T: AsFd> {
    inner: Option<T>,
    pid: u32,
    slot: Option<usize>,
}

impl<T: AsFd> ForkClosed<T> {
    /// Takes `inner` and records its descriptor.
    pub fn new(inner: T) -> ForkClosed<T> {
        let pid = std::process::id();
        let v = fork_slot(pid, inner.as_fd().as_raw_fd());
        let slot = FORK_CLOSED.iter().position(|s| {
            s.compare_exchange(0, v, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        });
        ForkClosed {
            inner: Some(inner),
            pid,
            slot,
        }
    }

    /// The value, in the process that made it (`None` in a forked child, where the
    /// descriptor was closed).
    pub fn get(&self) -> Option<&T> {
        if self.pid == std::process::id() {
            self.inner.as_ref()
        } else {
            None
        }
    }
}

impl<T: AsFd> Drop for ForkClosed<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        if self.pid != std::process::id() {
            // A forked child closed this descriptor; its number may name another file now.
            std::mem::forget(inner);
            return;
        }
        if let Some(i) = self.slot {
            let v = fork_slot(self.pid, inner.as_fd().as_raw_fd());
            let _ = FORK_CLOSED[i].compare_exchange(v, 0, Ordering::AcqRel, Ordering::Relaxed);
        }
        // Closed after its slot was freed: a fork from now on leaves the child a
        // descriptor, never a number that names another file.
        drop(inner);
    }
}

/// Closes, in a forked child, the descriptors that [`ForkClosed`] values of an ancestor
/// process recorded (does nothing in the process that made them).
pub fn close_in_child() {
    let me = std::process::id();
    for s in &FORK_CLOSED {
        let v = s.load(Ordering::Acquire);
        if v == 0 || (v >> 32) as u32 == me {
            continue;
        }
        if s.compare_exchange(v, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            let fd = (v & 0xffff_ffff) as i32 - 1;
            // SAFETY: the descriptor belongs to a `ForkClosed` of the parent, whose owner
            // is a thread that does not exist in this child; `ForkClosed` never uses or
            // closes it in a process other than its maker's, so nothing else here does.
            unsafe { libc::close(fd) };
        }
    }
}

/// Bytes of data the peer of the TCP socket `fd` has acknowledged on this connection
/// (`tcpi_bytes_acked`: they reached its host), or `None` when the system does not say.
pub fn tcp_bytes_acked(fd: BorrowedFd<'_>) -> Option<u64> {
    // SAFETY: an all-zero `tcp_info` is a valid value of this plain C struct.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is valid for `len` bytes for the call, which writes at most that.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    let end = std::mem::offset_of!(libc::tcp_info, tcpi_bytes_acked) + 8;
    (r == 0 && len as usize >= end).then_some(info.tcpi_bytes_acked)
}

/// Is the socket `fd` readable, at end of file or in error, now (without waiting)? For a
/// socket the peer never writes to: has the peer closed it?
pub fn readable_now(fd: BorrowedFd<'_>) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN | libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: `p` is valid for one entry for the call.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & (libc::POLLIN | libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
}

/// Asks the kernel to acknowledge what arrives on the TCP socket `fd` at once, for a while
/// (`TCP_QUICKACK`; it lapses by itself, so a reader sets it again before each wait).
/// Without it, a delayed acknowledgement holds back a peer whose small replies wait for
/// it (Nagle): 40 ms per round trip.
pub fn quickack(fd: BorrowedFd<'_>) {
    let one: libc::c_int = 1;
    // SAFETY: `one` is valid for the given length for the call.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

/// `flock(2)` on `fd` without waiting (`LOCK_NB` is added to `op`: `LOCK_SH`, `LOCK_EX` or
/// `LOCK_UN`). `Ok(false)`: another open file holds a lock that conflicts. The lock belongs
/// to the open file description: a forked child shares it until it opens the file itself.
pub fn flock(fd: BorrowedFd<'_>, op: libc::c_int) -> io::Result<bool> {
    loop {
        // SAFETY: flock has no memory preconditions; `fd` is open for the call.
        if unsafe { libc::flock(fd.as_raw_fd(), op | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EWOULDBLOCK) => return Ok(false),
            _ => return Err(e),
        }
    }
}

/// Takes (`lock`) or releases the write lock over the first byte of the file open at `fd`,
/// owned by its open file description (`F_OFD_SETLK`), without waiting. `Ok(false)`:
/// another open file description holds it. Independent of [`flock`] locks on local file
/// systems. `fd` must be open for writing.
pub fn ofd_lock(fd: BorrowedFd<'_>, lock: bool) -> io::Result<bool> {
    // SAFETY: a zeroed flock is a valid value (plain integers).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = if lock { libc::F_WRLCK } else { libc::F_UNLCK } as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = 0;
    fl.l_len = 1;
    loop {
        // SAFETY: `fl` is a valid flock for the call; `fd` is open.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_OFD_SETLK, &fl) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN | libc::EACCES) => return Ok(false),
            _ => return Err(e),
        }
    }
}

/// Renames `from` to `to` unless `to` exists (then `EEXIST`): never replaces a file
/// (`renameat2` with `RENAME_NOREPLACE`). A file system that cannot do this answers
/// `EINVAL` (or the kernel `ENOSYS`).
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are NUL-terminated strings valid for the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn swap_cell_keeps_replaced_values_alive() {
        let c = super::SwapCell::empty();
        assert!(c.get().is_none());
        c.set(1u32);
        let first = c.get().unwrap();
        c.set(2u32);
        assert_eq!(*first, 1);
        assert_eq!(*c.get().unwrap(), 2);
    }

    #[test]
    fn random_values_differ() {
        let v: std::collections::HashSet<u64> = (0..64).map(|_| super::random_u64()).collect();
        assert_eq!(v.len(), 64);
    }

    #[test]
    fn user_and_group_names() {
        assert_eq!(super::user_id("root"), Some(0));
        assert_eq!(super::group_id("root"), Some(0));
        assert_eq!(super::user_id("no-such-user-mtalog"), None);
        // The effective user's name maps back to the effective uid.
        let me = super::effective_user_name().expect("a passwd entry for the test's user");
        // SAFETY: geteuid has no preconditions.
        assert_eq!(super::user_id(&me), Some(unsafe { libc::geteuid() }));
    }

    #[test]
    fn a_bound_socket_has_its_mode_from_the_start() {
        use std::os::unix::fs::PermissionsExt;
        let d = std::env::temp_dir().join(format!("mtalog-sys-bind-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("s.sock");
        // No chmod after the bind: the mode is the socket's own (the umask of a test run,
        // 022 or 002, would leave 0755 or 0775 otherwise).
        let l = super::bind_unix(&p, 0o600).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A file at the path is never replaced.
        let e = super::bind_unix(&p, 0o600).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EADDRINUSE));
        // Listening: a probe connects; once the listener is gone, it is refused.
        super::probe_unix(&p).unwrap();
        drop(l);
        let e = super::probe_unix(&p).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ECONNREFUSED));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn send_to_a_closed_peer_is_an_error_not_a_signal() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(
            super::send_nosignal(std::os::fd::AsFd::as_fd(&a), b"x").unwrap(),
            1
        );
        assert_eq!(
            super::send_wait_nosignal(std::os::fd::AsFd::as_fd(&a), b"y").unwrap(),
            1
        );
        drop(b);
        let e = super::send_nosignal(std::os::fd::AsFd::as_fd(&a), b"x").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
        let e = super::send_wait_nosignal(std::os::fd::AsFd::as_fd(&a), b"x").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    }

    #[test]
    fn fork_closed_records_and_forgets_its_descriptor() {
        use std::os::fd::AsRawFd;
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = a.as_raw_fd();
        let v = super::fork_slot(std::process::id(), fd);
        let held = super::ForkClosed::new(a);
        let recorded = || {
            super::FORK_CLOSED
                .iter()
                .any(|s| s.load(std::sync::atomic::Ordering::Relaxed) == v)
        };
        assert!(recorded());
        assert!(held.get().is_some());
        // In the process that made it, nothing is closed.
        super::close_in_child();
        assert!(recorded());
        drop(held);
        assert!(!recorded());
    }

    #[test]
    fn hostname_is_never_empty() {
        assert!(!super::hostname().is_empty());
    }

    #[test]
    fn free_space_of_tmp() {
        assert!(super::free_space(std::path::Path::new("/tmp")).is_some());
        assert!(super::free_space(std::path::Path::new("/nonexistent/dir")).is_none());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn prefetchw_is_used_where_the_kernel_sees_it() {
        // Linux names CPUID 0x8000_0001 ECX bit 8 `3dnowprefetch`.
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").expect("/proc/cpuinfo");
        let flags = cpuinfo
            .lines()
            .find(|l| l.starts_with("flags"))
            .expect("a flags line");
        let listed = flags.split_whitespace().any(|f| f == "3dnowprefetch");
        if cpuinfo.contains("GenuineIntel") {
            assert_eq!(super::has_prefetchw(), listed);
        } else if super::has_prefetchw() {
            // Linux lists it on every 64-bit AMD CPU, whatever CPUID says under a
            // hypervisor that hides the bit; the other way round must hold.
            assert!(listed);
        }
        let v = [7u8; 200];
        super::prefetch_for_write(v.as_ptr(), v.len());
        assert_eq!(v, [7u8; 200]);
    }
}
