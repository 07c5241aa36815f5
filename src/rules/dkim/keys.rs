//! DKIM key rules: syntax, key type and size, flags, restrictions, duplicates.

use super::{Outcome, Rule, Violation, with_keys};
use crate::facts::Facts;
use crate::finding::{Category, Severity};

pub static DKIM_INVALID: Rule = Rule {
    code: "DKIM003",
    name: "dkim-record-invalid",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "A DKIM key record cannot be used",
    explanation: "The TXT record at the selector has a syntax error (a part that is not \
        tag=value, a repeated tag, a v= that is not first or not DKIM1, no p= tag), or its p= \
        does not decode to a key of its type. Verifiers treat the signature as failed \
        (permerror), so mail signed with this selector fails DKIM.",
    remediation: "Publish the record exactly as the signer gives it: `v=DKIM1; k=rsa; p=<base64 \
        of the SubjectPublicKeyInfo>`, each tag once, split into strings of at most 255 bytes \
        without changing the text.",
    reference: "RFC 6376 §3.6.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dkim_invalid,
};

fn dkim_invalid(f: &Facts) -> Outcome {
    let mut v = Vec::new();
    for s in f.dkim.found() {
        for k in &s.keys {
            match &k.parsed {
                Err(e) => v.push(Violation::at(&s.name, format!("{}: {e}", s.name))),
                Ok(r) => {
                    if let Some(e) = &r.key_error {
                        v.push(Violation::at(&s.name, format!("{}: {e}", s.name)));
                    }
                }
            }
        }
    }
    super::judged(f, v)
}

pub static DKIM_KEY_WEAK: Rule = Rule {
    code: "DKIM004",
    name: "dkim-key-too-small",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "A DKIM RSA key is shorter than 1024 bits",
    explanation: "RFC 8301 requires verifiers to reject RSA keys under 1024 bits, so signatures \
        made with this key fail; such keys can also be factored, letting others sign as the \
        domain.",
    remediation: "Generate a 2048-bit RSA key at the signer, publish it under a new selector, \
        switch signing to it, then revoke the old selector (publish it with an empty p=).",
    reference: "RFC 8301 §3.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        with_keys(f, |s, k| match k.bits {
            Some(b) if k.key_type == "rsa" && b < 1024 => {
                Some(format!("{} publishes a {b}-bit RSA key", s.name))
            }
            _ => None,
        })
    },
};

pub static DKIM_KEY_1024: Rule = Rule {
    code: "DKIM005",
    name: "dkim-key-short",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A DKIM RSA key is shorter than 2048 bits",
    explanation: "Keys of 1024 bits are still accepted, but are within reach of a well-funded \
        attacker and are being phased out; 2048 bits is the current recommendation and what the \
        big providers generate.",
    remediation: "Generate a 2048-bit RSA key, publish it under a new selector, move signing to \
        it, then revoke the old selector with an empty p=.",
    reference: "RFC 8301 §3.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        with_keys(f, |s, k| match k.bits {
            Some(b) if k.key_type == "rsa" && (1024..2048).contains(&b) => {
                Some(format!("{} publishes a {b}-bit RSA key", s.name))
            }
            _ => None,
        })
    },
};

pub static DKIM_KEY_HUGE: Rule = Rule {
    code: "DKIM006",
    name: "dkim-key-too-large",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A DKIM RSA key is longer than 4096 bits",
    explanation: "Verifiers need only handle keys up to 4096 bits (RFC 8301 §3.2); some refuse \
        larger ones, and their signatures then fail.",
    remediation: "Use a 2048-bit (or at most 4096-bit) RSA key under a new selector.",
    reference: "RFC 8301 §3.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        with_keys(f, |s, k| match k.bits {
            Some(b) if k.key_type == "rsa" && b > 4096 => {
                Some(format!("{} publishes a {b}-bit RSA key", s.name))
            }
            _ => None,
        })
    },
};

pub static DKIM_ED25519_ONLY: Rule = Rule {
    code: "DKIM007",
    name: "dkim-ed25519-only",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "Only ed25519 DKIM keys were found",
    explanation: "Many verifiers still do not implement ed25519-sha256 (RFC 8463); to them a \
        message signed only with ed25519 is unsigned. RFC 8463 expects signers to sign with RSA \
        as well.",
    remediation: "Sign with an RSA key too (dual signing), published under its own selector, \
        e.g. `rsa2048._domainkey.example.com. TXT \"v=DKIM1; k=rsa; p=<key>\"`.",
    reference: "RFC 8463 §1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: dkim_ed25519_only,
};

fn dkim_ed25519_only(f: &Facts) -> Outcome {
    let usable: Vec<_> = super::parsed(f).filter(|(_, k)| !k.revoked).collect();
    if usable.is_empty() {
        return super::judged(f, Vec::new());
    }
    if usable.iter().all(|(_, k)| k.key_type == "ed25519") {
        let names: Vec<&str> = usable.iter().map(|(s, _)| s.name.as_str()).collect();
        return Outcome::Fail(vec![Violation::at(
            f.domain.as_str(),
            format!(
                "the only keys found are ed25519 ({}); no RSA key was found at the selectors \
                 tried (another selector may hold one)",
                names.join(", ")
            ),
        )]);
    }
    // An RSA key was found: whatever failed elsewhere, the domain is not ed25519-only.
    Outcome::Pass
}

