//! Client errors as fetch outcomes: a certificate problem, a timeout, a refused connection.
//! The rustls error sits several layers down (reqwest, hyper-util, io); where it cannot be
//! reached by type, its text still names the verdict.

use std::time::Duration;

use super::FetchResult;
use crate::checks::smtp::CertVerdict;

/// The error and its causes, as one line.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        source = s.source();
    }
    text
}

/// The rustls error somewhere in the causes, if any.
fn rustls_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        // `io::Error::source` skips its payload: look inside.
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(r);
        }
        cur = err.source();
    }
    None
}

/// The certificate verdict in an error chain's text, when the rustls error itself cannot be
/// reached through the layers of hyper and reqwest.
fn verdict_in_text(text: &str) -> Option<CertVerdict> {
    if !text.contains("invalid peer certificate") && !text.contains("certificate") {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("not valid for name") || lower.contains("notvalidforname") {
        Some(CertVerdict::NameMismatch)
    } else if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        Some(CertVerdict::UnknownIssuer)
    } else if lower.contains("expired") {
        Some(CertVerdict::Expired)
    } else if lower.contains("not valid yet") || lower.contains("notvalidyet") {
        Some(CertVerdict::NotYetValid)
    } else if lower.contains("invalid peer certificate") {
        Some(CertVerdict::Other {
            detail: text.to_owned(),
        })
    } else {
        None
    }
}

pub(super) fn classify(e: &reqwest::Error, timeout: Duration) -> FetchResult {
    let detail = chain(e);
    if let Some(tls) = rustls_cause(e) {
        let verdict = match tls {
            rustls::Error::InvalidCertificate(_) => {
                Some(crate::checks::smtp::verdict_of(&Err(tls.clone())))
            }
            _ => None,
        };
        return FetchResult::Tls {
            verdict,
            detail: tls.to_string(),
        };
    }
    if let Some(verdict) = verdict_in_text(&detail) {
        return FetchResult::Tls {
            verdict: Some(verdict),
            detail,
        };
    }
    if e.is_timeout() {
        return FetchResult::Timeout {
            detail: format!("no complete answer within {:.1} s", timeout.as_secs_f64()),
        };
    }
    if e.is_connect() {
        return FetchResult::Connect { detail };
    }
    FetchResult::Other { detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_verdicts_from_error_text() {
        let name = "client error (Connect): invalid peer certificate: certificate not valid \
                    for name \"mta-sts.example.test\"; certificate is only valid for DnsName(\"x\")";
        assert_eq!(verdict_in_text(name), Some(CertVerdict::NameMismatch));
        assert_eq!(
            verdict_in_text("invalid peer certificate: UnknownIssuer"),
            Some(CertVerdict::UnknownIssuer)
        );
        assert_eq!(verdict_in_text("connection refused"), None);
    }
}
