//! mailcheck audits a domain's email configuration.
//!
//! The pipeline has three phases with typed seams:
//! 1. **gather** ([`audit::gather`], [`checks`]): async DNS I/O through [`dns::Dns`], producing
//!    plain serialisable [`facts::Facts`];
//! 2. **evaluate** ([`rules`]): pure rules over the facts, producing checks and findings, and
//!    a [`score`];
//! 3. **render** ([`report`]): the only code that formats, over a [`report::Document`].

pub mod audit;
pub mod bulk;
pub mod bytes;
pub mod checks;
pub mod cli;
pub mod config;
#[cfg(feature = "lab")]
pub mod demo;
pub mod diff;
pub mod dns;
pub mod domain;
pub mod exit;
pub mod facts;
pub mod finding;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "lab")]
pub mod lab;
pub mod net;
pub mod output;
pub mod report;
pub mod rules;
pub mod score;
pub mod settings;
