//! mail-auth 0.13.3 as an independent oracle: the RFC 7208 suite and the SPF fixtures are also
//! evaluated by its `check_host()` against the same lab, and every disagreement must be a
//! documented deviation of mail-auth from the RFC (listed below with why), where the suite's
//! own verdict agrees with mailcheck and not with mail-auth. A new disagreement, or a listed one
//! that no longer happens, fails the test.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::MessageAuthenticator;
use mail_auth::spf::verify::SpfParameters;
use mailcheck::checks::spf::eval::{Request, check_host};
use mailcheck::lab::Lab;
use yaml_rust2::{Yaml, YamlLoader};

use crate::rfc7208::serve;
use crate::support::dns;

/// Suite tests where mail-auth 0.13.3 departs from RFC 7208, and how.
const MAIL_AUTH_DEVIATIONS: &[(&str, &str)] = &[
    (
        "a-bad-cidr4",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "a-bad-cidr6",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "a-dual-cidr-ip4-err",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "badip4",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "cidr4-032",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "cidr4-33",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "cidr6-129",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "control-char-policy",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "empty-modifier-name",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "exp-syntax-error",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "invalid-modifier",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "mx-bad-cidr4",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "mx-bad-cidr6",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "non-ascii-mech",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "non-ascii-policy",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "redirect-syntax-error",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "invalid-domain",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "a-numeric",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "a-numeric-toplabel",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "a-only-toplabel",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "a-only-toplabel-trailing-dot",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "mx-numeric-top-label",
        "lenient parsing: accepts a term RFC 7208 makes a permerror",
    ),
    (
        "a-colon-domain",
        "rejects a valid domain-spec holding ':' or '/', or a valid modifier value",
    ),
    (
        "a-colon-domain-ip4mapped",
        "rejects a valid domain-spec holding ':' or '/', or a valid modifier value",
    ),
    (
        "mx-colon-domain",
        "rejects a valid domain-spec holding ':' or '/', or a valid modifier value",
    ),
    (
        "mx-colon-domain-ip4mapped",
        "rejects a valid domain-spec holding ':' or '/', or a valid modifier value",
    ),
    (
        "modifier-charset-good",
        "rejects a valid domain-spec holding ':' or '/', or a valid modifier value",
    ),
    (
        "a-bad-domain",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "a-bad-toplabel",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "a-null",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "invalid-domain-empty-label",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "invalid-domain-long",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "invalid-domain-long-via-macro",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "mx-bad-domain",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "mx-bad-toplab",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "mx-null",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "hello-domain-literal",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "invalid-hello-macro",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "macro-mania-in-domain",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "p-macro-multiple",
        "reports an unqueryable target name as temperror rather than permerror or no match",
    ),
    (
        "a-cidr6-0-ip4mapped",
        "matches IPv4(-mapped) clients against ip6 and AAAA data",
    ),
    (
        "mx-cidr6-0-ip4mapped",
        "matches IPv4(-mapped) clients against ip6 and AAAA data",
    ),
    (
        "cidr6-0-ip4",
        "matches IPv4(-mapped) clients against ip6 and AAAA data",
    ),
    (
        "cidr6-ip4",
        "matches IPv4(-mapped) clients against ip6 and AAAA data",
    ),
    (
        "exists-ip6only",
        "matches IPv4(-mapped) clients against ip6 and AAAA data",
    ),
    (
        "domain-literal",
        "gives permerror, not none, for a malformed initial domain (§4.3)",
    ),
    (
        "emptylabel",
        "gives permerror, not none, for a malformed initial domain (§4.3)",
    ),
    (
        "helo-domain-literal",
        "gives permerror, not none, for a malformed initial domain (§4.3)",
    ),
    (
        "multitxt1",
        "uses the first of several SPF records instead of permerror (§4.5)",
    ),
    (
        "multitxt2",
        "uses the first of several SPF records instead of permerror (§4.5)",
    ),
    (
        "void-over-limit",
        "does not enforce the void-lookup limit (§4.6.4)",
    ),
    (
        "ptr-match-implicit",
        "does not validate ptr names the RFC way (§5.5)",
    ),
    (
        "ptr-match-ip6",
        "does not validate ptr names the RFC way (§5.5)",
    ),
    (
        "redirect-after-mechanisms2",
        "applies redirect= when the record has mechanisms after it that do not match",
    ),
];

