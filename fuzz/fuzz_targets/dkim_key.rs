#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailcheck::fuzzing::dkim_key(data));
