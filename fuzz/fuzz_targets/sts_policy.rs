#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailcheck::fuzzing::sts_policy_file(data));
