//! `check_host()` (RFC 7208 §4): evaluates SPF for a sending IP, counting DNS lookups and void
//! lookups against their limits (§4.6.4) and recording which term matched and through which
//! includes, so `mailcheck spf` can say why.

mod mechanism;

use std::fmt::Write as _;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::macros::{self, Context, MacroString};
use super::parse::{Qualifier, Record};
use crate::dns::{Dns, Lookup};

/// The results of `check_host()` (§2.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError,
    PermError,
}

impl SpfResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Neutral => "neutral",
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::SoftFail => "softfail",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
        }
    }
}

impl From<Qualifier> for SpfResult {
    fn from(q: Qualifier) -> Self {
        match q {
            Qualifier::Pass => Self::Pass,
            Qualifier::Fail => Self::Fail,
            Qualifier::SoftFail => Self::SoftFail,
            Qualifier::Neutral => Self::Neutral,
        }
    }
}

/// The outcome of one evaluation, with the evidence for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evaluation {
    pub result: SpfResult,
    /// The term that decided the result and the domain whose record holds it.
    pub matched: Option<Matched>,
    /// The chain of `include:`/`redirect=` domains from the queried domain to the deciding record.
    pub path: Vec<String>,
    /// Why, in words: the matched term, the limit reached, the lookup that failed.
    pub reason: String,
    /// The explanation from `exp=` on fail (§6.2).
    pub explanation: Option<String>,
    pub lookups: u32,
    pub voids: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Matched {
    pub domain: String,
    pub term: String,
}

/// The inputs of `check_host()`.
#[derive(Clone, Debug)]
pub struct Request {
    pub ip: IpAddr,
    /// `local@domain` of MAIL FROM, or `postmaster@<helo>` for an empty sender (§2.4).
    pub sender: String,
    pub helo: String,
    pub domain: String,
}

impl Request {
    /// The MAIL FROM identity: domain from the sender (or HELO when the sender is empty).
    pub fn mail_from(ip: IpAddr, mail_from: &str, helo: &str) -> Self {
        let sender = match mail_from.rsplit_once('@') {
            _ if mail_from.is_empty() => format!("postmaster@{helo}"),
            Some(("", domain)) => format!("postmaster@{domain}"),
            Some(_) => mail_from.to_owned(),
            None => format!("postmaster@{mail_from}"),
        };
        let domain = sender.rsplit_once('@').map_or(helo, |(_, d)| d).to_owned();
        Self {
            ip,
            sender,
            helo: helo.to_owned(),
            domain,
        }
    }
}

/// Most DNS-querying terms and redirects in one evaluation (§4.6.4).
pub const LOOKUP_LIMIT: u32 = 10;
/// Most void lookups (NXDOMAIN or NODATA) in one evaluation (§4.6.4).
pub const VOID_LIMIT: u32 = 2;
/// Most MX names one `mx` term may look at, and PTR names one `ptr` term considers.
const NAME_LIMIT: usize = 10;

/// Evaluates SPF for `request`.
pub async fn check_host(dns: &Dns, request: &Request) -> Evaluation {
    let ip = unmap(request.ip);
    let mut ev = Evaluator {
        dns,
        request,
        ip,
        lookups: 0,
        voids: 0,
        validated: None,
        validated_done: false,
    };
    let domain = request.domain.trim_end_matches('.').to_ascii_lowercase();
    let step = ev.check(domain, Vec::new(), false).await;
    Evaluation {
        result: step.result,
        matched: step.matched,
        path: step.path,
        reason: step.reason,
        explanation: step.explanation,
        lookups: ev.lookups,
        voids: ev.voids,
    }
}

/// IPv4-mapped IPv6 addresses are evaluated as the IPv4 address they carry.
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

pub(super) struct Step {
    result: SpfResult,
    matched: Option<Matched>,
    path: Vec<String>,
    reason: String,
    explanation: Option<String>,
}

impl Step {
    fn end(result: SpfResult, path: Vec<String>, reason: impl Into<String>) -> Self {
        Self {
            result,
            matched: None,
            path,
            reason: reason.into(),
            explanation: None,
        }
    }
}

