//! Integration tests: one binary, split by topic. Every test talks only to servers it started
//! on loopback; none asks the machine's resolver.

mod certs;
mod cli;
mod dns;
mod dnsbl;
mod faults;
mod json;
mod ptr;
mod rules;
mod smtp;
mod support;
mod table;
