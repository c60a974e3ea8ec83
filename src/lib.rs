//! mtalog: a logging module for C mail servers.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod event;
pub mod format;
#[allow(unsafe_code)]
pub mod sys;
