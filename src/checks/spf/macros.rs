//! SPF macro strings (RFC 7208 §7): parsing, and expansion against one `check_host()` context.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// A parsed macro-string: literals and macros in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MacroString {
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Part {
    Literal(String),
    /// `%{letter transformers delimiters}`.
    Macro {
        letter: char,
        /// Upper-case letter: URL-escape the result (§7.3).
        escape: bool,
        /// Keep only this many right-hand parts.
        keep: Option<usize>,
        reverse: bool,
        delimiters: String,
    },
}

impl MacroString {
    /// Whether the string holds any macro (so it cannot be resolved without a sender and an IP).
    pub fn has_macros(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Macro { .. }))
    }

    /// The text when there are no macros.
    pub fn literal(&self) -> Option<String> {
        (!self.has_macros()).then(|| {
            self.parts
                .iter()
                .map(|p| match p {
                    Part::Literal(s) => s.as_str(),
                    Part::Macro { .. } => "",
                })
                .collect()
        })
    }
}

/// Parses a macro-string; `exp` allows the letters only valid in explanations (c, r, t).
pub fn parse(text: &str, exp: bool) -> Result<MacroString, String> {
    let mut parts: Vec<Part> = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '%' {
            if !(c.is_ascii_graphic() || (exp && c == ' ')) {
                return Err(format!("{c:?} is not allowed in a macro string"));
            }
            literal.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '%')) => literal.push('%'),
            Some((_, '_')) => literal.push(' '),
            Some((_, '-')) => literal.push_str("%20"),
            Some((_, '{')) => {
                let rest = &text[i + 2..];
                let end = rest
                    .find('}')
                    .ok_or_else(|| format!("unclosed macro at {:?}", &text[i..]))?;
                let body = &rest[..end];
                for _ in 0..=end {
                    chars.next();
                }
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(parse_macro(body, exp)?);
            }
            _ => {
                return Err(format!(
                    "a lone '%' in {text:?}: write %% for a percent sign"
                ));
            }
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(MacroString { parts })
}

fn parse_macro(body: &str, exp: bool) -> Result<Part, String> {
    let mut chars = body.chars();
    let letter = chars.next().ok_or("an empty macro %{}")?;
    let lower = letter.to_ascii_lowercase();
    let allowed = if exp { "slodiphvcrt" } else { "slodiphv" };
    if !allowed.contains(lower) {
        return Err(if "crt".contains(lower) {
            format!("macro %{{{letter}}} is only allowed in exp= explanations")
        } else {
            format!("unknown macro letter {letter:?}")
        });
    }
    let rest: &str = chars.as_str();
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let keep = if digits_end == 0 {
        None
    } else {
        let n: usize = rest[..digits_end]
            .parse()
            .map_err(|_| format!("bad digits in macro %{{{body}}}"))?;
        if n == 0 {
            return Err(format!("macro %{{{body}}} keeps zero parts"));
        }
        Some(n)
    };
    let mut rest = &rest[digits_end..];
    let reverse = rest.starts_with(['r', 'R']);
    if reverse {
        rest = &rest[1..];
    }
    if let Some(c) = rest.chars().find(|c| !".-+,/_=".contains(*c)) {
        return Err(format!("{c:?} is not a macro delimiter in %{{{body}}}"));
    }
    Ok(Part::Macro {
        letter: lower,
        escape: letter.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters: rest.to_owned(),
    })
}

/// What macros expand to in one evaluation.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    pub sender: &'a str,
    pub domain: &'a str,
    pub ip: IpAddr,
    pub helo: &'a str,
    /// The validated name of the IP (`%{p}`), looked up only when a macro needs it.
    pub validated: Option<&'a str>,
    /// The receiver's name (`%{r}`).
    pub receiver: &'a str,
    pub timestamp: u64,
}

/// Whether expansion needs `%{p}`, which costs DNS lookups.
pub fn needs_validated_name(m: &MacroString) -> bool {
    m.parts
        .iter()
        .any(|p| matches!(p, Part::Macro { letter: 'p', .. }))
}

