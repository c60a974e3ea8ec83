//! Momentum's `bounce_logger`: the bounce classifier and the bouncelog format
//! (spec/momentum.md §9 and §10).
//!
//! [`classify()`] reads a failure's reply code, enhanced status code and text and gives one
//! of Momentum's bounce classes ([`BounceClass`]: number, name and category);
//! [`Bounce`] writes the bouncelog's `B` and `T` records and heartbeats. Both are pure:
//! no I/O, no allocation per event.

pub mod classify;
pub mod write;

pub use classify::{
    BounceClass, Category, Enhanced, RULES, Reply, classify, classify_reply, parse_reply,
};
pub use write::{Bounce, OUT_OF_BAND_STAGE, Settings, failure_class, setup};
