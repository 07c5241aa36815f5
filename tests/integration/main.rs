//! Integration tests: one binary, split by topic. Every test talks only to servers it started
//! on loopback; none asks the machine's resolver.

mod bimi;
mod bulk;
mod bulk_io;
mod catalogue;
mod certs;
mod cli;
mod dane;
mod dane_live;
mod demo;
mod diff;
mod dkim;
mod dns;
mod dnsbl;
mod dnssec;
mod faults;
mod findings;
mod fuzz;
mod help;
mod hostile;
mod https;
mod json;
mod lab_dnssec;
mod oracle;
mod politeness;
mod ptr;
mod rfc7208;
mod rules;
mod schema;
mod selection;
mod smtp;
mod spf_command;
mod sts;
mod support;
mod table;
mod wire;
