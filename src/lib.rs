//! mtalog: a logging module for C mail servers.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod event;
pub mod format;
pub mod logger;
pub mod sink;
#[allow(unsafe_code)]
pub mod sys;
pub mod worker;
