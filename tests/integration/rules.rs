//! Registry invariant: every rule has a fixture that triggers it, served by the lab.

use mailcheck::audit;
use mailcheck::domain::Domain;
use mailcheck::rules::{RULES, evaluate};

use crate::support::{dns, lab};

/// Each rule code and a fixture domain on which it must fire.
const TRIGGERS: &[(&str, &str)] = &[
    ("DNS001", "missing.test"),
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
];

#[test]
fn every_rule_has_a_trigger_fixture() {
    for rule in RULES {
        assert!(
            TRIGGERS.iter().any(|(code, _)| *code == rule.code),
            "{} has no trigger fixture",
            rule.code
        );
    }
    assert_eq!(
        TRIGGERS.len(),
        RULES.len(),
        "a trigger names a rule that does not exist"
    );
}

#[tokio::test]
async fn each_fixture_triggers_its_rule_and_the_good_one_none() {
    let lab = lab().await;
    let dns = dns(lab.addr());
    for (code, domain) in TRIGGERS {
        let facts = audit::gather(&dns, &Domain::parse(domain).unwrap()).await;
        let eval = evaluate(&facts);
        assert!(
            eval.findings.iter().any(|f| f.code == *code),
            "{code} did not fire on {domain}: {:?}",
            eval.findings.iter().map(|f| &f.code).collect::<Vec<_>>()
        );
    }
    let facts = audit::gather(&dns, &Domain::parse("good.test").unwrap()).await;
    assert!(evaluate(&facts).findings.is_empty());
}

#[tokio::test]
async fn facts_round_trip_through_json() {
    let lab = lab().await;
    let dns = dns(lab.addr());
    for domain in [
        "good.test",
        "longspf.test",
        "dmarcservfail.test",
        "missing.test",
    ] {
        let facts = audit::gather(&dns, &Domain::parse(domain).unwrap()).await;
        let json = serde_json::to_string(&facts).unwrap();
        let back: mailcheck::facts::Facts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, facts, "{domain}");
        // Rules are pure: the same facts give the same evaluation.
        assert_eq!(evaluate(&back).findings, evaluate(&facts).findings);
    }
}