fn oracle(lab: &Lab) -> MessageAuthenticator {
    let mut ns = NameServerConfig::udp_and_tcp(lab.addr().ip());
    for c in &mut ns.connections {
        c.port = lab.addr().port();
    }
    let mut opts = ResolverOpts::default();
    opts.timeout = Duration::from_millis(500);
    opts.attempts = 0;
    opts.cache_size = 0;
    MessageAuthenticator::new(ResolverConfig::from_name_servers(vec![ns]), opts)
        .expect("oracle resolver")
}

async fn theirs(auth: &MessageAuthenticator, r: &Request) -> String {
    let out = auth
        .check_host(
            SpfParameters::new(r.ip, &r.domain, &r.helo, "mailcheck.test", &r.sender).into(),
        )
        .await;
    format!("{:?}", out.result()).to_ascii_lowercase()
}

fn text(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        other => panic!("{other:?}"),
    }
}

/// Every disagreement must be a documented deviation, and every documented deviation must
/// still happen (so the list cannot rot).
fn assert_only_documented(disagreements: &BTreeMap<String, String>, documented: &[(&str, &str)]) {
    let unexplained: Vec<_> = disagreements
        .iter()
        .filter(|(n, _)| !documented.iter().any(|(d, _)| d == n))
        .collect();
    let stale: Vec<_> = documented
        .iter()
        .filter(|(d, _)| !disagreements.contains_key(*d))
        .collect();
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "unexplained: {unexplained:#?}\nstale: {stale:?}"
    );
}

/// The origins of the fixture zones.
fn fixture_origins() -> Vec<String> {
    let mut origins: Vec<String> = std::fs::read_dir(mailcheck::lab::fixture_dir())
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".zone")
                .map(str::to_owned)
        })
        .collect();
    origins.sort();
    origins
}

#[tokio::test]
async fn mail_auth_agrees_with_the_rfc_7208_suite_except_where_documented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rfc7208/rfc7208-tests.yml");
    let docs = YamlLoader::load_from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut disagreements: BTreeMap<String, String> = BTreeMap::new();
    let mut compared = 0;
    for doc in &docs {
        let lab = serve(&doc["zonedata"]).await;
        let auth = oracle(&lab);
        let Yaml::Hash(tests) = &doc["tests"] else {
            panic!("tests")
        };
        for (name, t) in tests {
            let ip: IpAddr = text(&t["host"]).parse().unwrap();
            let request = Request::mail_from(ip, &text(&t["mailfrom"]), &text(&t["helo"]));
            let ours = check_host(&dns(lab.addr()), &request)
                .await
                .result
                .as_str()
                .to_owned();
            let theirs = theirs(&auth, &request).await;
            compared += 1;
            let expected: Vec<String> = match &t["result"] {
                Yaml::Array(list) => list.iter().map(text).collect(),
                one => vec![text(one)],
            };
            if ours != theirs {
                // The suite is the judge: mailcheck's answer is one it accepts, mail-auth's not.
                assert!(
                    expected.contains(&ours) && !expected.contains(&theirs),
                    "{}: {expected:?}",
                    text(name)
                );
                disagreements.insert(text(name), format!("mailcheck {ours}, mail-auth {theirs}"));
            }
        }
    }
    assert_eq!(compared, 203);
    assert_only_documented(&disagreements, MAIL_AUTH_DEVIATIONS);
}

