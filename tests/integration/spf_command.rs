//! `mailcheck spf DOMAIN --ip ADDR`: one `check_host()` evaluation through the binary.

use mailcheck::lab::{Fault, Lab};

use crate::support::{lab, mailcheck};

async fn spf(lab: &Lab, args: &[&str]) -> (i32, serde_json::Value) {
    let resolver = lab.addr().to_string();
    let mut all = vec!["--resolver", resolver.as_str(), "--format", "json", "spf"];
    all.extend_from_slice(args);
    let run = mailcheck(&all).await;
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout, run.stderr));
    (run.code, doc)
}

#[tokio::test]
async fn a_pass_through_an_include_shows_the_path() {
    let lab = lab().await;
    let (code, doc) = spf(&lab, &["spflookups.test", "--ip", "192.0.2.43"]).await;
    assert_eq!(code, 0);
    let e = &doc["evaluation"];
    assert_eq!(e["result"], "pass");
    assert_eq!(e["matched"]["term"], "include:_a.spflookups.test");
    assert_eq!(
        e["path"],
        serde_json::json!(["spflookups.test", "_a.spflookups.test"])
    );
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .contains("through a:h3.spflookups.test"),
        "{e}"
    );
    assert_eq!(e["lookups"], 4);
}

#[tokio::test]
async fn fail_and_permerror_exit_1() {
    let lab = lab().await;
    let (code, doc) = spf(&lab, &["good.test", "--ip", "203.0.113.9"]).await;
    assert_eq!(
        (code, doc["evaluation"]["result"].as_str()),
        (1, Some("fail"))
    );
    assert_eq!(doc["evaluation"]["matched"]["term"], "-all");
    // Past the 10-lookup budget: only senders matched earlier pass.
    let (code, doc) = spf(&lab, &["spflookups.test", "--ip", "192.0.2.45"]).await;
    assert_eq!(
        (code, doc["evaluation"]["result"].as_str()),
        (1, Some("permerror"))
    );
    assert!(
        doc["evaluation"]["reason"]
            .as_str()
            .unwrap()
            .contains("lookup 11")
    );
    let (code, doc) = spf(
        &lab,
        &[
            "spflookups.test",
            "--ip",
            "192.0.2.1",
            "--sender",
            "alice@spflookups.test",
        ],
    )
    .await;
    assert_eq!(
        (code, doc["evaluation"]["result"].as_str()),
        (0, Some("pass"))
    );
    assert_eq!(doc["sender"], "alice@spflookups.test");
}

#[tokio::test]
async fn a_failed_lookup_is_temperror_and_exit_3() {
    let lab = Lab::builder()
        .zone_dir(&mailcheck::lab::fixture_dir())
        .unwrap()
        .fault_type("good.test", "TXT", Fault::ServFail)
        .start()
        .await
        .unwrap();
    let (code, doc) = spf(&lab, &["good.test", "--ip", "192.0.2.10"]).await;
    assert_eq!(
        (code, doc["evaluation"]["result"].as_str()),
        (3, Some("temperror"))
    );
}

#[tokio::test]
async fn the_text_report_says_why() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let run = mailcheck(&[
        "--resolver",
        &resolver,
        "spf",
        "good.test",
        "--ip",
        "192.0.2.77",
    ])
    .await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("result   pass"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("matched  ip4:192.0.2.0/24 in good.test"),
        "{}",
        run.stdout
    );
    let run = mailcheck(&[
        "--resolver",
        &resolver,
        "spf",
        "good.test",
        "--ip",
        "nonsense",
    ])
    .await;
    assert_eq!(run.code, 2);
}
