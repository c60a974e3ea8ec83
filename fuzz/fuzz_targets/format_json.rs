#![no_main]
//! cargo fuzz target: see `mtalog_fuzz::json`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtalog_fuzz::json(data));
