//! MTA-STS and TLS-RPT records (the policy file is not fetched in this version).

use crate::smtp::{findings, has};
use crate::support::{all_codes, audit_json, lab, status};

fn messages<'a>(r: &'a serde_json::Value, code: &str) -> Vec<&'a str> {
    findings(r, code)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn good_records_and_a_delegated_tls_rpt() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["sts.test"], &[]).await;
    let r = &doc["results"][0];
    for code in [
        "STS001", "STS002", "STS003", "STS004", "RPT001", "RPT002", "RPT003", "RPT004",
    ] {
        assert_eq!(status(r, code), "pass", "{code}: {:?}", all_codes(r));
    }
    let sts = &r["facts"]["mta_sts"]["record"];
    assert_eq!(
        sts["records"].as_array().unwrap().len(),
        1,
        "the other TXT is not STS"
    );
    assert_eq!(sts["records"][0]["text"], "v=STSv1; id=20261201T000000");
    // The CNAME at _smtp._tls is followed and recorded.
    let rpt = &r["facts"]["tls_rpt"];
    assert_eq!(rpt["lookup"]["cnames"][0]["target"], "rpt.reports.sts.test");
    assert!(
        rpt["records"][0]["text"]
            .as_str()
            .unwrap()
            .contains("https://reports")
    );
}

#[tokio::test]
async fn broken_mta_sts_records() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["stsbad.test"], &[]).await;
    let r = &doc["results"][0];
    let m = messages(r, "STS002");
    assert_eq!(m.len(), 1, "{:?}", all_codes(r));
    assert!(m[0].contains("not-an-id!"), "{m:?}");
    assert!(messages(r, "STS003")[0].contains("2 records"));
    assert_eq!(
        messages(r, "RPT004"),
        [
            "_smtp._tls.stsbad.test is a CNAME to rpt.gone.stsbad.test, which does not exist (NXDOMAIN)"
        ]
    );
    let rpt003 = findings(r, "RPT003");
    assert_eq!(rpt003.len(), 1);
    assert_eq!(rpt003[0]["severity"], "warning");
    assert_eq!(
        rpt003[0]["fix"],
        "_smtp._tls.stsbad.test. TXT \"v=TLSRPTv1; rua=mailto:tls-reports@stsbad.test\""
    );
    assert!(!has(r, "STS001"));
}

#[tokio::test]
async fn broken_tls_rpt_records() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["rptbad.test"], &[]).await;
    let r = &doc["results"][0];
    assert!(messages(r, "RPT001")[0].contains("\"tls@rptbad.test\""));
    assert!(has(r, "RPT002"));
    assert!(messages(r, "STS004")[0].contains("sts.gone.rptbad.test"));
    // A dangling delegation is not reported as "not published" as well.
    assert!(!has(r, "STS001"), "{:?}", all_codes(r));
    assert_eq!(status(r, "RPT003"), "not-applicable");
}

#[tokio::test]
async fn no_mta_sts_is_a_note_and_a_failed_lookup_is_unknown() {
    use mailcheck::lab::{Fault, Lab, fixture_dir};
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .fault("_mta-sts.sts.test", Fault::ServFail)
        .start()
        .await
        .unwrap();
    let (_, doc) = audit_json(&lab, &["nospf.test", "sts.test"], &[]).await;
    let r = &doc["results"][0];
    assert_eq!(findings(r, "STS001")[0]["severity"], "info");
    assert_eq!(status(r, "RPT003"), "not-applicable");
    let r = &doc["results"][1];
    for code in ["STS001", "STS002", "STS003"] {
        assert_eq!(status(r, code), "unknown", "{code}");
    }
}
