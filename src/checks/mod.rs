//! One module per protocol. Each gathers its facts through [`crate::dns::Dns`] and holds the
//! pure parsers for its records; none of them judges what it found (that is `rules/`).

pub mod bimi_logo;
pub mod dane;
pub mod dkim;
pub mod dmarc;
pub mod dnsbl;
pub mod dnssec;
pub mod https;
pub mod mta_sts;
pub mod mx;
pub mod policy_txt;
pub mod ptr;
pub mod smtp;
pub mod spf;
pub mod sts_policy;
