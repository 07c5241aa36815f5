//! Registry invariant: every rule has a fixture that triggers it, served by the lab.

use mailcheck::audit;
use mailcheck::domain::Domain;
use mailcheck::rules::{RULES, evaluate};

use std::time::{Duration, Instant};

use crate::support::{dns_only_services, lab, validating_dns};

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

/// Each rule code and a fixture domain on which it must fire.
const TRIGGERS: &[(&str, &str)] = &[
    ("BIMI001", "bimibad.test"),
    ("BIMI002", "bimibad.test"),
    ("BIMI003", "bimiweak.test"),
    ("BIMI004", "bimiweak.test"),
    ("BIMI005", "bimicname.test"),
    ("DANE003", "daneparams.test"),
    ("DANE004", "daneparams.test"),
    ("DKIM001", "nospf.test"),
    ("DKIM003", "dkimbad.test"),
    ("DKIM004", "dkimbad.test"),
    ("DKIM005", "dkimbad.test"),
    ("DKIM006", "dkimbad.test"),
    ("DKIM007", "dkimed.test"),
    ("DKIM008", "dkimbad.test"),
    ("DKIM009", "dkimbad.test"),
    ("DKIM010", "dkimbad.test"),
    ("DKIM011", "dkimbad.test"),
    ("DKIM012", "dkimbad.test"),
    ("DKIM013", "dkimbad.test"),
    ("DKIM014", "dkimbad.test"),
    ("DKIM015", "dkimbad.test"),
    ("DKIM016", "dkimbad.test"),
    ("DNS001", "missing.test"),
    ("DNSSEC001", "dnssec-unsigned.test"),
    ("DNSSEC002", "dnssec-expired.test"),
    ("DNSSEC002", "dnssec-dsbad.test"),
    ("DNSSEC003", "dnssec-expiring.test"),
    ("DMARC001", "nodmarc.test"),
    ("DMARC002", "dmarcnone.test"),
    ("DMARC003", "dmarctwo.test"),
    ("DMARC004", "dmarcbad.test"),
    ("DMARC005", "dmarcnop.test"),
    ("DMARC006", "dmarcobsolete.test"),
    ("DMARC007", "dmarcobsolete.test"),
    ("DMARC008", "dmarcunknown.test"),
    ("DMARC009", "dmarcbadvalue.test"),
    ("DMARC010", "dmarcnorua.test"),
    ("DMARC011", "dmarcbaduri.test"),
    ("DMARC012", "dmarcextrua.test"),
    ("DMARC013", "dmarcruanomx.test"),
    ("DMARC014", "dmarcsp.test"),
    ("DMARC015", "dmarctesting.test"),
    ("DMARC016", "sub.dmarcparent.test"),
    ("DMARC017", "b.psdtest.test"),
    ("DMARC018", "dmarccname.test"),
    ("DMARC019", "dmarcother.test"),
    ("DMARC020", "parked.test"),
    ("MX001", "nomx.test"),
    ("MX002", "implicitmx.test"),
    ("MX003", "nullmx.test"),
    ("MX004", "nullmixed.test"),
    ("MX005", "mxnoresolve.test"),
    ("MX006", "mxhosts.test"),
    ("MX007", "mxhosts.test"),
    ("MX008", "nospf.test"),
    ("MX009", "mxhosts.test"),
    ("MX010", "mxhosts.test"),
    ("MX011", "mxhosts.test"),
    ("MX013", "good.test"),
    ("PTR001", "ptrbad.test"),
    ("PTR002", "ptrbad.test"),
    ("PTR003", "ptrbad.test"),
    ("RPT001", "rptbad.test"),
    ("RPT002", "rptbad.test"),
    ("RPT003", "stsbad.test"),
    ("RPT004", "stsbad.test"),
    ("SPF001", "nospf.test"),
    ("SPF002", "twospf.test"),
    ("SPF003", "spfsyntax.test"),
    ("SPF004", "spflookups.test"),
    ("SPF005", "spfvoids.test"),
    ("SPF006", "spfloop.test"),
    ("SPF007", "spfdangling.test"),
    ("SPF008", "spfplusall.test"),
    ("SPF009", "spfwide.test"),
    ("SPF010", "spfneutral.test"),
    ("SPF011", "spfsoftfail.test"),
    ("SPF012", "spfptr.test"),
    ("SPF013", "spfmacro.test"),
    ("SPF014", "spfbig.test"),
    ("SPF015", "spfglued.test"),
    ("SPF016", "spfexp.test"),
    ("SPF017", "spfnearmiss.test"),
    ("SPF018", "spftype99.test"),
    ("SPF019", "spfdup.test"),
    ("SPF020", "spfhelo.test"),
    ("STS001", "nospf.test"),
    ("STS002", "stsbad.test"),
    ("STS003", "stsbad.test"),
    ("STS004", "rptbad.test"),
];

