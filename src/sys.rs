//! The few calls into the C library that std does not offer (time zone, host name, file
//! system space). Each is a small safe wrapper.

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

/// Free bytes available to unprivileged users on the file system holding `path`.
pub fn free_space(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
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

/// The name of the process's effective user (`None` when the user database has no entry
/// for the effective uid).
pub fn effective_user_name() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
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