/// Fixture evaluations where mail-auth departs from RFC 7208, and how.
const FIXTURE_DEVIATIONS: &[(&str, &str)] = &[
    (
        "spfnearmiss.test 192.0.2.10",
        "reads \" v=spf1 …\" (a leading space) as an SPF record (§4.5)",
    ),
    (
        "spfnearmiss.test 192.0.2.41",
        "reads \" v=spf1 …\" (a leading space) as an SPF record (§4.5)",
    ),
    (
        "spfnearmiss.test 198.51.100.7",
        "reads \" v=spf1 …\" (a leading space) as an SPF record (§4.5)",
    ),
    (
        "spfnearmiss.test 203.0.113.9",
        "reads \" v=spf1 …\" (a leading space) as an SPF record (§4.5)",
    ),
    (
        "spfnearmiss.test 2001:db8::10",
        "reads \" v=spf1 …\" (a leading space) as an SPF record (§4.5)",
    ),
    (
        "spfsyntax.test 192.0.2.10",
        "reads ip4:192.0.2.300 instead of failing the record (§4.6)",
    ),
    (
        "spfsyntax.test 192.0.2.41",
        "reads ip4:192.0.2.300 instead of failing the record (§4.6)",
    ),
    (
        "spfsyntax.test 198.51.100.7",
        "reads ip4:192.0.2.300 instead of failing the record (§4.6)",
    ),
    (
        "spfsyntax.test 203.0.113.9",
        "reads ip4:192.0.2.300 instead of failing the record (§4.6)",
    ),
    (
        "spfsyntax.test 2001:db8::10",
        "reads ip4:192.0.2.300 instead of failing the record (§4.6)",
    ),
    (
        "spfvoids.test 192.0.2.10",
        "does not enforce the void-lookup limit (§4.6.4)",
    ),
    (
        "spfvoids.test 192.0.2.41",
        "does not enforce the void-lookup limit (§4.6.4)",
    ),
    (
        "spfvoids.test 198.51.100.7",
        "does not enforce the void-lookup limit (§4.6.4)",
    ),
    (
        "spfvoids.test 203.0.113.9",
        "does not enforce the void-lookup limit (§4.6.4)",
    ),
    (
        "spfvoids.test 2001:db8::10",
        "does not enforce the void-lookup limit (§4.6.4)",
    ),
    (
        "twospf.test 192.0.2.10",
        "uses the first of two SPF records instead of permerror (§4.5)",
    ),
    (
        "twospf.test 192.0.2.41",
        "uses the first of two SPF records instead of permerror (§4.5)",
    ),
    (
        "twospf.test 198.51.100.7",
        "uses the first of two SPF records instead of permerror (§4.5)",
    ),
    (
        "twospf.test 203.0.113.9",
        "uses the first of two SPF records instead of permerror (§4.5)",
    ),
    (
        "twospf.test 2001:db8::10",
        "uses the first of two SPF records instead of permerror (§4.5)",
    ),
];

#[tokio::test]
async fn mail_auth_agrees_on_the_spf_fixtures_except_where_documented() {
    let lab = crate::support::lab().await;
    let auth = oracle(&lab);
    let domains: Vec<String> = fixture_origins()
        .into_iter()
        .filter(|d| {
            d.starts_with("spf") || d == "good.test" || d == "twospf.test" || d == "longspf.test"
        })
        .collect();
    let mut disagreements = BTreeMap::new();
    for domain in &domains {
        for ip in [
            "192.0.2.10",
            "192.0.2.41",
            "198.51.100.7",
            "203.0.113.9",
            "2001:db8::10",
        ] {
            let request = Request::mail_from(
                ip.parse().unwrap(),
                &format!("alice@{domain}"),
                "helo.example",
            );
            let ours = check_host(&dns(lab.addr()), &request)
                .await
                .result
                .as_str()
                .to_owned();
            let theirs = theirs(&auth, &request).await;
            if ours != theirs {
                disagreements.insert(
                    format!("{domain} {ip}"),
                    format!("mailcheck {ours}, mail-auth {theirs}"),
                );
            }
        }
    }
    assert_only_documented(&disagreements, FIXTURE_DEVIATIONS);
}

