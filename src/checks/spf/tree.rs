//! The include tree of a domain's SPF record, walked without a sender or an IP: every
//! `include:` and `redirect=` followed (independent branches concurrently), every other
//! DNS-querying term looked up once, so the report can show what each branch costs against the
//! limits of RFC 7208 §4.6.4. Bounded in depth and size whatever the DNS data says.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use super::parse::{self, Mechanism, Modifier, Term};
use crate::dns::{Dns, DnsFailure, Lookup, Txt};

/// Deeper than any record within the limits can go (each level costs a lookup).
const MAX_DEPTH: usize = 12;
/// Records fetched in one walk at most; a budget of 10 lookups needs far fewer.
const MAX_NODES: usize = 60;

/// One SPF record in the tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Node {
    pub domain: String,
    #[serde(flatten)]
    pub state: NodeState,
    /// The DNS-querying terms of the record, in order, with what each found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<TermFact>,
    /// DNS lookups this record's own terms cost (`include`, `a`, `mx`, `ptr`, `exists`, and
    /// `redirect` when it applies).
    pub cost: u32,
    /// `cost` plus that of every record below it: what evaluating it may take.
    pub total: u32,
    /// Void lookups (NXDOMAIN or NODATA) among its own terms, and with those below.
    pub voids: u32,
    pub total_voids: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum NodeState {
    /// One SPF record, parsed.
    Record { text: String },
    /// The record does not parse: permerror for every receiver.
    Invalid {
        text: String,
        error: parse::SyntaxError,
    },
    /// The name has no SPF record (NXDOMAIN, NODATA, or TXT records without `v=spf1`).
    NoSpf { nxdomain: bool },
    /// More than one SPF record: permerror.
    Multiple { texts: Vec<String> },
    /// The TXT lookup failed: this branch's cost is unknown.
    Failed { failure: DnsFailure },
    /// The domain is already on the path from the root: an include loop.
    Loop,
    /// Not fetched: the walk's depth or size bound was reached.
    Truncated,
}

/// A DNS-querying term and what its lookup found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TermFact {
    pub term: String,
    pub outcome: TermOutcome,
    /// The record an `include:` or `redirect=` leads to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<Box<Node>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TermOutcome {
    /// The lookup found this many records (addresses, MX names, or an SPF record).
    Found {
        count: usize,
    },
    /// NXDOMAIN or NODATA: a void lookup.
    Void,
    Failed {
        failure: DnsFailure,
    },
    /// The target holds macros: it depends on the sender or IP and was not looked up.
    Macro,
    /// `ptr` depends on the client's address and is not looked up here.
    DependsOnClient,
    /// `redirect=` is ignored because the record has an `all` mechanism (§6.1).
    Ignored,
}

impl Node {
    /// Every node of the tree, depth first in evaluation order.
    pub fn walk(&self) -> Vec<&Node> {
        let mut out = vec![self];
        for t in &self.terms {
            if let Some(child) = &t.child {
                out.extend(child.walk());
            }
        }
        out
    }

    /// Every (record, term) pair of the tree, depth first in evaluation order.
    pub fn edges(&self) -> Vec<(&Node, &TermFact)> {
        let mut out = Vec::new();
        for t in self.evaluation_order() {
            out.push((self, t));
            if let Some(child) = &t.child {
                out.extend(child.edges());
            }
        }
        out
    }

    /// The terms in the order a receiver evaluates them: mechanisms as written, `redirect=` last.
    pub fn evaluation_order(&self) -> Vec<&TermFact> {
        let is_redirect = |t: &&TermFact| t.term.to_ascii_lowercase().starts_with("redirect=");
        let mut order: Vec<&TermFact> = self.terms.iter().filter(|t| !is_redirect(t)).collect();
        order.extend(self.terms.iter().filter(is_redirect));
        order
    }

    /// What one top-level term costs: itself plus everything below it.
    pub fn term_cost(term: &TermFact) -> u32 {
        let own = u32::from(!matches!(term.outcome, TermOutcome::Ignored));
        own + term.child.as_ref().map_or(0, |c| c.total)
    }

