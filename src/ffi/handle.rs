//! The object behind every `logging_infrastructure *` mtalog hands out, and `log_init`.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use super::types::*;
use super::{boundary, hooks};
use crate::logger::Logger;
use crate::sys::SwapCell;

const MAGIC: u64 = 0x6d74_616c_6f67_0001;

/// The object behind every `logging_infrastructure *` mtalog hands out.
#[repr(C)]
pub(crate) struct Handle {
    vt: logging_infrastructure,
    pub(super) magic: u64,
    pub(crate) logger: Logger,
    pub(super) host: SwapCell<Option<mtalog_host_api>>,
}

impl Handle {
    pub(crate) fn host_api(&self) -> Option<&mtalog_host_api> {
        self.host.get().and_then(Option::as_ref)
    }
}

pub(crate) fn handle_ref<'a>(li: *mut logging_infrastructure) -> Option<&'a Handle> {
    let h = li.cast::<Handle>();
    // SAFETY: a non-NULL `li` must come from `mtalog_new` and not be freed yet (contract);
    // the vtable is the first member of `Handle`, so the cast is the inverse of the one in
    // `mtalog_new`. The magic check catches pointers that are not ours at all.
    let h = unsafe { h.as_ref() }?;
    (h.magic == MAGIC).then_some(h)
}

static SHIM: std::sync::Once = std::sync::Once::new();

pub(super) fn new_handle(logger: Logger) -> *mut logging_infrastructure {
    boundary::install_panic_hook();
    SHIM.call_once(|| {
        // SAFETY: installs two function pointers in the shim's globals, once, before any
        // vtable that points to the shim is handed out.
        unsafe { hooks::mtalog_shim_install(hooks::error_sink, hooks::reject_sink) }
    });
    let (name, desc) = logger.logger_kind().c_names();
    let vt = logging_infrastructure {
        shared: shared_module_infrastructure {
            module_api_version: MTALOG_MODULE_API_VERSION,
            module_name: name.as_ptr(),
            module_description: desc.as_ptr(),
            log_init: Some(log_init),
        },
        log_error: Some(hooks::mtalog_shim_log_error),
        log_reception: Some(hooks::log_reception),
        log_attempt: Some(hooks::log_attempt),
        log_transient_failure: Some(hooks::log_transient_failure),
        log_permanent_failure: Some(hooks::log_permanent_failure),
        log_delivery: Some(hooks::log_delivery),
        log_close: Some(hooks::log_close),
        log_reopen: Some(hooks::log_reopen),
        log_rejection: Some(hooks::mtalog_shim_log_rejection),
    };
    let h = Box::new(Handle {
        vt,
        magic: MAGIC,
        logger,
        host: SwapCell::empty(),
    });
    Box::into_raw(h).cast()
}

/// Reads a C string argument as UTF-8.
pub(super) fn str_arg<'a>(p: *const c_char) -> Result<&'a str, c_int> {
    if p.is_null() {
        return Err(-libc::EINVAL);
    }
    // SAFETY: non-NULL C string arguments are NUL-terminated (contract).
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| -libc::EILSEQ)
}

pub(super) unsafe extern "C" fn log_init(
    li: *mut logging_infrastructure,
    config: *const c_char,
) -> c_int {
    let Some(h) = handle_ref(li) else {
        return -libc::EINVAL;
    };
    let text = if config.is_null() {
        ""
    } else {
        match str_arg(config) {
            Ok(t) => t,
            Err(code) => {
                h.logger
                    .set_last_error("log_init: configuration is not valid UTF-8");
                return code;
            }
        }
    };
    match boundary::guard(|| h.logger.init(text)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => -e.errno(),
        Err(msg) => {
            h.logger.set_last_error(&msg);
            -libc::ENOTRECOVERABLE
        }
    }
}
