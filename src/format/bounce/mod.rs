//! Momentum's `bounce_logger`: the bounce classifier (spec/momentum.md §9).
//!
//! [`classify()`] reads a failure's reply code, enhanced status code and text and gives one
//! of Momentum's bounce classes ([`BounceClass`]: number, name and category). It is pure:
//! no I/O, no allocation.

pub mod classify;

pub use classify::{
    BounceClass, Category, Enhanced, RULES, Reply, classify, classify_reply, parse_reply,
};
