//! DKIM: keys at guessed and given selectors, their sizes and flags, delegations.

use serde_json::Value;

use crate::smtp::{findings, has};
use crate::support::{all_codes, audit_json, lab, mailcheck, status};

fn selector<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["facts"]["dkim"]["selectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["selector"] == name)
        .unwrap_or_else(|| panic!("no selector {name}"))
}

fn message<'a>(r: &'a Value, code: &str) -> Vec<&'a str> {
    findings(r, code)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_good_key_is_found_sized_and_passes() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["good.test"], &[]).await;
    let r = &doc["results"][0];
    let s = selector(r, "selector1");
    assert_eq!(s["keys"][0]["parsed"]["Ok"]["bits"], 2048);
    assert_eq!(s["keys"][0]["parsed"]["Ok"]["key_type"], "rsa");
    assert_eq!(s["source"]["provider"], "Microsoft 365");
    for code in ["DKIM001", "DKIM003", "DKIM004", "DKIM005", "DKIM007"] {
        assert_eq!(status(r, code), "pass", "{code}");
    }
}

#[tokio::test]
async fn no_key_at_the_guessed_selectors_is_a_warning_that_says_so() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["nospf.test"], &[]).await;
    let r = &doc["results"][0];
    let m = message(r, "DKIM001");
    assert_eq!(m.len(), 1, "{:?}", all_codes(r));
    assert!(m[0].contains("selectors tried"), "{}", m[0]);
    assert!(m[0].contains("guesses") && m[0].contains("--dkim-selector"));
    assert!(m[0].contains("NXDOMAIN"), "the _domainkey hint: {}", m[0]);
    assert_eq!(findings(r, "DKIM001")[0]["severity"], "warning");
    // Every built-in selector was asked (the hint skips no probe).
    let n = r["facts"]["dkim"]["selectors"].as_array().unwrap().len();
    assert_eq!(n, mailcheck::checks::dkim::SELECTORS.len());
    for (s, _) in mailcheck::checks::dkim::SELECTORS {
        assert_eq!(
            lab.queries(&format!("{s}._domainkey.nospf.test"), "TXT"),
            1,
            "{s}"
        );
    }
}

#[tokio::test]
async fn a_named_selector_without_a_key() {
    let lab = lab().await;
    let (_, doc) = audit_json(
        &lab,
        &["good.test"],
        &[
            "--dkim-selector",
            "Custom2024",
            "--dkim-selector",
            "selector1",
        ],
    )
    .await;
    let r = &doc["results"][0];
    assert!(has(r, "DKIM002"), "{:?}", all_codes(r));
    assert_eq!(
        message(r, "DKIM002"),
        ["custom2024._domainkey.good.test does not exist (NXDOMAIN)"]
    );
    // A built-in selector named again is asked once, and counts as the user's.
    assert_eq!(selector(r, "selector1")["source"]["kind"], "user");
    assert_eq!(lab.queries("selector1._domainkey.good.test", "TXT"), 1);
    let run = mailcheck(&["--dkim-selector", "a b", "good.test"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--dkim-selector"), "{}", run.stderr);
}

#[tokio::test]
async fn problem_keys_each_get_their_finding() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["dkimbad.test"], &[]).await;
    let r = &doc["results"][0];
    let one = |code: &str| {
        let m = message(r, code);
        assert_eq!(m.len(), 1, "{code}: {m:?}");
        m[0].to_owned()
    };
    assert!(one("DKIM004").contains("512-bit"));
    assert!(one("DKIM005").contains("1024-bit"));
    assert!(one("DKIM006").contains("4160-bit"));
    assert!(one("DKIM008").starts_with("s1._domainkey"));
    assert!(one("DKIM009").starts_with("s2._domainkey"));
    assert!(one("DKIM010").contains("h=sha1"));
    assert!(one("DKIM011").starts_with("s2._domainkey"));
    assert!(one("DKIM012").contains("s=tlsrpt"));
    assert!(one("DKIM013").contains("2 TXT records"));
    assert!(one("DKIM014").contains("k2.dkim.gone.dkimbad.test"));
    assert!(one("DKIM014").contains("Mailchimp"));
    assert!(one("DKIM016").contains("mx.dkimbad.test"));
    assert!(one("DKIM003").contains("\"garbage\""));
    assert!(one("DKIM015").contains("k=dsa"));
    assert!(!has(r, "DKIM001") && !has(r, "DKIM007"));
    // The bare PKCS #1 form is read too.
    assert_eq!(selector(r, "s2")["keys"][0]["parsed"]["Ok"]["bits"], 2048);
    // The delegation is shown in the facts.
    let s2 = selector(r, "selector2");
    assert_eq!(
        s2["lookup"]["cnames"][0]["target"],
        "selector2.keys.dkimbad.test"
    );
    assert_eq!(s2["keys"][0]["parsed"]["Ok"]["bits"], 2048);
}

#[tokio::test]
async fn ed25519_alone_is_a_warning() {
    let lab = lab().await;
    let (_, doc) = audit_json(&lab, &["dkimed.test"], &[]).await;
    let r = &doc["results"][0];
    assert_eq!(
        selector(r, "default")["keys"][0]["parsed"]["Ok"]["bits"],
        256
    );
    assert!(has(r, "DKIM007"), "{:?}", all_codes(r));
    assert_eq!(status(r, "DKIM004"), "pass");
}

#[tokio::test]
async fn a_failed_selector_lookup_is_unknown_not_missing() {
    use mailcheck::lab::{Fault, Lab, fixture_dir};
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .fault("google._domainkey.nospf.test", Fault::ServFail)
        .start()
        .await
        .unwrap();
    let (_, doc) = audit_json(&lab, &["nospf.test"], &[]).await;
    let r = &doc["results"][0];
    assert!(!has(r, "DKIM001"), "{:?}", all_codes(r));
    assert_eq!(status(r, "DKIM001"), "unknown");
    let check = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "DKIM001")
        .unwrap();
    assert_eq!(check["cause"], "dns");
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("google._domainkey")
    );
}
