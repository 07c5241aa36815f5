//! Which DMARC policy applies, and how strong it is.

use super::{Outcome, Rule, Violation, applicable, with_dmarc, with_record};
use crate::checks::dmarc::Policy;
use crate::checks::mx::is_null;
use crate::checks::spf::tree::NodeState;
use crate::dns::Lookup;
use crate::facts::Facts;
use crate::finding::{Category, Severity};

pub static DMARC_NO_POLICY_TAG: Rule = Rule {
    code: "DMARC005",
    name: "dmarc-policy-tag-missing",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "The DMARC record has no p= tag",
    explanation: "Without `p=`, RFC 9989 receivers act as if it said `p=none` (monitoring only), \
        and RFC 7489 receivers do the same only if a valid `rua=` is present, applying no DMARC \
        at all otherwise. Either way spoofed mail is delivered.",
    remediation: "Add the policy explicitly, e.g. `p=none` while monitoring, then `p=quarantine` \
        and `p=reject`.",
    reference: "RFC 9989 §4.7",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_no_policy_tag,
};

fn dmarc_no_policy_tag(f: &Facts) -> Outcome {
    with_record(f, |a| {
        if a.inherited || a.record.tag("p").is_some() {
            return Outcome::Pass;
        }
        let mut tags = a.record.text.trim_end_matches([';', ' ']).to_owned();
        tags = tags.replacen("v=DMARC1", "v=DMARC1; p=none", 1);
        Outcome::Fail(vec![Violation {
            severity: None,
            message: format!(
                "\"{}\" has no p= tag: receivers read it as p=none",
                a.record.text
            ),
            subject: None,
            fix: Some(format!("{}. TXT \"{tags}\"", f.dmarc.name)),
        }])
    })
}

pub static DMARC_PCT_PARTIAL: Rule = Rule {
    code: "DMARC007",
    name: "dmarc-pct-partial",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "DMARC pct= applies the policy to only part of the failing mail",
    explanation: "RFC 9989 removed `pct=`, but RFC 7489 receivers still apply it: with pct=N \
        they apply the policy to only N% of the mail that fails DMARC and treat the rest one step \
        more leniently (quarantine as none, reject as quarantine), so spoofed mail gets through.",
    remediation: "Remove pct= (or set pct=100) once the policy is safe for all your mail.",
    reference: "RFC 7489 §6.3",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_pct_partial,
};

fn dmarc_pct_partial(f: &Facts) -> Outcome {
    with_record(f, |a| {
        match a.record.tag("pct").and_then(|p| p.parse::<u8>().ok()) {
            Some(pct) if pct < 100 => Outcome::fail(format!(
                "pct={pct}: RFC 7489 receivers apply {}={} to only {pct}% of failing mail",
                a.tag_name(),
                a.effective().as_str()
            )),
            _ => Outcome::Pass,
        }
    })
}

pub static DMARC_SUBDOMAIN_WEAKER: Rule = Rule {
    code: "DMARC014",
    name: "dmarc-subdomain-policy-weaker",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "DMARC is weaker for subdomains than for the domain",
    explanation: "`sp=` (existing subdomains) or `np=` (names that do not exist) is weaker than \
        `p=`. Spoofers then use made-up subdomains (`billing.example.com`), which look just as \
        convincing and are not protected.",
    remediation: "Remove sp= and np= (they default to p=), or raise them to match p=.",
    reference: "RFC 9989 §4.7",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_subdomain_weaker,
};

fn dmarc_subdomain_weaker(f: &Facts) -> Outcome {
    with_record(f, |a| {
        if a.inherited {
            return Outcome::NotApplicable;
        }
        let p = a.record.policy().unwrap_or(Policy::None);
        let weaker: Vec<String> = ["sp", "np"]
            .iter()
            .filter_map(|t| {
                let v = a.record.tag(t).and_then(Policy::parse)?;
                (v < p).then(|| format!("{t}={} is weaker than p={}", v.as_str(), p.as_str()))
            })
            .collect();
        if weaker.is_empty() {
            Outcome::Pass
        } else {
            Outcome::fail(format!("{}: {}", f.dmarc.name, weaker.join(", ")))
        }
    })
}

pub static DMARC_TESTING: Rule = Rule {
    code: "DMARC015",
    name: "dmarc-testing-mode",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "DMARC is in testing mode (t=y)",
    explanation: "`t=y` asks receivers not to apply the policy in full while the domain tests \
        it: a reject is treated as quarantine and a quarantine as none.",
    remediation: "Remove t=y once the reports show your own mail passing.",
    reference: "RFC 9989 §4.7",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_testing,
};

fn dmarc_testing(f: &Facts) -> Outcome {
    with_record(f, |a| {
        if a.record
            .tag("t")
            .is_some_and(|t| t.eq_ignore_ascii_case("y"))
        {
            Outcome::fail(format!("the record at _dmarc.{} has t=y", a.domain))
        } else {
            Outcome::Pass
        }
    })
}

pub static DMARC_INHERITED: Rule = Rule {
    code: "DMARC016",
    name: "dmarc-policy-inherited",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "The DMARC policy is inherited from a parent domain",
    explanation: "The domain has no DMARC record of its own; receivers walk up the DNS tree and \
        apply the parent's record, using its `sp=` (or `p=`) for existing subdomains and `np=` \
        for names that do not exist. Reports go to the parent's addresses.",
    remediation: "Nothing to fix if the parent's policy is what you want; publish a record at \
        `_dmarc.<domain>` to set this domain's own policy.",
    reference: "RFC 9989 §4.10",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_inherited,
};