    /// The record's text, when there is one.
    pub fn text(&self) -> Option<&str> {
        match &self.state {
            NodeState::Record { text } | NodeState::Invalid { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether any branch could not be fetched, so totals are lower bounds.
    pub fn incomplete(&self) -> bool {
        self.walk().iter().any(|n| {
            matches!(n.state, NodeState::Failed { .. } | NodeState::Truncated)
                || n.terms
                    .iter()
                    .any(|t| matches!(t.outcome, TermOutcome::Failed { .. }))
        })
    }
}

/// Walks the tree from the domain's own TXT records (already fetched for the audit).
pub async fn walk(dns: &Dns, domain: &str, txt: &Lookup<Vec<Txt>>) -> Node {
    let nodes = AtomicUsize::new(1);
    build(dns, domain.to_owned(), txt.clone(), Vec::new(), &nodes).await
}

fn fetch<'a>(
    dns: &'a Dns,
    domain: String,
    path: Vec<String>,
    nodes: &'a AtomicUsize,
) -> Pin<Box<dyn Future<Output = Node> + Send + 'a>> {
    Box::pin(async move {
        if path.contains(&domain) {
            return leaf(domain, NodeState::Loop);
        }
        if path.len() >= MAX_DEPTH || nodes.fetch_add(1, Ordering::Relaxed) >= MAX_NODES {
            return leaf(domain, NodeState::Truncated);
        }
        let txt = dns.txt(&domain).await;
        build(dns, domain, txt, path, nodes).await
    })
}

fn leaf(domain: String, state: NodeState) -> Node {
    Node {
        domain,
        state,
        terms: Vec::new(),
        cost: 0,
        total: 0,
        voids: 0,
        total_voids: 0,
    }
}

async fn build(
    dns: &Dns,
    domain: String,
    txt: Lookup<Vec<Txt>>,
    mut path: Vec<String>,
    nodes: &AtomicUsize,
) -> Node {
    let txts = match txt {
        Lookup::Found { records, .. } => records,
        Lookup::NxDomain => return leaf(domain, NodeState::NoSpf { nxdomain: true }),
        Lookup::NoData => return leaf(domain, NodeState::NoSpf { nxdomain: false }),
        Lookup::Failed(failure) => return leaf(domain, NodeState::Failed { failure }),
    };
    let spf = super::records(&txts);
    let record = match spf.as_slice() {
        [] => return leaf(domain, NodeState::NoSpf { nxdomain: false }),
        [one] => one.joined(),
        many => {
            let texts = many.iter().map(|t| t.text()).collect();
            return leaf(domain, NodeState::Multiple { texts });
        }
    };
    let text = record.lossy().into_owned();
    let parsed = match parse::parse(&record.0) {
        Ok(r) => r,
        Err(error) => return leaf(domain, NodeState::Invalid { text, error }),
    };
    path.push(domain.clone());
    let has_all = parsed.has_all();
    let lookups = parsed.terms.iter().filter_map(|t| {
        let target = |spec: &Option<super::macros::MacroString>| match spec {
            Some(m) => m.literal(),
            None => Some(domain.clone()),
        };
        let work: Work = match &t.term {
            Term::Directive { mechanism, .. } => match mechanism {
                Mechanism::Include { domain: d } => d.literal().map_or(Work::Macro, Work::Record),
                Mechanism::A { domain: d, .. } => target(d).map_or(Work::Macro, Work::Address),
                Mechanism::Mx { domain: d, .. } => target(d).map_or(Work::Macro, Work::Mx),
                Mechanism::Exists { domain: d } => d.literal().map_or(Work::Macro, Work::Exists),
                Mechanism::Ptr { .. } => Work::Client,
                _ => return None,
            },
            Term::Modifier(Modifier::Redirect { .. }) if has_all => Work::Ignored,
            Term::Modifier(Modifier::Redirect { domain: d }) => {
                d.literal().map_or(Work::Macro, Work::Record)
            }
            Term::Modifier(_) => return None,
        };
        Some((t.text.clone(), work))
    });
    let terms: Vec<TermFact> = join_all(lookups.map(|(term, work)| {
        let path = path.clone();
        async move { look(dns, term, work, path, nodes).await }
    }))
    .await;
    let counted = |t: &&TermFact| !matches!(t.outcome, TermOutcome::Ignored);
    let cost = u32::try_from(terms.iter().filter(counted).count()).unwrap_or(u32::MAX);
    let voids = u32::try_from(
        terms
            .iter()
            .filter(|t| t.outcome == TermOutcome::Void)
            .count(),
    )
    .unwrap_or(u32::MAX);
    let below = |f: fn(&Node) -> u32| {
        terms
            .iter()
            .filter_map(|t| t.child.as_deref())
            .map(f)
            .sum::<u32>()
    };
    Node {
        domain,
        state: NodeState::Record { text },
        total: cost + below(|n| n.total),
        total_voids: voids + below(|n| n.total_voids),
        cost,
        voids,
        terms,
    }
}

/// What one term needs looked up.
enum Work {
    Record(String),
    Address(String),
    Mx(String),
    Exists(String),
    Macro,
    Client,
    Ignored,
}

async fn look(
    dns: &Dns,
    term: String,
    work: Work,
    path: Vec<String>,
    nodes: &AtomicUsize,
) -> TermFact {
    let (outcome, child) = match work {
        Work::Record(target) => {
            let node = fetch(dns, target.to_ascii_lowercase(), path, nodes).await;
            let outcome = match &node.state {
                NodeState::NoSpf { .. } => TermOutcome::Void,
                NodeState::Failed { failure } => TermOutcome::Failed {
                    failure: failure.clone(),
                },
                _ => TermOutcome::Found { count: 1 },
            };
            (outcome, Some(Box::new(node)))
        }
        Work::Address(target) => {
            let (a, aaaa) = tokio::join!(dns.a(&target), dns.aaaa(&target));
            let outcome = match (a, aaaa) {
                (Lookup::Found { records: v4, .. }, six) => TermOutcome::Found {
                    count: v4.len() + six.records().map_or(0, Vec::len),
                },
                (four, Lookup::Found { records: v6, .. }) => TermOutcome::Found {
                    count: v6.len() + four.records().map_or(0, Vec::len),
                },
                (Lookup::Failed(failure), _) | (_, Lookup::Failed(failure)) => {
                    TermOutcome::Failed { failure }
                }
                _ => TermOutcome::Void,
            };
            (outcome, None)
        }
        Work::Mx(target) => (counted(dns.mx(&target).await), None),
        Work::Exists(target) => (counted(dns.a(&target).await), None),
        Work::Macro => (TermOutcome::Macro, None),
        Work::Client => (TermOutcome::DependsOnClient, None),
        Work::Ignored => (TermOutcome::Ignored, None),
    };
    TermFact {
        term,
        outcome,
        child,
    }
}

fn counted<T>(lookup: Lookup<Vec<T>>) -> TermOutcome {
    match lookup {
        Lookup::Found { records, .. } => TermOutcome::Found {
            count: records.len(),
        },
        Lookup::NxDomain | Lookup::NoData => TermOutcome::Void,
        Lookup::Failed(failure) => TermOutcome::Failed { failure },
    }
}