pub static DKIM_REVOKED: Rule = Rule {
    code: "DKIM008",
    name: "dkim-key-revoked",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "A DKIM selector is revoked (empty p=)",
    explanation: "An empty p= revokes the key: signatures with this selector fail. That is the \
        right way to retire a selector; if mail is still signed with it, it fails DKIM.",
    remediation: "Nothing, if the selector is retired. Otherwise publish the current public key.",
    reference: "RFC 6376 §3.6.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        with_keys(f, |s, k| {
            k.revoked
                .then(|| format!("{} is revoked (p= is empty)", s.name))
        })
    },
};

pub static DKIM_TESTING: Rule = Rule {
    code: "DKIM009",
    name: "dkim-testing",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A DKIM key is in testing mode (t=y)",
    explanation: "With t=y, verifiers must not treat mail differently whether the signature \
        verifies or not, so DKIM gives the domain no protection with this key.",
    remediation: "Remove t=y from the key record once signing works.",
    reference: "RFC 6376 §3.6.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        with_keys(f, |s, k| {
            k.flags
                .iter()
                .any(|t| t == "y")
                .then(|| format!("{} has t=y (testing)", s.name))
        })
    },
};

pub static DKIM_SHA1_ONLY: Rule = Rule {
    code: "DKIM010",
    name: "dkim-sha1-only",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "A DKIM key allows only SHA-1 (h=sha1)",
    explanation: "RFC 8301 forbids rsa-sha1 for signing and verifying; a key restricted to SHA-1 \
        can only make signatures that verifiers reject.",
    remediation: "Remove the h= tag (or set h=sha256) and sign with rsa-sha256.",
    reference: "RFC 8301 §3.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        with_keys(f, |s, k| match &k.hashes {
            Some(h) if !h.is_empty() && h.iter().all(|h| h == "sha1") => {
                Some(format!("{} has h={}", s.name, h.join(":")))
            }
            _ => None,
        })
    },
};

pub static DKIM_NO_SUBDOMAINS: Rule = Rule {
    code: "DKIM011",
    name: "dkim-strict-domain",
    category: Category::Authentication,
    severity: Severity::Info,
    title: "A DKIM key does not allow subdomains (t=s)",
    explanation: "With t=s the i= identity of a signature must be exactly the d= domain; \
        signatures whose i= names a subdomain fail with this key.",
    remediation: "Nothing, if no signer uses a subdomain in i=. Otherwise remove the s flag.",
    reference: "RFC 6376 §3.6.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        with_keys(f, |s, k| {
            k.flags
                .iter()
                .any(|t| t == "s")
                .then(|| format!("{} has t=s", s.name))
        })
    },
};

pub static DKIM_SERVICE: Rule = Rule {
    code: "DKIM012",
    name: "dkim-service-restricted",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A DKIM key is not for email (s= lacks email and *)",
    explanation: "The s= tag restricts the key to service types; without `email` or `*`, \
        verifiers of email must not use the key, and signatures with it fail.",
    remediation: "Remove the s= tag, or set s=email.",
    reference: "RFC 6376 §3.6.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        with_keys(f, |s, k| match &k.services {
            Some(v) if !v.iter().any(|t| t == "*" || t == "email") => {
                Some(format!("{} has s={}", s.name, v.join(":")))
            }
            _ => None,
        })
    },
};

pub static DKIM_MULTIPLE: Rule = Rule {
    code: "DKIM013",
    name: "dkim-multiple-records",
    category: Category::Authentication,
    severity: Severity::Warning,
    title: "A DKIM selector has more than one TXT record",
    explanation: "A verifier may use any one of several records at a selector, or fail: which \
        key is checked is a matter of chance, so signatures fail intermittently.",
    remediation: "Keep exactly one key record per selector; use a new selector for a new key.",
    reference: "RFC 6376 §3.6.2.2",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        super::judged(
            f,
            f.dkim
                .found()
                .filter(|s| s.keys.len() > 1)
                .map(|s| {
                    Violation::at(
                        &s.name,
                        format!("{} has {} TXT records", s.name, s.keys.len()),
                    )
                })
                .collect(),
        )
    },
};

pub static DKIM_KEY_TYPE: Rule = Rule {
    code: "DKIM015",
    name: "dkim-key-type-unknown",
    category: Category::Authentication,
    severity: Severity::Error,
    title: "A DKIM key has a key type verifiers do not know",
    explanation: "k= must be rsa (the default) or ed25519; verifiers ignore keys of other types, \
        so signatures with this selector fail.",
    remediation: "Publish k=rsa (or k=ed25519 with an ed25519 key, alongside an RSA one).",
    reference: "RFC 8463 §4.1",
    since: "0.1.0",
    status: crate::rules::RuleStatus::Stable,
    check: |f| {
        with_keys(f, |s, k| {
            (!matches!(k.key_type.as_str(), "rsa" | "ed25519"))
                .then(|| format!("{} has k={}", s.name, k.key_type))
        })
    },
};
