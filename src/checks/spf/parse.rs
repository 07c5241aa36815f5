//! A strict SPF record parser for auditing (RFC 7208 §4.6.1, §5, §6, §12 ABNF).
//!
//! Receivers' parsers are lenient (mail-auth drops unknown mechanisms, reads `ip4:999.1.1.1`);
//! this one reports the first term that breaks the grammar, with its position, because any
//! syntax error makes every compliant receiver return permerror.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::macros::{self, MacroString};

/// `+`, `-`, `~`, `?` (§4.6.2); `+` when omitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    pub fn symbol(self) -> char {
        match self {
            Self::Pass => '+',
            Self::Fail => '-',
            Self::SoftFail => '~',
            Self::Neutral => '?',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Mechanism {
    All,
    Include {
        domain: MacroString,
    },
    A {
        domain: Option<MacroString>,
        v4: Option<u8>,
        v6: Option<u8>,
    },
    Mx {
        domain: Option<MacroString>,
        v4: Option<u8>,
        v6: Option<u8>,
    },
    Ptr {
        domain: Option<MacroString>,
    },
    Ip4 {
        addr: Ipv4Addr,
        prefix: u8,
    },
    Ip6 {
        addr: Ipv6Addr,
        prefix: u8,
    },
    Exists {
        domain: MacroString,
    },
}

impl Mechanism {
    /// Whether evaluating it costs a DNS lookup against the limit of 10 (§4.6.4).
    pub fn queries_dns(&self) -> bool {
        matches!(
            self,
            Self::Include { .. }
                | Self::A { .. }
                | Self::Mx { .. }
                | Self::Ptr { .. }
                | Self::Exists { .. }
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Modifier {
    Redirect {
        domain: MacroString,
    },
    Exp {
        domain: MacroString,
    },
    /// Any other `name=value`: valid and ignored (§6), e.g. RFC 6652's `ra=`.
    Unknown {
        name: String,
        value: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Term {
    Directive {
        qualifier: Qualifier,
        mechanism: Mechanism,
    },
    Modifier(Modifier),
}

/// One term with where it stands in the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Located {
    pub text: String,
    /// Byte offset in the record.
    pub position: usize,
    pub term: Term,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Record {
    pub terms: Vec<Located>,
}

impl Record {
    pub fn redirect(&self) -> Option<&MacroString> {
        self.terms.iter().find_map(|t| match &t.term {
            Term::Modifier(Modifier::Redirect { domain }) => Some(domain),
            _ => None,
        })
    }

    pub fn exp(&self) -> Option<&MacroString> {
        self.terms.iter().find_map(|t| match &t.term {
            Term::Modifier(Modifier::Exp { domain }) => Some(domain),
            _ => None,
        })
    }

    pub fn directives(&self) -> impl Iterator<Item = (&Located, Qualifier, &Mechanism)> {
        self.terms.iter().filter_map(|t| match &t.term {
            Term::Directive {
                qualifier,
                mechanism,
            } => Some((t, *qualifier, mechanism)),
            Term::Modifier(_) => None,
        })
    }

    /// Whether an `all` mechanism is present: then `redirect=` is ignored (§6.1).
    pub fn has_all(&self) -> bool {
        self.directives()
            .any(|(_, _, m)| matches!(m, Mechanism::All))
    }
}

/// The first term that breaks the grammar.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, schemars::JsonSchema,
)]
#[error("{reason} (term {term:?} at byte {position})")]
pub struct SyntaxError {
    pub term: String,
    pub position: usize,
    pub reason: String,
}

/// Parses an SPF record from its joined TXT bytes.
pub fn parse(bytes: &[u8]) -> Result<Record, SyntaxError> {
    if let Some(pos) = bytes
        .iter()
        .position(|b| !(b.is_ascii_graphic() || *b == b' '))
    {
        let start = bytes[..pos]
            .iter()
            .rposition(|b| *b == b' ')
            .map_or(0, |p| p + 1);
        let end = bytes[pos..]
            .iter()
            .position(|b| *b == b' ')
            .map_or(bytes.len(), |p| pos + p);
        return Err(SyntaxError {
            term: String::from_utf8_lossy(&bytes[start..end]).into_owned(),
            position: pos,
            reason: format!(
                "byte 0x{:02x} is not allowed: SPF records are printable ASCII separated by spaces",
                bytes[pos]
            ),
        });
    }
    let text = std::str::from_utf8(bytes).expect("checked ASCII");
    let version = text.get(..6).filter(|v| v.eq_ignore_ascii_case("v=spf1"));
    if version.is_none() || !(text.len() == 6 || text.as_bytes()[6] == b' ') {
        return Err(SyntaxError {
            term: text.split(' ').next().unwrap_or_default().to_owned(),
            position: 0,
            reason: "an SPF record starts with v=spf1 followed by a space".into(),
        });
    }
    let mut terms = Vec::new();
    let mut offset = 6;
    for piece in text[6..].split(' ') {
        let position = offset;
        offset += piece.len() + 1;
        if piece.is_empty() {
            continue;
        }
        let error = |reason: String| SyntaxError {
            term: piece.to_owned(),
            position,
            reason,
        };
        let term = parse_term(piece).map_err(error)?;
        terms.push(Located {
            text: piece.to_owned(),
            position,
            term,
        });
    }
    for name in ["redirect", "exp"] {
        let mut same = terms.iter().filter(|t| match &t.term {
            Term::Modifier(Modifier::Redirect { .. }) => name == "redirect",
            Term::Modifier(Modifier::Exp { .. }) => name == "exp",
            _ => false,
        });
        if let (Some(_), Some(second)) = (same.next(), same.next()) {
            return Err(SyntaxError {
                term: second.text.clone(),
                position: second.position,
                reason: format!("the {name}= modifier may appear only once"),
            });
        }
    }
    Ok(Record { terms })
}

/// Whether a text is one valid SPF term on its own.
pub fn is_valid_term(piece: &str) -> bool {
    !piece.is_empty() && parse_term(piece).is_ok()
}

fn parse_term(piece: &str) -> Result<Term, String> {
    // A modifier is name=value where name has no ':' or '/' before the '='.
    let name_end = piece.find(['=', ':', '/']).unwrap_or(piece.len());
    if piece[name_end..].starts_with('=') {
        return parse_modifier(&piece[..name_end], &piece[name_end + 1..]).map(Term::Modifier);
    }
    let (qualifier, rest) = match piece.as_bytes()[0] {
        b'+' => (Qualifier::Pass, &piece[1..]),
        b'-' => (Qualifier::Fail, &piece[1..]),
        b'~' => (Qualifier::SoftFail, &piece[1..]),
        b'?' => (Qualifier::Neutral, &piece[1..]),
        _ => (Qualifier::Pass, piece),
    };
    let split = rest.find([':', '/']).unwrap_or(rest.len());
    let (name, arg) = rest.split_at(split);
    let mechanism = match name.to_ascii_lowercase().as_str() {
        "all" if arg.is_empty() => Mechanism::All,
        "all" => return Err("all takes no argument".into()),
        "include" => Mechanism::Include {
            domain: required_domain(arg, "include")?,
        },
        "exists" => Mechanism::Exists {
            domain: required_domain(arg, "exists")?,
        },
        "a" | "mx" => {
            let (domain, v4, v6) = domain_and_cidr(arg)?;
            if name.eq_ignore_ascii_case("a") {
                Mechanism::A { domain, v4, v6 }
            } else {
                Mechanism::Mx { domain, v4, v6 }
            }
        }
        "ptr" => {
            if arg.starts_with('/') {
                return Err("ptr takes no prefix length".into());
            }
            Mechanism::Ptr {
                domain: optional_domain(arg)?,
            }
        }
        "ip4" => {
            let net = arg.strip_prefix(':').ok_or("ip4 needs :address")?;
            let (addr, prefix) = net
                .split_once('/')
                .map_or((net, None), |(a, p)| (a, Some(p)));
            Mechanism::Ip4 {
                addr: ipv4(addr)?,
                prefix: prefix.map_or(Ok(32), |p| cidr(p, 32))?,
            }
        }
        "ip6" => {
            let net = arg.strip_prefix(':').ok_or("ip6 needs :address")?;
            let (addr, prefix) = net
                .split_once('/')
                .map_or((net, None), |(a, p)| (a, Some(p)));
            let addr: Ipv6Addr = addr
                .parse()
                .map_err(|_| format!("{addr:?} is not an IPv6 address"))?;
            Mechanism::Ip6 {
                addr,
                prefix: prefix.map_or(Ok(128), |p| cidr(p, 128))?,
            }
        }
        "" => return Err("a qualifier without a mechanism".into()),
        other => return Err(format!("unknown mechanism {other:?}")),
    };
    Ok(Term::Directive {
        qualifier,
        mechanism,
    })
}

fn parse_modifier(name: &str, value: &str) -> Result<Modifier, String> {
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_name {
        return Err(format!("{name:?} is not a valid modifier name"));
    }
    match name.to_ascii_lowercase().as_str() {
        "redirect" => Ok(Modifier::Redirect {
            domain: domain_spec(value)?,
        }),
        "exp" => Ok(Modifier::Exp {
            domain: domain_spec(value)?,
        }),
        _ => {
            macros::parse(value, false)?;
            Ok(Modifier::Unknown {
                name: name.to_owned(),
                value: value.to_owned(),
            })
        }
    }
}

fn required_domain(arg: &str, mechanism: &str) -> Result<MacroString, String> {
    let spec = arg
        .strip_prefix(':')
        .ok_or_else(|| format!("{mechanism} needs :domain"))?;
    domain_spec(spec)
}

fn optional_domain(arg: &str) -> Result<Option<MacroString>, String> {
    match arg.strip_prefix(':') {
        Some(spec) => domain_spec(spec).map(Some),
        None if arg.is_empty() => Ok(None),
        None => Err(format!("unexpected {arg:?}")),
    }
}

/// An optional domain-spec with its IPv4 and IPv6 prefix lengths.
type DomainCidr = (Option<MacroString>, Option<u8>, Option<u8>);

/// `[":" domain-spec] [dual-cidr-length]`. The lengths are matched from the right, since a
/// domain-spec may itself hold `/` and `:` (e.g. `a:foo:bar/baz.example.com`).
fn domain_and_cidr(arg: &str) -> Result<DomainCidr, String> {
    let (mut spec, mut v4, mut v6) = (arg, None, None);
    if let Some((head, tail)) = spec.rsplit_once("//").filter(|(_, t)| is_digits(t)) {
        v6 = Some(cidr(tail, 128)?);
        spec = head;
    }
    if let Some((head, tail)) = spec.rsplit_once('/').filter(|(_, t)| is_digits(t)) {
        v4 = Some(cidr(tail, 32)?);
        spec = head;
    }
    if spec.ends_with('/') || (!spec.starts_with(':') && !spec.is_empty()) {
        return Err(format!("{arg:?} is not a domain and prefix lengths"));
    }
    Ok((optional_domain(spec)?, v4, v6))
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A prefix length: no leading zeros, at most `max` (§5.6).
fn cidr(text: &str, max: u8) -> Result<u8, String> {
    let ok = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    let n: u8 = text
        .parse()
        .ok()
        .filter(|n| ok && *n <= max)
        .ok_or_else(|| format!("/{text} is not a prefix length from 0 to {max}"))?;
    Ok(n)
}

/// Dotted quad with each number 0–255 and no leading zeros (§12 `qnum`).
fn ipv4(text: &str) -> Result<Ipv4Addr, String> {
    let bad = || format!("{text:?} is not an IPv4 address");
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return Err(bad());
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&parts) {
        if p.is_empty()
            || !p.bytes().all(|b| b.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return Err(bad());
        }
        *o = p.parse().map_err(|_| bad())?;
    }
    Ok(Ipv4Addr::from(octets))
}

/// `domain-spec = macro-string domain-end`: the expanded name must end in a valid top label
/// (not all digits) unless it ends with a macro (§7.1).
fn domain_spec(text: &str) -> Result<MacroString, String> {
    if text.is_empty() {
        return Err("an empty domain".into());
    }
    let m = macros::parse(text, false)?;
    let ends_with_macro = matches!(m.parts.last(), Some(macros::Part::Macro { .. }));
    if !ends_with_macro {
        let trimmed = text.strip_suffix('.').unwrap_or(text);
        let (before, top) = trimmed.rsplit_once('.').unwrap_or(("", trimmed));
        let valid_top = !top.is_empty()
            && top.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && top.chars().any(|c| c.is_ascii_alphabetic())
            && !top.starts_with('-')
            && !top.ends_with('-');
        if before.is_empty() && !text.contains('%') || !valid_top {
            return Err(format!("{text:?} does not end in a valid domain name"));
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Record {
        parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> SyntaxError {
        parse(text.as_bytes()).expect_err(text)
    }

    #[test]
    fn parses_every_mechanism_and_modifier() {
        let r = ok(
            "v=spf1 +a -mx:mail.example.com/24 ~ptr ?ip4:192.0.2.0/24 ip6:2001:db8::/32 \
                    a:example.org/24//64 mx//56 include:_spf.example.net exists:%{ir}.bl.example \
                    redirect=_spf.example.com exp=explain.example.com ra=postmaster -all",
        );
        assert_eq!(r.terms.len(), 13);
        assert!(matches!(
            r.terms[3].term,
            Term::Directive {
                qualifier: Qualifier::Neutral,
                mechanism: Mechanism::Ip4 { prefix: 24, .. }
            }
        ));
        assert!(matches!(
            r.terms[5].term,
            Term::Directive {
                mechanism: Mechanism::A {
                    v4: Some(24),
                    v6: Some(64),
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            r.terms[6].term,
            Term::Directive {
                mechanism: Mechanism::Mx {
                    v4: None,
                    v6: Some(56),
                    domain: None
                },
                ..
            }
        ));
        assert!(r.redirect().is_some() && r.exp().is_some() && r.has_all());
        assert_eq!(r.terms[1].position, 10);
    }

    #[test]
    fn tolerates_case_and_extra_spaces() {
        ok("V=SPF1  MX   -ALL ");
        ok("v=spf1");
    }

    #[test]
    fn reports_the_offending_term_and_its_position() {
        let e = err("v=spf1 mx foo:bar -all");
        assert_eq!((e.term.as_str(), e.position), ("foo:bar", 10));
        assert!(e.reason.contains("unknown mechanism"), "{e}");
        for bad in [
            "v=spf1 ip4:999.1.1.1",
            "v=spf1 ip4:192.0.2.1/33",
            "v=spf1 ip4:192.0.2.01",
            "v=spf1 ip6:2001:db8::/129",
            "v=spf1 a/024",
            "v=spf1 all:x",
            "v=spf1 include:",
            "v=spf1 include:example",
            "v=spf1 a:example.123",
            "v=spf1 redirect=a.example redirect=b.example",
            "v=spf1 exists:%{x}.example.com",
            "v=spf1 -",
            "v=spf1 ptr/24",
            "v=spf1 1x=foo",
            "v=spf1 mx\t-all",
            "v=spf1 a/",
            "v=spf1 a/24/",
            "v=spf1 mx/x",
            "v=spf1 -all\0",
        ] {
            err(bad);
        }
    }

    #[test]
    fn domain_specs_may_hold_colons_and_slashes() {
        let r = ok("v=spf1 a:foo:bar/baz.example.com/24 mx:a/b.example//64");
        assert!(
            matches!(&r.terms[0].term, Term::Directive { mechanism: Mechanism::A { v4: Some(24), v6: None, domain: Some(d) }, .. } if d.literal().as_deref() == Some("foo:bar/baz.example.com"))
        );
        assert!(matches!(
            &r.terms[1].term,
            Term::Directive {
                mechanism: Mechanism::Mx {
                    v4: None,
                    v6: Some(64),
                    ..
                },
                ..
            }
        ));
    }

    #[test]
    fn unknown_modifiers_are_valid() {
        let r = ok("v=spf1 ra=postmaster rp=10 rr=e:f -all");
        assert_eq!(r.terms.len(), 4);
    }

    #[test]
    fn hostile_input_is_rejected_without_panicking() {
        let long = format!("v=spf1 {} -all", "a ".repeat(5000));
        assert_eq!(ok(&long).terms.len(), 5001);
        for bytes in [
            &b"v=spf1 \x1b[2J"[..],
            b"v=spf1 \xff",
            b"",
            b"v",
            b"v=spf1 %",
            b"v=spf1 a:%{",
        ] {
            let _ = parse(bytes);
        }
        assert!(parse("v=spf1 a:bücher.example".as_bytes()).is_err());
    }
}
