//! BIMI logo rules: the SVG the `l=` URL names must be fetchable over HTTPS and claim the SVG
//! Tiny Portable/Secure profile in its root element. The evidence document's presence in the
//! record is BIMI004; BIMI009 checks it can be fetched and holds certificates (their chain is
//! not validated).

use super::{Outcome, Rule, Violation};
use crate::checks::bimi_logo::LogoFetch;
use crate::checks::https::FetchResult;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

const REF: &str = "https://datatracker.ietf.org/doc/draft-svg-tiny-ps-abrotman/";

/// The logo fetch, or why no logo rule applies.
fn logo(f: &Facts) -> Result<&LogoFetch, Outcome> {
    let record = &f.bimi.record;
    if let Some(e) = record.lookup.failure() {
        return Err(Outcome::Unknown(format!(
            "the lookup of TXT {} {e}",
            record.name
        )));
    }
    let named = f
        .bimi
        .record
        .single()
        .and_then(|r| r.tag("l"))
        .is_some_and(|l| !l.is_empty());
    if !named {
        return Err(Outcome::NotApplicable);
    }
    f.bimi
        .logo
        .as_ref()
        .ok_or_else(|| Outcome::NotRun("--no-https".into()))
}

fn fail(l: &LogoFetch, message: String) -> Outcome {
    Outcome::Fail(vec![Violation::at(&l.url, message)])
}

pub static BIMI_LOGO_UNREACHABLE: Rule = Rule {
    code: "BIMI006",
    name: "bimi-logo-unreachable",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "The BIMI logo cannot be fetched",
    explanation: "Mailbox providers fetch the `l=` logo over HTTPS on port 443, with certificate \
        checks and without following redirects to other schemes. A logo that does not come back \
        `200` (no such host, refused, a 404, a bad certificate) is not shown, so the BIMI record \
        has no effect.",
    remediation: "Serve the SVG at the `l=` URL over HTTPS on port 443 with a publicly trusted \
        certificate for its host and status 200, and keep the URL stable.",
    reference: "https://datatracker.ietf.org/doc/draft-brand-indicators-for-message-identification/",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        let l = match logo(f) {
            Ok(l) => l,
            Err(o) => return o,
        };
        if let Some(why) = &l.refused {
            return fail(l, format!("{}: {why}", l.url));
        }
        let Some(fetch) = &l.fetch else {
            return Outcome::NotApplicable;
        };
        match &fetch.result {
            FetchResult::Timeout { detail } => {
                Outcome::Unreachable(format!("fetching {}: timed out ({detail})", l.url))
            }
            FetchResult::DnsFailed { failure } => {
                Outcome::Unknown(format!("the address lookup of {} {failure}", fetch.host))
            }
            _ => match fetch.problem() {
                Some(p) => fail(l, format!("{}: {p}", l.url)),
                None => Outcome::Pass,
            },
        }
    },
};

pub static BIMI_LOGO_NOT_TINY_PS: Rule = Rule {
    code: "BIMI007",
    name: "bimi-logo-not-svg-tiny-ps",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "The BIMI logo is not an SVG Tiny PS document",
    explanation: "BIMI logos must use SVG Tiny Portable/Secure: an `<svg>` root element with \
        `baseProfile=\"tiny-ps\"` and `version=\"1.2\"`, no scripts, no external references. \
        Mailbox providers reject an ordinary SVG (as exported by most design tools), a PNG or \
        an HTML page, and show no logo.",
    remediation: "Convert the logo to SVG Tiny PS (the BIMI Group publishes converters and a \
        validator), check the root element reads `<svg version=\"1.2\" baseProfile=\"tiny-ps\" \
        xmlns=\"http://www.w3.org/2000/svg\">` with a `<title>`, and serve it at the `l=` URL.",
    reference: REF,
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        let l = match logo(f) {
            Ok(l) => l,
            Err(o) => return o,
        };
        let Some(svg) = &l.svg else {
            return Outcome::NotApplicable;
        };
        if svg.is_tiny_ps() {
            return Outcome::Pass;
        }
        let why = if let Some(e) = &svg.error {
            format!("it is not an XML document ({e})")
        } else if svg.element.as_deref() != Some("svg") {
            format!(
                "its root element is <{}>, not <svg>",
                svg.element.as_deref().unwrap_or("?")
            )
        } else {
            format!(
                "its root element has baseProfile={} and version={}, not \"tiny-ps\" and \"1.2\"",
                svg.base_profile
                    .as_deref()
                    .map_or("(absent)".into(), |v| format!("{v:?}")),
                svg.version
                    .as_deref()
                    .map_or("(absent)".into(), |v| format!("{v:?}")),
            )
        };
        fail(l, format!("{}: {why}", l.url))
    },
};

