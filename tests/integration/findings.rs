//! Every SPF and DMARC finding, each on its own fixture, asserted through the JSON report.

use crate::support::{audit_json, codes, lab};

/// A fixture domain, the finding codes it must give (in report order), and a text one of its
/// findings must contain.
type Case<'a> = (&'a str, &'a [&'a str], &'a str);

/// Audits every case's domain in one run and checks its findings; returns the document.
async fn audit_cases(lab: &mailcheck::lab::Lab, cases: &[Case<'_>]) -> serde_json::Value {
    let domains: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let (_, doc) = audit_json(lab, &domains, &[]).await;
    for ((domain, expected, text), r) in cases.iter().zip(doc["results"].as_array().unwrap()) {
        assert_eq!(r["domain"], *domain);
        assert_eq!(codes(r), *expected, "{domain}");
        let all = serde_json::to_string(&r["findings"]).unwrap();
        assert!(
            all.contains(&text.replace('"', "\\\"")),
            "{domain}: {text:?} not in {all}"
        );
    }
    doc
}

#[tokio::test]
async fn every_spf_finding_through_the_json_report() {
    let lab = lab().await;
    let cases: &[Case] = &[
        (
            "spfsyntax.test",
            &["SPF003"],
            "\"ip4:192.0.2.300\" at byte 10",
        ),
        (
            "spflookups.test",
            &["SPF004"],
            "(ip4:192.0.2.1, include:_a.spflookups.test) still passes",
        ),
        (
            "spfvoids.test",
            &["SPF005"],
            "3 void lookups, the limit is 2",
        ),
        (
            "spfloop.test",
            &["SPF006"],
            "include:spfloop.test in _x.spfloop.test leads back",
        ),
        (
            "spfdangling.test",
            &["SPF007", "SPF007"],
            "_gone.spfdangling.test does not exist",
        ),
        (
            "spfplusall.test",
            &["SPF008"],
            "+all in _inc.spfplusall.test",
        ),
        ("spfwide.test", &["SPF009"], "ip4:10.0.0.0/8"),
        ("spfneutral.test", &["SPF010"], "ends in ?all"),
        ("spfsoftfail.test", &["SPF011"], "ends in ~all"),
        ("spfptr.test", &["SPF012"], "ptr in spfptr.test"),
        (
            "spfmacro.test",
            &["SPF013"],
            "exists:%{i}._spf.spfmacro.test",
        ),
        ("spfbig.test", &["SPF014"], "octet answer"),
        (
            "spfglued.test",
            &["SPF003", "SPF015"],
            "\"ip4:192.0.2.1include:_spf.spfglued.test\"",
        ),
        (
            "spfexp.test",
            &["SPF016"],
            "exp=_exp.spfexp.test has no TXT record",
        ),
        (
            "spfnearmiss.test",
            &["SPF001", "SPF017", "SPF017"],
            "Sender ID",
        ),
        ("spftype99.test", &["SPF018"], "1 record(s) of type 99"),
        ("spfdup.test", &["SPF019"], "is included again"),
        (
            "spfhelo.test",
            &["SPF020"],
            "mx.spfhelo.test has no SPF record",
        ),
    ];
    audit_cases(&lab, cases).await;
}

/// The DMARC fixtures, in the order the test reads their results.
const DMARC_CASES: &[Case] = &[
    (
        "dmarcnop.test",
        &["DMARC005"],
        "has no p= tag: receivers read it as p=none",
    ),
    (
        "dmarcobsolete.test",
        &["DMARC007", "DMARC006", "DMARC006", "DMARC006"],
        "apply p=reject to only 50% of failing mail",
    ),
    (
        "dmarcunknown.test",
        &["DMARC008"],
        "rue=mailto:x@dmarcunknown.test is not a DMARC tag",
    ),
    (
        "dmarcbadvalue.test",
        &["DMARC009"],
        "adkim=\"x\" is not a valid value",
    ),
    ("dmarcnorua.test", &["DMARC010"], "has no rua= tag"),
    (
        "dmarcbaduri.test",
        &["DMARC011"],
        "write mailto:dmarc@dmarcbaduri.test",
    ),
    (
        "dmarcextrua.test",
        &["DMARC012"],
        "dmarcextrua.test._report._dmarc.noauth.test has no v=DMARC1 record",
    ),
    (
        "dmarcruanomx.test",
        &["DMARC013"],
        "gone.dmarcruanomx.test does not exist",
    ),
    (
        "dmarcsp.test",
        &["DMARC014"],
        "sp=none is weaker than p=reject, np=quarantine is weaker than p=reject",
    ),
    ("dmarctesting.test", &["DMARC015"], "has t=y"),
    (
        "sub.dmarcparent.test",
        &["DMARC016"],
        "uses the record at _dmarc.dmarcparent.test: sp=quarantine applies",
    ),
    (
        "b.psdtest.test",
        &["DMARC017"],
        "b.psdtest.test by the DNS tree walk but psdtest.test by the public suffix list",
    ),
    (
        "dmarccname.test",
        &["DMARC001", "DMARC018"],
        "is a CNAME to _dmarc.gone-provider.test, which does not exist",
    ),
    (
        "dmarcother.test",
        &["DMARC019"],
        "\"site-verification=abc\" at _dmarc.dmarcother.test is ignored",
    ),
    (
        "parked.test",
        &["DMARC002", "DMARC020", "MX003"],
        "receives no mail, but DMARC is not p=reject",
    ),
    (
        "dmarctwo.test",
        &["DMARC003"],
        "RFC 7489 receivers apply no DMARC policy at all; RFC 9989 receivers skip them",
    ),
    ("dmarcgood.test", &[], ""),
];

#[tokio::test]
async fn every_dmarc_finding_through_the_json_report() {
    let lab = lab().await;
    let doc = audit_cases(&lab, DMARC_CASES).await;
    // The exact records to publish.
    let fix = |i: usize, code: &str| {
        doc["results"][i]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap()["fix"]
            .clone()
    };
    assert_eq!(
        fix(0, "DMARC005"),
        "_dmarc.dmarcnop.test. TXT \"v=DMARC1; p=none; rua=mailto:dmarc@dmarcnop.test\""
    );
    assert_eq!(
        fix(6, "DMARC012"),
        "dmarcextrua.test._report._dmarc.noauth.test. TXT \"v=DMARC1\""
    );
    assert_eq!(
        fix(14, "DMARC020"),
        "_dmarc.parked.test. TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@good.test\""
    );
    // Inherited policy: the subdomain has no record, and DMARC001 must not claim it is missing.
    assert_eq!(
        doc["results"][10]["facts"]["dmarc"]["discovery"]["policy_domain"],
        "dmarcparent.test"
    );
}

#[tokio::test]
async fn hostile_include_trees_stay_bounded() {
    let lab = lab().await;
    let start = std::time::Instant::now();
    let (_, doc) = audit_json(&lab, &["spfdeep.test", "spfwidetree.test"], &[]).await;
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    let deep = &doc["results"][0];
    assert_eq!(codes(deep), ["SPF004"]);
    // The walk stops at depth 12: no query for the 12th nested include or beyond.
    assert_eq!(lab.queries("_11.spfdeep.test", "TXT"), 1);
    assert_eq!(lab.queries("_12.spfdeep.test", "TXT"), 0);
    let wide = &doc["results"][1];
    assert!(
        codes(wide).contains(&"SPF004".to_owned()),
        "{:?}",
        codes(wide)
    );
    assert!(
        wide["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("needs 420 DNS lookups")
    );
    // Besides the tree: the DKIM selectors and `_domainkey` (NXDOMAIN here, so no CNAME
    // follow-ups), and the TXT and CNAME of `_mta-sts`, `_smtp._tls` and `default._bimi`.
    let fixed = mailcheck::checks::dkim::SELECTORS.len() as u64 + 1 + 6;
    let sent = wide["stats"]["dns_queries"].as_u64().unwrap() - fixed;
    assert!(sent < 100, "{sent} queries for a hostile tree");
}
