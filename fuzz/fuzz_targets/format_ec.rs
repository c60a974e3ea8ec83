#![no_main]
//! cargo fuzz target: see `mtalog_fuzz::ec`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtalog_fuzz::ec(data));