/// A mechanism that did not simply match or miss.
struct Abort(SpfResult, String);

struct Evaluator<'a> {
    dns: &'a Dns,
    request: &'a Request,
    ip: IpAddr,
    lookups: u32,
    voids: u32,
    /// `%{p}` once looked up (`validated_done`), `None` when no name validated.
    validated: Option<String>,
    validated_done: bool,
}

/// A target name that cannot be queried makes the record unusable (§4.8, §5). Unlike the
/// initial domain, a target is not checked for syntax beyond its labels: the suite is explicit
/// that expansion results (e.g. from a bad HELO) are simply queried.
fn checked(name: String) -> Result<String, Abort> {
    let labels_ok = name.split('.').all(|l| !l.is_empty() && l.len() <= 63);
    if labels_ok && name.len() <= 253 {
        Ok(name)
    } else {
        Err(Abort(
            SpfResult::PermError,
            format!("{name:?} is not a valid domain name"),
        ))
    }
}

/// Whether a name can be queried at all (§4.3): labels of 1–63 octets, at least two labels.
fn valid_domain(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.len() <= 63)
        && name.is_ascii()
}

impl Evaluator<'_> {
    fn check(
        &mut self,
        domain: String,
        mut path: Vec<String>,
        in_include: bool,
    ) -> Pin<Box<dyn Future<Output = Step> + '_>> {
        Box::pin(async move {
            if !valid_domain(&domain) {
                return Step::end(
                    SpfResult::None,
                    path,
                    format!("{domain:?} is not a valid domain name"),
                );
            }
            path.push(domain.clone());
            let txts = match self.dns.txt(&domain).await {
                Lookup::Found { records, .. } => records,
                Lookup::NxDomain | Lookup::NoData => {
                    return Step::end(SpfResult::None, path, format!("{domain} has no SPF record"));
                }
                Lookup::Failed(e) => {
                    return Step::end(
                        SpfResult::TempError,
                        path,
                        format!("the TXT lookup of {domain} {e}"),
                    );
                }
            };
            let spf = super::records(&txts);
            let record = match spf.as_slice() {
                [] => {
                    return Step::end(SpfResult::None, path, format!("{domain} has no SPF record"));
                }
                [one] => one.joined(),
                _ => {
                    return Step::end(
                        SpfResult::PermError,
                        path,
                        format!("{domain} has {} SPF records", spf.len()),
                    );
                }
            };
            let record = match super::parse::parse(&record.0) {
                Ok(r) => r,
                Err(e) => return Step::end(SpfResult::PermError, path, format!("{domain}: {e}")),
            };
            self.evaluate(&domain, &record, path, in_include).await
        })
    }

    async fn evaluate(
        &mut self,
        domain: &str,
        record: &Record,
        path: Vec<String>,
        in_include: bool,
    ) -> Step {
        for (term, qualifier, mechanism) in record.directives() {
            if mechanism.queries_dns()
                && let Err(Abort(result, reason)) = self.count_lookup(&term.text)
            {
                return Step::end(result, path, reason);
            }
            match self.mechanism(domain, mechanism, &path).await {
                Ok(Some(inner)) => {
                    let mut reason = format!("{} matched in {domain}", term.text);
                    if let Some(deeper) = inner.matched {
                        let _ = write!(reason, " (through {} in {})", deeper.term, deeper.domain);
                    }
                    let step = Step {
                        result: SpfResult::from(qualifier),
                        matched: Some(Matched {
                            domain: domain.to_owned(),
                            term: term.text.clone(),
                        }),
                        path: inner.path,
                        reason,
                        explanation: None,
                    };
                    return self.explain(step, domain, record, in_include).await;
                }
                Ok(None) => {}
                Err(Abort(result, reason)) => return Step::end(result, path, reason),
            }
        }
        if let (Some(target), false) = (record.redirect(), record.has_all()) {
            if let Err(Abort(result, reason)) = self.count_lookup("redirect=") {
                return Step::end(result, path, reason);
            }
            let target = self.expand(target, domain).await;
            let step = self.check(target.clone(), path.clone(), in_include).await;
            if step.result == SpfResult::None {
                return Step::end(
                    SpfResult::PermError,
                    step.path,
                    format!("redirect={target} has no SPF record"),
                );
            }
            return step;
        }
        Step::end(
            SpfResult::Neutral,
            path,
            format!("no term of {domain} matched"),
        )
    }

    /// Counts one DNS-querying term or redirect against the limit of 10 (§4.6.4).
    fn count_lookup(&mut self, what: &str) -> Result<(), Abort> {
        self.lookups += 1;
        if self.lookups > LOOKUP_LIMIT {
            return Err(Abort(
                SpfResult::PermError,
                format!(
                    "{what} needs DNS lookup {} of at most {LOOKUP_LIMIT}",
                    self.lookups
                ),
            ));
        }
        Ok(())
    }

    async fn target(&mut self, spec: Option<&MacroString>, domain: &str) -> Result<String, Abort> {
        let name = match spec {
            Some(spec) => self.expand(spec, domain).await,
            None => domain.to_owned(),
        };
        checked(name)
    }

    /// Expands a domain-spec; names over 253 octets lose left-hand labels (§7.3).
    async fn expand(&mut self, spec: &MacroString, domain: &str) -> String {
        let validated = if macros::needs_validated_name(spec) {
            self.validated_name(domain).await
        } else {
            None
        };
        let cx = self.context(domain, validated.as_deref());
        let mut name = macros::expand(spec, &cx)
            .trim_end_matches('.')
            .to_ascii_lowercase();
        while name.len() > 253 {
            match name.split_once('.') {
                Some((_, rest)) => name = rest.to_owned(),
                None => break,
            }
        }
        name
    }

    /// `%{p}`: a validated name of the client, preferring one in the current domain (§7.3).
    async fn validated_name(&mut self, domain: &str) -> Option<String> {
        if !self.validated_done {
            let names = self.validated_names().await.unwrap_or_default();
            self.validated = names
                .iter()
                .find(|n| *n == domain || n.ends_with(&format!(".{domain}")))
                .or_else(|| names.first())
                .cloned();
            self.validated_done = true;
        }
        self.validated.clone()
    }

    fn context<'c>(&'c self, domain: &'c str, validated: Option<&'c str>) -> Context<'c> {
        Context {
            sender: &self.request.sender,
            domain,
            ip: self.ip,
            helo: &self.request.helo,
            validated,
            receiver: "unknown",
            timestamp: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// Adds the `exp=` explanation to a fail decided by this record (§6.2); never inside an
    /// include, and any problem fetching it leaves the default.
    async fn explain(
        &mut self,
        mut step: Step,
        domain: &str,
        record: &Record,
        in_include: bool,
    ) -> Step {
        if step.result != SpfResult::Fail || in_include {
            return step;
        }
        let Some(spec) = record.exp() else {
            return step;
        };
        let target = self.expand(spec, domain).await;
        if !valid_domain(&target) {
            return step;
        }
        if let Lookup::Found { records, .. } = self.dns.txt(&target).await
            && let [one] = records.as_slice()
            && let Ok(text) = String::from_utf8(one.joined().0)
            && text.is_ascii()
            && let Ok(m) = macros::parse(&text, true)
        {
            let validated = if macros::needs_validated_name(&m) {
                self.validated_name(domain).await
            } else {
                None
            };
            let cx = self.context(domain, validated.as_deref());
            step.explanation = Some(macros::expand(&m, &cx));
        }
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_defaults_to_postmaster() {
        let ip = "192.0.2.1".parse().unwrap();
        let r = Request::mail_from(ip, "", "mx.example.org");
        assert_eq!(
            (r.sender.as_str(), r.domain.as_str()),
            ("postmaster@mx.example.org", "mx.example.org")
        );
        let r = Request::mail_from(ip, "@example.net", "h");
        assert_eq!(r.sender, "postmaster@example.net");
        let r = Request::mail_from(ip, "a@b.example", "h");
        assert_eq!(r.domain, "b.example");
    }
}
