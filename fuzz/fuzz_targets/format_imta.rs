#![no_main]
//! cargo fuzz target: see `mtalog_fuzz::imta`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtalog_fuzz::imta(data));
