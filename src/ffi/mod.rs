//! The C ABI: the Ecelerity `logging_infrastructure` vtable, the reference structs, the host
//! accessor table and the `mtalog_*` functions. Every export enters the panic guard, checks
//! and converts its arguments, makes one call into the core, and maps the result to a code.
//!
//! # API conventions (mirrored in docs/c-api.md)
//! - Functions that return `int` return 0 (or a length) on success and a negative errno on
//!   failure: `-EINVAL` bad argument or configuration, `-ENOENT` missing directory, `-EACCES`,
//!   `-EALREADY`, `-ECANCELED` (not running), `-ETIMEDOUT`, `-ENOTSUP`, `-ENOBUFS`,
//!   `-ENOTRECOVERABLE` (an internal error was caught). `mtalog_last_error` gives the text.
//! - Every pointer argument may be NULL; the documented code comes back and nothing crashes.
//! - No panic crosses the boundary, and the library never writes to stdout or stderr.
//! - Hooks may be called from any number of threads at once. `log_init`, `log_close` and
//!   `mtalog_free` must not race with other calls on the same logger.
//! - Call `log_close` (or `mtalog_free`) on every logger before `dlclose`: the writer thread
//!   is joined by then. Nothing runs at load time.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

/// cbindgen:ignore
pub mod boundary;
/// cbindgen:ignore
mod hooks;

mod exports;
/// cbindgen:ignore
mod handle;
mod records;
mod setup;
mod types;

pub use exports::*;
pub(crate) use handle::{Handle, handle_ref};
pub use records::*;
pub use setup::*;
pub use types::*;

#[cfg(test)]
mod tests;
