//! `mailcheck demo`: real reports offline, from zones compiled into the binary.

use crate::support::mailcheck;

#[tokio::test]
async fn demo_audits_the_example_domains_against_its_own_lab() {
    let run = mailcheck(&["demo", "--format", "json"]).await;
    assert_eq!(
        run.code, 1,
        "the broken examples have errors: {}",
        run.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let resolver = doc["resolver"][0].as_str().unwrap();
    assert!(
        resolver.starts_with("127.0.0.1:"),
        "only its own lab: {resolver}"
    );
    assert!(run.stderr.contains(resolver), "{}", run.stderr);
    let results = doc["results"].as_array().unwrap();
    let domains: Vec<&str> = results
        .iter()
        .map(|r| r["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, mailcheck::demo::DOMAINS);
    let grade =
        |d: &str| results.iter().find(|r| r["domain"] == d).unwrap()["score"]["grade"].clone();
    assert_eq!(grade("good.test"), "A", "the exemplary domain");
    assert_eq!(grade("broken.test"), "C");
    let codes = |d: &str| -> Vec<String> {
        results.iter().find(|r| r["domain"] == d).unwrap()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(codes("broken.test").contains(&"SPF002".to_owned()));
    assert!(codes("nodmarc.test").contains(&"DMARC001".to_owned()));
    assert!(codes("spfplusall.test").contains(&"SPF008".to_owned()));
    for r in results {
        let smtp = r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "TLS001")
            .unwrap();
        assert_eq!(
            smtp["status"], "not-run",
            "the demo connects to no SMTP server"
        );
    }
    let table = mailcheck(&["demo", "--ignore", "MX013"]).await;
    assert!(
        table.stdout.contains("good.test") && table.stdout.contains("✖ SPF008"),
        "{}",
        table.stdout
    );
    assert!(
        !table.stdout.contains("MX013"),
        "the selection applies to the demo too"
    );
}
