//! SPF rules over the include tree: syntax, the lookup budgets, loops, dangling includes, and
//! what the records authorise.

use std::fmt::Write as _;

use super::{Outcome, Rule, Violation, with_tree};
use crate::checks::spf::eval::{LOOKUP_LIMIT, VOID_LIMIT};
use crate::checks::spf::parse::{self, Mechanism, Qualifier, Term};
use crate::checks::spf::tree::{Node, NodeState, TermOutcome};
use crate::facts::Facts;
use crate::finding::{Category, Severity};

pub static SPF_SYNTAX: Rule = Rule {
    code: "SPF003",
    name: "spf-syntax-error",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "An SPF record has a syntax error",
    explanation: "Any term that breaks the SPF grammar makes receivers return permerror for the \
        whole record, so SPF fails for all mail it covers, not only for the broken term. Lenient \
        receivers may skip the term instead, so the same record can work at one provider and fail \
        at the next.",
    remediation: "Correct or remove the term named in the finding; check IP addresses, prefix \
        lengths (/0–/32 for ip4:, /0–/128 for ip6:) and mechanism names against RFC 7208.",
    reference: "RFC 7208 §4.6",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_syntax,
};

fn spf_syntax(f: &Facts) -> Outcome {
    with_tree(f, |root| {
        Outcome::of(
            root.walk()
                .into_iter()
                .filter_map(|n| match &n.state {
                    NodeState::Invalid { error, .. } => Some(Violation::at(
                        &n.domain,
                        format!(
                            "{}: {} — the term {:?} at byte {}",
                            n.domain, error.reason, error.term, error.position
                        ),
                    )),
                    _ => None,
                })
                .collect(),
        )
    })
}

pub static SPF_TOO_MANY_LOOKUPS: Rule = Rule {
    code: "SPF004",
    name: "spf-too-many-lookups",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "SPF needs more than 10 DNS lookups",
    explanation: "Receivers stop evaluating SPF after 10 DNS-querying terms (include, a, mx, \
        ptr, exists, redirect), counted across every include. Evaluation stops at the first \
        match, so senders matched before the 11th lookup still pass; every sender matched at or \
        after it gets permerror, which DMARC treats as a fail.",
    remediation: "Remove includes of services you no longer send through, replace `a` and `mx` \
        with the `ip4:`/`ip6:` ranges they stand for, or move a sending service to a subdomain \
        with its own SPF record.",
    reference: "RFC 7208 §4.6.4",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_too_many_lookups,
};

fn spf_too_many_lookups(f: &Facts) -> Outcome {
    with_tree(f, |root| {
        if root.total <= LOOKUP_LIMIT {
            if root.incomplete() {
                return Outcome::Unknown(format!(
                    "a branch of the include tree could not be fetched, so the count ({} so far) is incomplete",
                    root.total
                ));
            }
            return Outcome::Pass;
        }
        // Walk in evaluation order to find the term that needs lookup 11.
        let mut count = 0;
        let mut eleventh = None;
        for (node, term) in root.edges() {
            if !matches!(term.outcome, TermOutcome::Ignored) {
                count += 1;
            }
            if count > LOOKUP_LIMIT && eleventh.is_none() {
                eleventh = Some((node.domain.clone(), term.term.clone()));
            }
        }
        let costs: Vec<String> = root
            .evaluation_order()
            .iter()
            .map(|t| format!("{} costs {}", t.term, Node::term_cost(t)))
            .collect();
        // Every term (DNS-querying or not) evaluated before the budget runs out.
        let mut before = Vec::new();
        if let NodeState::Record { text } = &root.state
            && let Ok(record) = parse::parse(text.as_bytes())
        {
            let mut running = 0;
            for (term, _, _) in record.directives() {
                if let Some(fact) = root.terms.iter().find(|t| t.term == term.text) {
                    running += Node::term_cost(fact);
                }
                if running > LOOKUP_LIMIT {
                    break;
                }
                before.push(term.text.clone());
            }
        }
        let mut message = format!(
            "{} needs {} DNS lookups; receivers stop at {LOOKUP_LIMIT} ({})",
            f.domain,
            root.total,
            costs.join(", ")
        );
        if let Some((domain, term)) = eleventh {
            let _ = write!(
                message,
                ". Lookup 11 is {term} in {domain}: mail matched by an earlier term"
            );
            if before.is_empty() {
                message.push_str(" still passes, and everything else gets permerror");
            } else {
                let _ = write!(
                    message,
                    " ({}) still passes; mail matched only at or after it gets permerror",
                    before.join(", ")
                );
            }
        }
        Outcome::fail(message)
    })
}

