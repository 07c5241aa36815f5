//! BIMI assertion records and their DMARC prerequisites (the SVG is not fetched in this
//! version).

use crate::smtp::{findings, has};
use crate::support::{all_codes, audit_json, lab, status};

fn messages<'a>(r: &'a serde_json::Value, code: &str) -> Vec<&'a str> {
    findings(r, code)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect()
}

const BIMI: [&str; 5] = ["BIMI001", "BIMI002", "BIMI003", "BIMI004", "BIMI005"];

#[tokio::test]
async fn a_good_record_passes_and_absence_is_no_finding() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["bimi.test", "good.test"], &[]).await;
    let r = &doc["results"][0];
    for code in BIMI {
        assert_eq!(status(r, code), "pass", "{code}: {:?}", all_codes(r));
    }
    assert_eq!(
        r["facts"]["bimi"]["record"]["records"][0]["text"],
        "v=BIMI1; l=https://img.bimi.test/logo.svg; a=https://img.bimi.test/vmc.pem"
    );
    let good = &doc["results"][1];
    assert!(all_codes(good).iter().all(|c| !c.starts_with("BIMI")));
    for code in BIMI {
        assert_eq!(status(good, code), "not-applicable", "{code}");
    }
    assert_eq!(
        good["facts"]["bimi"]["record"]["lookup"]["status"],
        "nxdomain"
    );
}

#[tokio::test]
async fn bimi_selector_picks_another_record() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["bimi.test"], &["--bimi-selector", "Brand"]).await;
    let r = &doc["results"][0];
    assert_eq!(r["facts"]["bimi"]["selector"], "brand");
    assert_eq!(
        messages(r, "BIMI004"),
        ["brand._bimi.bimi.test names a logo but no evidence document (a=)"]
    );
    assert_eq!(lab.queries("default._bimi.bimi.test", "TXT"), 0);
}

#[tokio::test]
async fn weak_dmarc_and_no_evidence() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["bimiweak.test"], &[]).await;
    let r = &doc["results"][0];
    assert_eq!(
        messages(r, "BIMI003"),
        ["the DMARC record of bimiweak.test has pct=50, so the BIMI record is ignored"]
    );
    assert_eq!(findings(r, "BIMI003")[0]["severity"], "warning");
    assert_eq!(findings(r, "BIMI004")[0]["severity"], "info");
}

#[tokio::test]
async fn broken_and_dangling_records() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["bimibad.test", "bimicname.test"], &[]).await;
    let r = &doc["results"][0];
    assert!(messages(r, "BIMI001")[0].contains("http://img.bimibad.test"));
    assert!(has(r, "BIMI002"));
    // With two records nothing applies: no prerequisite or evidence verdict.
    assert_eq!(status(r, "BIMI003"), "not-applicable");
    let r = &doc["results"][1];
    assert!(messages(r, "BIMI005")[0].contains("bimi.gone.bimicname.test"));
}
