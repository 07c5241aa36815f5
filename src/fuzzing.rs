//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their corpora.
//!
//! Not an API. Every parser of remote text is reached from here with raw bytes, and each entry
//! point asserts the parser's invariants, so a fuzzer finds wrong answers as well as panics. The
//! same functions run in `cargo test` over the committed corpora (`tests/integration/fuzz.rs`),
//! which is how CI replays them without a fuzzing toolchain.

use std::net::{IpAddr, Ipv4Addr};

use crate::checks::{bimi_logo, dkim, dmarc, https, policy_txt, smtp, spf, sts_policy};
use crate::report::sanitize;

/// One entry point: raw bytes in, a panic on a broken invariant.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory and fuzz binary.
pub const TARGETS: &[(&str, Target)] = &[
    ("bimi_svg", bimi_svg),
    ("cert", cert),
    ("dkim_key", dkim_key),
    ("dmarc", dmarc_record),
    ("policy_txt", policy_txt),
    ("sanitize", sanitize_text),
    ("smtp_reply", smtp_reply),
    ("spf", spf_record),
    ("spf_macro", spf_macro),
    ("sts_policy", sts_policy_file),
];

/// SPF record: every term it returns is the exact slice of the input at its position.
pub fn spf_record(data: &[u8]) {
    match spf::parse::parse(data) {
        Ok(record) => {
            for t in &record.terms {
                let end = t.position + t.text.len();
                assert_eq!(&data[t.position..end], t.text.as_bytes(), "term slice");
            }
        }
        Err(e) => assert!(e.position <= data.len(), "error position inside the input"),
    }
}

/// SPF macro-string, in a domain-spec and in `exp=` text, then expanded.
pub fn spf_macro(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let cx = spf::macros::Context {
        sender: "user@example.com",
        domain: "example.com",
        ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        helo: "mx.example.com",
        validated: Some("mx.example.com"),
        receiver: "mailcheck.invalid",
        timestamp: 1_700_000_000,
    };
    for exp in [false, true] {
        if let Ok(m) = spf::macros::parse(text, exp) {
            let out = spf::macros::expand(&m, &cx);
            if let Some(lit) = m.literal() {
                assert_eq!(out, lit, "a macro-free string expands to itself");
            }
        }
    }
}

/// DMARC record, each tag's value checks and report URIs.
pub fn dmarc_record(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = dmarc::parse::claims_dmarc(&text);
    if let Ok(tags) = dmarc::parse::parse(&text) {
        for tag in &tags {
            let _ = dmarc::parse::value_problem(tag);
            let _ = dmarc::parse::uris(&tag.value);
        }
    }
}

/// DKIM key record: a revoked key has no size.
pub fn dkim_key(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(key) = dkim::parse::parse(&text)
        && key.revoked
    {
        assert!(key.bits.is_none(), "a revoked key has no size");
    }
}

/// MTA-STS, TLS-RPT and BIMI TXT records (one tag-list grammar, three checkers).
pub fn policy_txt(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for version in ["STSv1", "TLSRPTv1", "BIMI1"] {
        let _ = policy_txt::claims(&text, version);
    }
    if let Ok(tags) = policy_txt::parse_tags(&text) {
        let _ = policy_txt::check_sts(&tags);
        let _ = policy_txt::check_rpt(&tags);
        let _ = policy_txt::check_bimi(&tags);
    }
}

/// MTA-STS policy file, and its patterns matched against a host taken from the same input.
pub fn sts_policy_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let policy = sts_policy::parse(&text);
    assert!(
        policy.mx.len() <= text.lines().count(),
        "one pattern per line at most"
    );
    let host = text.lines().last().unwrap_or_default();
    for pattern in &policy.mx {
        let _ = sts_policy::mx_matches(pattern, host);
        let _ = sts_policy::mx_matches(host, pattern);
    }
}

/// SMTP reply, as read from a server: bounded in lines, one code for all of them.
pub fn smtp_reply(data: &[u8]) {
    if let Some(reply) = smtp::fuzzing::reply(data) {
        assert!(reply.code <= 999, "three digits");
        assert!(!reply.lines.is_empty(), "a reply has a line");
        let _ = reply.extensions();
        let _ = reply.announced_name();
    }
}

/// Certificate fields used in the report.
pub fn cert(data: &[u8]) {
    if let Some(c) = smtp::fuzzing::cert(data) {
        let _ = c.self_issued();
    }
}

/// Terminal sanitising: nothing unsafe survives, and safe text is left alone.
pub fn sanitize_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let out = sanitize(&text);
    assert!(
        !out.chars().any(char::is_control),
        "no control character reaches the terminal"
    );
    if text.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        assert_eq!(out, text, "printable ASCII is shown as it is");
    }
}

/// The root element of a BIMI logo, and a `Content-Type` header value, as any web server sends.
pub fn bimi_svg(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let root = bimi_logo::svg_root(&text);
    if root.is_tiny_ps() {
        assert_eq!(root.base_profile.as_deref(), Some("tiny-ps"));
    }
    if let Some(m) = https::media_type(Some(&text)) {
        assert_eq!(m, m.to_ascii_lowercase(), "media types compare lower-cased");
    }
}
