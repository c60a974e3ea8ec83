//! The panic boundary of every export, a quiet panic hook, the thread's last error for
//! calls that have no logger yet (`mtalog_new`, `mtalog_load`), and the thread's copy of a
//! logger's last error that `mtalog_last_error` hands out.

use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::sync::Once;

thread_local! {
    static IN_MTALOG: Cell<bool> = const { Cell::new(false) };
    static PANIC_MSG: RefCell<Option<String>> = const { RefCell::new(None) };
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    static LOGGER_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

static HOOK: Once = Once::new();

/// Installs (once) a panic hook that records panics raised inside mtalog quietly and passes
/// every other panic to the hook that was there before. mtalog never writes to stderr.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = IN_MTALOG.with(|c| c.get())
                || std::thread::current().name() == Some("mtalog-writer");
            if ours {
                let msg = match info.location() {
                    Some(l) => format!(
                        "internal error at {}:{}: {}",
                        l.file(),
                        l.line(),
                        payload(info.payload())
                    ),
                    None => format!("internal error: {}", payload(info.payload())),
                };
                PANIC_MSG.with(|m| *m.borrow_mut() = Some(msg));
            } else {
                previous(info);
            }
        }));
    });
}

fn payload(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

/// Runs `f` inside the boundary: a panic becomes `Err(message)`.
pub fn guard<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    let was = IN_MTALOG.with(|c| c.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_MTALOG.with(|c| c.set(was));
    r.map_err(|_| {
        PANIC_MSG
            .with(|m| m.borrow_mut().take())
            .unwrap_or_else(|| "internal error".to_owned())
    })
}

/// Stores the calling thread's last error (calls without a logger).
pub fn set_thread_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// The calling thread's last error; valid until the thread's next failing call.
pub fn thread_error_ptr() -> *const libc::c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// A copy of a logger's last error that belongs to the calling thread: valid until the
/// thread asks for a logger's last error again, whatever other threads do to the logger
/// meanwhile (the logger's own text is replaced, and freed, by any failing call).
pub fn thread_copy_ptr(text: &CString) -> *const libc::c_char {
    LOGGER_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        if e.as_bytes() != text.as_bytes() {
            e.clone_from(text);
        }
        e.as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_the_guard_becomes_an_error() {
        install_panic_hook();
        let r: Result<i32, String> = guard(|| panic!("boom"));
        let msg = r.unwrap_err();
        assert!(msg.contains("boom"), "{msg}");
        assert_eq!(guard(|| 7).unwrap(), 7);
    }
}