/// Rules that need live servers (SMTP listeners, blocklist zones) to fire, and the test that
/// starts them and asserts the rule fires.
const LIVE_TRIGGERS: &[(&str, &str)] = &[
    ("BIMI006", "https::bimi_logos_good_and_not_tiny_ps"),
    ("BIMI007", "https::bimi_logos_good_and_not_tiny_ps"),
    ("BIMI008", "https::bimi_logos_good_and_not_tiny_ps"),
    ("BIMI009", "https::bimi_logos_good_and_not_tiny_ps"),
    ("BL001", "dnsbl::listed_addresses_and_their_reasons"),
    ("BL002", "dnsbl::listed_addresses_and_their_reasons"),
    ("BL003", "dnsbl::listed_addresses_and_their_reasons"),
    ("BL004", "dnsbl::unusable_lists_are_never_read_as_listings"),
    (
        "DANE001",
        "dane_live::a_signed_domain_whose_tlsa_does_not_match_is_an_error_with_the_record_to_publish",
    ),
    (
        "DANE002",
        "dane_live::tlsa_in_an_unsigned_zone_has_no_effect",
    ),
    (
        "DANE005",
        "dane_live::starttls_missing_where_tlsa_is_published_is_an_error",
    ),
    (
        "DANE006",
        "dane_live::a_signed_domain_with_matching_3_1_1_records_passes",
    ),
    ("DKIM002", "dkim::a_named_selector_without_a_key"),
    ("DNS002", "https::cnames_dangling_beside_data_and_dane"),
    ("MX012", "smtp::metadata_addresses_are_never_contacted"),
    ("PTR004", "ptr::greeting_name_differs_from_ptr"),
    ("STS005", "https::cnames_dangling_beside_data_and_dane"),
    (
        "STS006",
        "https::testing_without_tls_rpt_and_a_policy_without_a_record",
    ),
    ("STS007", "https::a_404_is_an_error"),
    ("STS008", "https::a_redirect_is_not_followed"),
    ("STS009", "https::a_2_mib_body_is_cut_at_the_cap"),
    ("STS010", "https::a_2_mib_body_is_cut_at_the_cap"),
    (
        "STS011",
        "https::a_certificate_for_another_name_is_an_error",
    ),
    ("STS012", "https::policy_content_problems_each_have_a_code"),
    ("STS013", "https::policy_content_problems_each_have_a_code"),
    ("STS014", "https::policy_content_problems_each_have_a_code"),
    ("STS015", "https::policy_content_problems_each_have_a_code"),
    ("STS016", "https::policy_content_problems_each_have_a_code"),
    (
        "STS017",
        "https::patterns_and_mx_hosts_are_matched_both_ways",
    ),
    (
        "STS018",
        "https::patterns_and_mx_hosts_are_matched_both_ways",
    ),
    (
        "STS019",
        "https::enforce_or_testing_with_an_invalid_mx_certificate",
    ),
    (
        "STS020",
        "https::enforce_or_testing_with_an_invalid_mx_certificate",
    ),
    ("STS021", "https::cnames_dangling_beside_data_and_dane"),
    ("TLS001", "faults::no_starttls"),
    ("TLS002", "faults::closes_during_starttls"),
    ("TLS003", "certs::expired_certificate"),
    ("TLS004", "certs::certificate_expiring_soon"),
    ("TLS005", "certs::self_signed_certificate"),
    ("TLS006", "certs::unknown_root"),
    ("TLS007", "certs::missing_intermediate"),
    ("TLS008", "certs::wrong_name"),
    ("TLS009", "certs::sha1_signature"),
    ("TLS010", "faults::greeting_554"),
    ("TLS011", "faults::delayed_greeting_is_waited_for"),
    ("TLS012", "faults::connection_refused_everywhere"),
    ("TLS013", "faults::bytes_injected_after_starttls"),
    ("TLS014", "smtp::metadata_addresses_are_never_contacted"),
    ("TLS015", "certs::different_certificates_on_one_host"),
];