fn dmarc_inherited(f: &Facts) -> Outcome {
    with_record(f, |a| {
        if !a.inherited {
            return Outcome::Pass;
        }
        Outcome::fail(format!(
            "{} uses the record at _dmarc.{}: {}={} applies",
            f.domain,
            a.domain,
            a.tag_name(),
            a.effective().as_str()
        ))
    })
}

pub static DMARC_ORG_DISAGREEMENT: Rule = Rule {
    code: "DMARC017",
    name: "dmarc-org-domain-disagreement",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "RFC 7489 and RFC 9989 receivers find different DMARC results",
    explanation: "RFC 7489 receivers find the organisational domain with the public suffix list; \
        RFC 9989 receivers walk the DNS tree. Where the two disagree, older and newer receivers \
        apply different policies or align identifiers differently, until every receiver moves \
        to RFC 9989.",
    remediation: "Publish the record at the domain itself, or add psd= tags so the tree walk \
        ends where the public suffix list does.",
    reference: "RFC 9989 §4.10",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_org_disagreement,
};

fn dmarc_org_disagreement(f: &Facts) -> Outcome {
    with_dmarc(f, || {
        let d = &f.dmarc.discovery;
        let mut differences = Vec::new();
        if let (Some(tree), Some(psl)) = (&d.org_domain, &d.psl_org_domain)
            && tree != psl
        {
            differences.push(format!("the organisational domain is {tree} by the DNS tree walk but {psl} by the public suffix list"));
        }
        if d.policy_domain != d.policy_domain_7489
            && !(d.policy_domain.is_none() && f.dmarc.records.is_empty())
        {
            let name = |p: &Option<String>| {
                p.as_ref()
                    .map_or("no record".to_owned(), |p| format!("_dmarc.{p}"))
            };
            differences.push(format!(
                "RFC 9989 receivers apply {}, RFC 7489 receivers {}",
                name(&d.policy_domain),
                name(&d.policy_domain_7489)
            ));
        }
        if differences.is_empty() {
            Outcome::Pass
        } else {
            Outcome::fail(differences.join("; "))
        }
    })
}

pub static DMARC_PARKED_WEAK: Rule = Rule {
    code: "DMARC020",
    name: "parked-domain-not-locked",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A domain that sends and receives no mail is not locked down",
    explanation: "The domain receives no mail (a null MX, or no MX and no address), so it most \
        likely sends none either. Spoofers favour such domains because nobody watches them; \
        `v=spf1 -all` and `p=reject` tell every receiver to refuse mail claiming to come from it.",
    remediation: "Publish both records quoted in the finding.",
    reference: "https://www.m3aawg.org/sites/default/files/m3aawg_parked_domains_bp-2015-12.pdf",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dmarc_parked_weak,
};

fn dmarc_parked_weak(f: &Facts) -> Outcome {
    let null_only = !f.mx.records().is_empty() && f.mx.records().iter().all(is_null);
    let no_route = matches!(f.mx.lookup, Lookup::NoData)
        && f.mx
            .implicit
            .as_ref()
            .is_some_and(|h| h.a.is_absent() && h.aaaa.is_absent());
    if !(null_only || no_route) {
        // Whether the domain is parked is itself unknown when its MX or address lookups failed.
        return f
            .mx
            .address_failure()
            .map_or(Outcome::NotApplicable, Outcome::Unknown);
    }
    if let Some(e) = f.txt.failure() {
        return Outcome::unknown(&format!("TXT {}", f.domain), e);
    }
    with_dmarc(f, || {
        let spf_locked = matches!(&f.spf.tree.state, NodeState::Record { text } if text.split_whitespace().skip(1).eq(["-all"]));
        let dmarc_locked = applicable(f).is_some_and(|a| a.effective() == Policy::Reject);
        let mut missing = Vec::new();
        let mut fixes = Vec::new();
        if !spf_locked {
            missing.push("SPF is not exactly v=spf1 -all");
            fixes.push(format!("{}. TXT \"v=spf1 -all\"", f.domain));
        }
        if !dmarc_locked {
            missing.push("DMARC is not p=reject");
            // Keep the domain's other tags (its report addresses), with p=reject.
            let tags: Vec<String> = match f.dmarc.records.as_slice() {
                [own] => own.parsed.as_ref().map_or_else(
                    |_| Vec::new(),
                    |tags| {
                        tags.iter()
                            .filter(|t| t.name != "v" && t.name != "p")
                            .map(|t| format!("; {}={}", t.name, t.value))
                            .collect()
                    },
                ),
                _ => Vec::new(),
            };
            fixes.push(format!(
                "{}. TXT \"v=DMARC1; p=reject{}\"",
                f.dmarc.name,
                tags.concat()
            ));
        }
        if missing.is_empty() {
            return Outcome::Pass;
        }
        Outcome::Fail(vec![Violation {
            severity: None,
            message: format!(
                "{} receives no mail, but {}",
                f.domain,
                missing.join(" and ")
            ),
            subject: None,
            fix: Some(fixes.join("\n")),
        }])
    })
}