/// The policy mail-auth's RFC 9989 walk should apply to `domain`, read from our own facts:
/// the record at the discovered policy domain, `p` for the domain's own record, `sp` (else `p`)
/// when inherited, `t=y` one step weaker (RFC 9989 §4.7). mail-auth reports "no policy" as
/// `none`, so no record reads `none` here too.
fn expected_policy(f: &mailcheck::facts::Facts) -> String {
    let d = &f.dmarc;
    let Some(at) = d.discovery.policy_domain.as_deref() else {
        return "none".into();
    };
    let records = if at == f.domain.as_str() {
        &d.records
    } else {
        &d.walk.iter().find(|s| s.domain == at).unwrap().records
    };
    let r = &records[0];
    let inherited = at != f.domain.as_str();
    let tag = if inherited {
        r.tag("sp").or_else(|| r.tag("p"))
    } else {
        r.tag("p")
    };
    let mut policy = match tag.map(str::to_ascii_lowercase) {
        Some(p) => p,
        None if r.tag("rua").is_some() => "none".into(),
        None => return "none".into(),
    };
    if r.tag("t").is_some_and(|t| t.eq_ignore_ascii_case("y")) {
        policy = match policy.as_str() {
            "reject" => "quarantine".into(),
            _ => "none".into(),
        };
    }
    policy
}

/// DMARC fixtures where mail-auth reads the records differently, and why.
const DMARC_DEVIATIONS: &[(&str, &str)] = &[
    (
        "dmarcbadvalue.test",
        "mail-auth discards the whole record for an invalid adkim= value; mailcheck applies p= \
         and warns (DMARC009) that receivers differ on this",
    ),
    (
        "dmarctwo.test",
        "mail-auth applies the first of two records; RFC 7489 applies none and RFC 9989 skips \
         both and walks on (DMARC003 says so)",
    ),
];

#[tokio::test]
async fn mail_auth_finds_the_same_dmarc_policy_through_the_tree_walk() {
    use mail_auth::AuthenticatedMessage;
    use mail_auth::SpfOutput;
    use mail_auth::dmarc::verify::DmarcParameters;
    use mailcheck::domain::Domain;

    let lab = crate::support::lab().await;
    let auth = oracle(&lab);
    let services = crate::support::dns_only_services();
    let mut domains: Vec<String> = fixture_origins()
        .into_iter()
        .filter(|d| {
            d.starts_with("dmarc")
                || ["good.test", "nodmarc.test", "parked.test"].contains(&d.as_str())
        })
        .collect();
    domains.extend([
        "sub.dmarcparent.test".to_owned(),
        "b.psdtest.test".to_owned(),
        "x.b.psdtest.test".to_owned(),
    ]);
    domains.sort();
    let mut compared = 0;
    let mut disagreements = BTreeMap::new();
    for domain in &domains {
        let parsed = Domain::parse(domain).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let facts = mailcheck::audit::gather(&dns(lab.addr()), &services, &parsed, deadline).await;
        if facts.dmarc.lookup.failure().is_some() {
            continue; // dmarcservfail: no policy to compare, by design
        }
        let raw = format!("From: alice@{domain}\r\nSubject: oracle\r\n\r\nhello\r\n");
        let message = AuthenticatedMessage::parse(raw.as_bytes()).unwrap();
        let spf = SpfOutput::new(domain.clone());
        let out = auth
            .verify_dmarc(DmarcParameters::new(&message, &[], domain, &spf))
            .await;
        let theirs = format!("{:?}", out.policy()).to_ascii_lowercase();
        let ours = expected_policy(&facts);
        if ours != theirs {
            disagreements.insert(
                domain.clone(),
                format!("mailcheck {ours}, mail-auth {theirs}"),
            );
        }
        compared += 1;
    }
    assert!(compared >= 20, "compared {compared} domains");
    assert_only_documented(&disagreements, DMARC_DEVIATIONS);
}
