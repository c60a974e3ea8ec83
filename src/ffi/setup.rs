//! `mtalog_set_host_api` and `mtalog_version`.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};

use super::boundary;
use super::handle::handle_ref;
use super::types::*;

/// Makes the hooks read the host's objects through `api` (copied; the caller keeps its
/// table). NULL restores reading them as mtalog's reference structs. Call it before the
/// hooks run. Returns 0, or `-EINVAL` (NULL `li`, or `api->struct_size` smaller than
/// `sizeof(size_t)`).
///
/// # Safety
/// `li` is NULL or a live logger; `api` NULL or readable for `api->struct_size` bytes, its
/// function pointers callable as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mtalog_set_host_api(
    li: *mut logging_infrastructure,
    api: *const mtalog_host_api,
) -> c_int {
    let Some(h) = handle_ref(li) else {
        return -libc::EINVAL;
    };
    let r = boundary::guard(|| {
        if api.is_null() {
            h.host.set(None);
            return 0;
        }
        // SAFETY: `api` is readable for at least its first member (contract).
        let size = unsafe { (*api).struct_size };
        if size < std::mem::size_of::<usize>() {
            h.logger.input_error(&format!(
                "mtalog_set_host_api: struct_size {size} is smaller than a size_t"
            ));
            return -libc::EINVAL;
        }
        // SAFETY: an all-zero table is valid (every accessor None).
        let mut table: mtalog_host_api = unsafe { std::mem::zeroed() };
        // Whole members only: every member is pointer-sized, and one that `struct_size`
        // cuts is absent like those beyond it (half a function pointer is never called).
        let word = std::mem::size_of::<usize>();
        let n = size.min(std::mem::size_of::<mtalog_host_api>()) / word * word;
        // SAFETY: copies `n` readable bytes of the caller's table into ours.
        unsafe {
            std::ptr::copy_nonoverlapping(
                api.cast::<u8>(),
                (&mut table as *mut mtalog_host_api).cast::<u8>(),
                n,
            )
        };
        table.struct_size = std::mem::size_of::<mtalog_host_api>();
        h.host.set(Some(table));
        0
    });
    r.unwrap_or(-libc::ENOTRECOVERABLE)
}

/// The library version, e.g. `"0.1.0"`; static.
#[unsafe(no_mangle)]
pub extern "C" fn mtalog_version() -> *const c_char {
    static V: once_cell::sync::Lazy<CString> =
        once_cell::sync::Lazy::new(|| CString::new(env!("CARGO_PKG_VERSION")).unwrap_or_default());
    V.as_ptr()
}