pub static SPF_TOO_MANY_VOIDS: Rule = Rule {
    code: "SPF005",
    name: "spf-too-many-void-lookups",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "SPF has more than 2 lookups that find nothing",
    explanation: "Receivers allow at most two \"void\" lookups (names that do not exist or have \
        no record of the type asked) per evaluation, to limit abuse; the third gives permerror. \
        Void lookups usually point at hosts or services that were removed.",
    remediation: "Remove the `a:`, `mx:`, `exists:` or `include:` terms whose names no longer \
        exist, listed in the finding.",
    reference: "RFC 7208 §4.6.4",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_too_many_voids,
};

fn spf_too_many_voids(f: &Facts) -> Outcome {
    with_tree(f, |root| {
        if root.total_voids <= VOID_LIMIT {
            return Outcome::Pass;
        }
        let voids: Vec<String> = root
            .edges()
            .into_iter()
            .filter(|(_, t)| t.outcome == TermOutcome::Void && t.child.is_none())
            .map(|(n, t)| format!("{} in {}", t.term, n.domain))
            .collect();
        Outcome::fail(format!(
            "{} void lookups, the limit is {VOID_LIMIT}: {}",
            root.total_voids,
            voids.join(", ")
        ))
    })
}

pub static SPF_INCLUDE_LOOP: Rule = Rule {
    code: "SPF006",
    name: "spf-include-loop",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "SPF includes loop back on themselves",
    explanation: "An include or redirect leads back to a record already being evaluated. \
        Receivers detect the loop through the lookup limit and return permerror for every \
        sender that reaches it.",
    remediation: "Remove the include or redirect that points back up the chain.",
    reference: "RFC 7208 §4.6.4",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_include_loop,
};

fn spf_include_loop(f: &Facts) -> Outcome {
    with_tree(f, |root| {
        Outcome::of(
            root.edges()
                .into_iter()
                .filter(|(_, t)| t.child.as_ref().is_some_and(|c| c.state == NodeState::Loop))
                .map(|(n, t)| {
                    Violation::at(
                        &n.domain,
                        format!(
                            "{} in {} leads back to a record already on the path",
                            t.term, n.domain
                        ),
                    )
                })
                .collect(),
        )
    })
}

pub static SPF_INCLUDE_WITHOUT_SPF: Rule = Rule {
    code: "SPF007",
    name: "spf-include-without-spf",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "An SPF include or redirect names a domain without one SPF record",
    explanation: "`include:` and `redirect=` must lead to exactly one SPF record. A target that \
        does not exist, has no SPF record, or has several makes receivers return permerror for \
        every sender evaluated past that term — often a service that was cancelled or renamed.",
    remediation: "Remove the term, or replace it with the include the provider currently \
        documents.",
    reference: "RFC 7208 §5.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_include_without_spf,
};

fn spf_include_without_spf(f: &Facts) -> Outcome {
    with_tree(f, |root| {
        Outcome::of(
            root.edges()
                .into_iter()
                .filter_map(|(n, t)| {
                    let child = t.child.as_ref()?;
                    let why = match &child.state {
                        NodeState::NoSpf { nxdomain: true } => "does not exist".to_owned(),
                        NodeState::NoSpf { nxdomain: false } => "has no SPF record".to_owned(),
                        NodeState::Multiple { texts } => format!("has {} SPF records", texts.len()),
                        _ => return None,
                    };
                    Some(Violation::at(
                        &n.domain,
                        format!("{} in {}: {} {why}", t.term, n.domain, child.domain),
                    ))
                })
                .collect(),
        )
    })
}