pub static BIMI_LOGO_TOO_LARGE: Rule = Rule {
    code: "BIMI008",
    name: "bimi-logo-too-large",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "The BIMI logo is larger than 64 KiB",
    explanation: "Mailbox providers cap the size of the logos they fetch (the BIMI Group \
        recommends at most 32 KB); a larger file is refused or cut, and no logo is shown. \
        mailcheck read up to 64 KiB and stopped.",
    remediation: "Simplify the SVG (remove embedded bitmaps, editor metadata, unused \
        definitions) until it is well under 32 KB.",
    reference: REF,
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        let l = match logo(f) {
            Ok(l) => l,
            Err(o) => return o,
        };
        match l.fetch.as_ref().and_then(|x| x.ok()) {
            Some(r) if r.truncated => fail(
                l,
                format!("{} is over {} bytes; reading stopped there", l.url, r.bytes),
            ),
            Some(_) => Outcome::Pass,
            None => Outcome::NotApplicable,
        }
    },
};

pub static BIMI_EVIDENCE_UNREACHABLE: Rule = Rule {
    code: "BIMI009",
    name: "bimi-evidence-unreachable",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "The BIMI evidence document cannot be fetched or holds no certificate",
    explanation: "Mailbox providers that require a Verified Mark Certificate (or Common Mark \
        Certificate) fetch the `a=` URL over HTTPS and expect a PEM file with the mark \
        certificate and its chain. If the URL does not answer `200`, or the body holds no \
        `-----BEGIN CERTIFICATE-----` block, the evidence is missing and no logo is shown. \
        mailcheck checks only that the document is there: the certificates are not validated.",
    remediation: "Serve the PEM file your mark verifying authority issued (certificate first, \
        then the chain) at the `a=` URL over HTTPS on port 443, with status 200.",
    reference: "https://bimigroup.org/",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        let record = &f.bimi.record;
        if let Some(e) = record.lookup.failure() {
            return Outcome::Unknown(format!("the lookup of TXT {} {e}", record.name));
        }
        let named = record
            .single()
            .and_then(|r| r.tag("a"))
            .is_some_and(|a| !a.is_empty());
        if !named {
            return Outcome::NotApplicable;
        }
        let Some(e) = &f.bimi.evidence else {
            return Outcome::NotRun("--no-https".into());
        };
        let at = |m: String| Outcome::Fail(vec![Violation::at(&e.url, m)]);
        if let Some(why) = &e.refused {
            return at(format!("{}: {why}", e.url));
        }
        let Some(fetch) = &e.fetch else {
            return Outcome::NotApplicable;
        };
        match &fetch.result {
            FetchResult::Timeout { detail } => {
                Outcome::Unreachable(format!("fetching {}: timed out ({detail})", e.url))
            }
            FetchResult::DnsFailed { failure } => {
                Outcome::Unknown(format!("the address lookup of {} {failure}", fetch.host))
            }
            _ => match fetch.problem() {
                Some(p) => at(format!("{}: {p}", e.url)),
                None if e.certificates == 0 => at(format!("{} holds no PEM certificate", e.url)),
                None => Outcome::Pass,
            },
        }
    },
};
