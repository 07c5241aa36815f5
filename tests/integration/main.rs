//! Integration tests: one binary, split by topic. Every test talks only to servers it started
//! on loopback; none asks the machine's resolver.

mod cli;
mod dns;
mod findings;
mod json;
mod oracle;
mod rfc7208;
mod rules;
mod spf_command;
mod support;
mod table;