/// Expands a macro string (§7.3, §7.4).
pub fn expand(m: &MacroString, cx: &Context<'_>) -> String {
    let mut out = String::new();
    for part in &m.parts {
        match part {
            Part::Literal(s) => out.push_str(s),
            Part::Macro {
                letter,
                escape,
                keep,
                reverse,
                delimiters,
            } => {
                let value = value(*letter, cx);
                let delims: &str = if delimiters.is_empty() {
                    "."
                } else {
                    delimiters
                };
                let mut pieces: Vec<&str> = value.split(|c| delims.contains(c)).collect();
                if *reverse {
                    pieces.reverse();
                }
                if let Some(n) = keep {
                    let skip = pieces.len().saturating_sub(*n);
                    pieces.drain(..skip);
                }
                let joined = pieces.join(".");
                if *escape {
                    url_escape(&joined, &mut out);
                } else {
                    out.push_str(&joined);
                }
            }
        }
    }
    out
}

fn value(letter: char, cx: &Context<'_>) -> String {
    let (local, sender_domain) = cx
        .sender
        .rsplit_once('@')
        .unwrap_or(("postmaster", cx.sender));
    match letter {
        's' => cx.sender.to_owned(),
        'l' => local.to_owned(),
        'o' => sender_domain.to_owned(),
        'd' => cx.domain.to_owned(),
        'i' => dotted(cx.ip),
        'p' => cx.validated.unwrap_or("unknown").to_owned(),
        'v' => if cx.ip.is_ipv4() { "in-addr" } else { "ip6" }.to_owned(),
        'h' => cx.helo.to_owned(),
        'c' => cx.ip.to_string(),
        'r' => cx.receiver.to_owned(),
        't' => cx.timestamp.to_string(),
        _ => String::new(),
    }
}

/// `%{i}`: dotted quads for IPv4, dot-separated nibbles for IPv6 (§7.3).
pub fn dotted(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(63);
            for (i, b) in v6.octets().iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                let _ = write!(s, "{:x}.{:x}", b >> 4, b & 0xf);
            }
            s
        }
    }
}

fn url_escape(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(ip: &str) -> Context<'static> {
        Context {
            sender: "strong-bad@email.example.com",
            domain: "email.example.com",
            ip: ip.parse().unwrap(),
            helo: "mx.example.org",
            validated: None,
            receiver: "unknown",
            timestamp: 0,
        }
    }

    fn exp(text: &str, ip: &str) -> String {
        expand(&parse(text, true).unwrap(), &cx(ip))
    }

    #[test]
    fn rfc_7208_section_7_4_examples() {
        let v4 = "192.0.2.3";
        assert_eq!(exp("%{s}", v4), "strong-bad@email.example.com");
        assert_eq!(exp("%{o}", v4), "email.example.com");
        assert_eq!(exp("%{d}", v4), "email.example.com");
        assert_eq!(exp("%{d4}", v4), "email.example.com");
        assert_eq!(exp("%{d3}", v4), "email.example.com");
        assert_eq!(exp("%{d2}", v4), "example.com");
        assert_eq!(exp("%{d1}", v4), "com");
        assert_eq!(exp("%{dr}", v4), "com.example.email");
        assert_eq!(exp("%{d2r}", v4), "example.email");
        assert_eq!(exp("%{l}", v4), "strong-bad");
        assert_eq!(exp("%{l-}", v4), "strong.bad");
        assert_eq!(exp("%{lr}", v4), "strong-bad");
        assert_eq!(exp("%{lr-}", v4), "bad.strong");
        assert_eq!(exp("%{l1r-}", v4), "strong");
        assert_eq!(
            exp("%{ir}.%{v}._spf.%{d2}", v4),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            exp("%{lr-}.lp._spf.%{d2}", v4),
            "bad.strong.lp._spf.example.com"
        );
        assert_eq!(
            exp("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", v4),
            "3.2.0.192.in-addr.strong.lp._spf.example.com"
        );
        assert_eq!(
            exp("%{d2}.trusted-domains.example.net", v4),
            "example.com.trusted-domains.example.net"
        );
        assert_eq!(
            exp("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01"),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        );
        assert_eq!(exp("%%%_%-", v4), "% %20");
        assert_eq!(exp("%{L}", v4), "strong-bad");
        assert_eq!(exp("%{S}", v4), "strong-bad%40email.example.com");
    }

    #[test]
    fn rejects_bad_macros() {
        assert!(parse("%{x}", false).is_err());
        assert!(parse("%{c}", false).is_err());
        assert!(parse("%{c}", true).is_ok());
        assert!(parse("%{d0}", false).is_err());
        assert!(parse("%{d", false).is_err());
        assert!(parse("50%", false).is_err());
        assert!(parse("%{d2r+-}", false).is_ok());
        assert!(parse("%{d2x}", false).is_err());
    }
}