/// Every parsed directive of the tree with the domain whose record holds it.
fn directives(root: &Node) -> Vec<(String, String, Qualifier, Mechanism)> {
    root.walk()
        .into_iter()
        .filter_map(|n| match &n.state {
            NodeState::Record { text } => parse::parse(text.as_bytes())
                .ok()
                .map(|r| (n.domain.clone(), r)),
            _ => None,
        })
        .flat_map(|(domain, r)| {
            r.terms
                .into_iter()
                .filter_map(move |t| match t.term {
                    Term::Directive {
                        qualifier,
                        mechanism,
                    } => Some((domain.clone(), t.text, qualifier, mechanism)),
                    Term::Modifier(_) => None,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One violation per directive anywhere in the tree that `hit` selects.
fn directives_matching(
    f: &Facts,
    what: &str,
    hit: impl Fn(Qualifier, &Mechanism) -> bool,
) -> Outcome {
    with_tree(f, |root| {
        Outcome::of(
            directives(root)
                .into_iter()
                .filter(|(_, _, q, m)| hit(*q, m))
                .map(|(domain, text, _, _)| {
                    Violation::at(&domain, format!("{text} in {domain} {what}"))
                })
                .collect(),
        )
    })
}

pub static SPF_ALLOWS_ALL: Rule = Rule {
    code: "SPF008",
    name: "spf-allows-all",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "SPF authorises every server on the Internet",
    explanation: "A `+all` (or `all` with no qualifier), `ip4:0.0.0.0/0` or `ip6:::/0` that \
        passes, anywhere in the record or in a record it includes, lets anyone send mail that \
        passes SPF for the domain, which then passes DMARC through SPF alignment.",
    remediation: "Replace it with the servers that really send the domain's mail, and end the \
        record with `-all` (or `~all` while testing).",
    reference: "RFC 7208 §5.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_allows_all,
};

fn spf_allows_all(f: &Facts) -> Outcome {
    directives_matching(f, "lets any host pass SPF", |q, m| {
        q == Qualifier::Pass
            && matches!(
                m,
                Mechanism::All
                    | Mechanism::Ip4 { prefix: 0, .. }
                    | Mechanism::Ip6 { prefix: 0, .. }
            )
    })
}

pub static SPF_WIDE_RANGE: Rule = Rule {
    code: "SPF009",
    name: "spf-wide-range",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "SPF authorises a very wide address range",
    explanation: "An `ip4:` range of /16 or wider (65,536 addresses or more), or an `ip6:` range \
        of /32 or wider, authorises far more hosts than any sender runs — often a typo in the \
        prefix length, or a whole provider network that others can send from too.",
    remediation: "Narrow the range to the addresses of your own sending servers, or use the \
        include the provider documents.",
    reference: "RFC 7208 §5.6",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_wide_range,
};

fn spf_wide_range(f: &Facts) -> Outcome {
    directives_matching(f, "is a very wide range", |q, m| {
        q != Qualifier::Fail
            && matches!(
                m,
                Mechanism::Ip4 { prefix: 1..=16, .. } | Mechanism::Ip6 { prefix: 1..=32, .. }
            )
    })
}

pub static SPF_PTR: Rule = Rule {
    code: "SPF012",
    name: "spf-ptr-mechanism",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "SPF uses the deprecated ptr mechanism",
    explanation: "`ptr` is slow, unreliable (it depends on the sender's reverse DNS) and puts \
        load on the .arpa name servers; RFC 7208 says it should not be used, and some large \
        receivers skip it, so mail it should authorise may fail.",
    remediation: "Replace `ptr` with the `ip4:`/`ip6:` ranges or the `a:` names of your senders.",
    reference: "RFC 7208 §5.5",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_ptr,
};

fn spf_ptr(f: &Facts) -> Outcome {
    directives_matching(f, "uses ptr", |_, m| matches!(m, Mechanism::Ptr { .. }))
}

pub static SPF_MACROS: Rule = Rule {
    code: "SPF013",
    name: "spf-macros",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "SPF uses macros: some lookups depend on the sender",
    explanation: "Terms with macros (`%{i}`, `%{s}`, …) are expanded per message, so their \
        targets, results and lookup cost cannot be known without a sender and an address. The \
        counts in this report cover the rest; use `mailcheck spf DOMAIN --ip ADDR` to evaluate \
        a given sender.",
    remediation: "Nothing to fix; be aware the lookup count shown is a lower bound.",
    reference: "RFC 7208 §7",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_macros,
};

fn spf_macros(f: &Facts) -> Outcome {
    with_tree(f, |root| {
        Outcome::of(
            root.edges()
                .into_iter()
                .filter(|(_, t)| t.outcome == TermOutcome::Macro)
                .map(|(n, t)| {
                    Violation::at(
                        &n.domain,
                        format!("{} in {} depends on the sender", t.term, n.domain),
                    )
                })
                .collect(),
        )
    })
}

pub static SPF_DUPLICATE_INCLUDE: Rule = Rule {
    code: "SPF019",
    name: "spf-duplicate-include",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "The same SPF record is included more than once",
    explanation: "A domain reached through two includes (directly or through a provider's \
        record) is evaluated twice and costs its lookups twice, against the limit of 10, for \
        nothing.",
    remediation: "Remove the redundant include; if a provider's record already includes it, \
        keep only the provider's.",
    reference: "RFC 7208 §4.6.4",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: spf_duplicate_include,
};

fn spf_duplicate_include(f: &Facts) -> Outcome {
    with_tree(f, |root| {
        let mut seen: Vec<&str> = Vec::new();
        let mut dup: Vec<Violation> = Vec::new();
        for (n, t) in root.edges() {
            let Some(child) = t.child.as_ref() else {
                continue;
            };
            if child.state == NodeState::Loop {
                continue;
            }
            if seen.contains(&child.domain.as_str()) {
                dup.push(Violation::at(
                    &n.domain,
                    format!(
                        "{} in {} is included again (it costs {} lookups each time)",
                        t.term,
                        n.domain,
                        Node::term_cost(t)
                    ),
                ));
            } else {
                seen.push(&child.domain);
            }
        }
        Outcome::of(dup)
    })
}
