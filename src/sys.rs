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

#[cfg(test)]
mod tests {
    #[test]
    fn hostname_is_never_empty() {
        assert!(!super::hostname().is_empty());
    }

    #[test]
    fn free_space_of_tmp() {
        assert!(super::free_space(std::path::Path::new("/tmp")).is_some());
        assert!(super::free_space(std::path::Path::new("/nonexistent/dir")).is_none());
    }
}
