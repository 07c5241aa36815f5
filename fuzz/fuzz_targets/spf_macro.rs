#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailcheck::fuzzing::spf_macro(data));