#[test]
fn every_rule_has_a_trigger() {
    for rule in RULES {
        let fixture = TRIGGERS.iter().any(|(code, _)| *code == rule.code);
        let live = LIVE_TRIGGERS.iter().any(|(code, _)| *code == rule.code);
        assert!(fixture || live, "{} has no trigger", rule.code);
    }
    let mut all: Vec<&str> = TRIGGERS
        .iter()
        .chain(LIVE_TRIGGERS)
        .map(|(c, _)| *c)
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        all.len(),
        RULES.len(),
        "a trigger names a rule that does not exist"
    );
}

#[test]
fn live_triggers_name_tests_that_exist() {
    let sources = [
        ("smtp", include_str!("smtp.rs")),
        ("dkim", include_str!("dkim.rs")),
        ("dnsbl", include_str!("dnsbl.rs")),
        ("ptr", include_str!("ptr.rs")),
        ("certs", include_str!("certs.rs")),
        ("faults", include_str!("faults.rs")),
        ("https", include_str!("https.rs")),
        ("dane", include_str!("dane.rs")),
        ("dane_live", include_str!("dane_live.rs")),
    ];
    for (code, test) in LIVE_TRIGGERS {
        let (module, name) = test.split_once("::").unwrap();
        let source = sources.iter().find(|(m, _)| *m == module).unwrap().1;
        assert!(
            source.contains(&format!("async fn {name}()")),
            "{code}: no test {test}"
        );
        assert!(
            source.contains(&format!("\"{code}\"")),
            "{code}: {test}'s module never asserts it"
        );
    }
}

#[tokio::test]
async fn each_fixture_triggers_its_rule_and_the_good_one_none() {
    let lab = lab().await;
    let dns = validating_dns(&lab);
    let services = dns_only_services();
    for (code, domain) in TRIGGERS {
        let facts = audit::gather(&dns, &services, &Domain::parse(domain).unwrap(), soon()).await;
        let eval = evaluate(&facts);
        assert!(
            eval.findings.iter().any(|f| f.code == *code),
            "{code} did not fire on {domain}: {:?}",
            eval.findings.iter().map(|f| &f.code).collect::<Vec<_>>()
        );
    }
    let facts = audit::gather(
        &dns,
        &services,
        &Domain::parse("good.test").unwrap(),
        soon(),
    )
    .await;
    let codes: Vec<_> = evaluate(&facts)
        .findings
        .iter()
        .map(|f| f.code.clone())
        .collect();
    // Only the notes that its zone is unsigned, that its loopback addresses are allowed by
    // --allow-private, and that it publishes no MTA-STS.
    assert_eq!(codes, ["DNSSEC001", "MX013", "MX013", "STS001"]);
}

#[tokio::test]
async fn facts_round_trip_through_json() {
    let lab = lab().await;
    let dns = validating_dns(&lab);
    let services = dns_only_services();
    for domain in [
        "good.test",
        "longspf.test",
        "dmarcservfail.test",
        "missing.test",
    ] {
        let facts = audit::gather(&dns, &services, &Domain::parse(domain).unwrap(), soon()).await;
        let json = serde_json::to_string(&facts).unwrap();
        let back: mailcheck::facts::Facts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, facts, "{domain}");
        // Rules are pure: the same facts give the same evaluation.
        assert_eq!(evaluate(&back).findings, evaluate(&facts).findings);
    }
}
