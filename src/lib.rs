//! mtalog: a logging module for C mail servers.
//!
//! A C MTA loads `libmtalog.so` (or links `libmtalog.a`), gets one Ecelerity
//! `logging_infrastructure` vtable per configured logger from `mtalog_new` or `mtalog_load`,
//! and calls its hooks; mtalog copies each event, hands it to a writer thread over a
//! lock-free bounded channel, and writes Momentum `ec_logger`, Postfix-style or Sun
//! Messaging Server logs. See the `ffi` module (and docs/c-api.md) for the C API conventions.
//!
//! Rust programs use [`logger::Logger`] directly. The modules are listed from the C
//! boundary down to plain data; a module only uses the ones below it (ARCHITECTURE.md
//! has the map).
#![deny(unsafe_code)]
#![warn(missing_docs)]

/// cbindgen:ignore
#[allow(unsafe_code)]
mod atfork;
/// cbindgen:ignore
pub mod config;
/// cbindgen:ignore
pub mod console;
/// cbindgen:ignore
pub mod control;
/// cbindgen:ignore
pub mod error;
/// cbindgen:ignore
pub mod event;
#[allow(unsafe_code)]
pub mod ffi;
/// cbindgen:ignore
pub mod file;
/// cbindgen:ignore
pub mod format;
/// cbindgen:ignore
pub mod logger;
/// cbindgen:ignore
pub mod pipeline;
/// cbindgen:ignore
pub mod sync;
/// cbindgen:ignore
#[allow(unsafe_code)]
pub mod sys;
