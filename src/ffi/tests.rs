use std::ffi::CStr;

use super::*;

#[test]
fn vtable_is_first_and_hooks_are_set() {
    let li = unsafe { mtalog_new(c"ec_logger".as_ptr(), c"t".as_ptr()) };
    assert!(!li.is_null());
    let vt = unsafe { &*li };
    assert_eq!(vt.shared.module_api_version, 1);
    assert_eq!(
        unsafe { CStr::from_ptr(vt.shared.module_name) },
        c"ec_logger"
    );
    assert!(vt.log_error.is_some() && vt.log_rejection.is_some() && vt.shared.log_init.is_some());
    // Hooks before init are ignored and counted.
    unsafe {
        (vt.log_delivery.unwrap())(
            li,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null(),
            0,
        )
    };
    assert_eq!(unsafe { (vt.log_close.unwrap())(li) }, -libc::ECANCELED);
    unsafe { mtalog_free(li) };
    unsafe { mtalog_free(std::ptr::null_mut()) };
}

#[test]
fn unknown_kind_and_null_arguments() {
    assert!(unsafe { mtalog_new(c"nope".as_ptr(), c"x".as_ptr()) }.is_null());
    let e = unsafe { CStr::from_ptr(mtalog_last_error(std::ptr::null())) };
    assert!(e.to_str().unwrap().contains("unknown logger kind 'nope'"));
    assert!(unsafe { mtalog_new(std::ptr::null(), c"x".as_ptr()) }.is_null());
    assert_eq!(
        unsafe { mtalog_stats(std::ptr::null(), std::ptr::null_mut()) },
        -libc::EINVAL
    );
    assert_eq!(
        unsafe {
            mtalog_console(
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null_mut(),
                0,
            )
        },
        -libc::EINVAL
    );
}

#[test]
fn the_phase_names_match_the_rejectlog_texts() {
    use crate::format::ec::PHASES;
    assert_eq!(PHASES.len(), mc_state::McmtFixup as usize);
    assert_eq!(PHASES[mc_state::Mailfrom as usize], "awaiting mailfrom");
    assert_eq!(PHASES[mc_state::RelayingDenied as usize], "relaying denied");
    assert_eq!(PHASES[mc_state::Setup as usize], "esmtp setup phase");
}
