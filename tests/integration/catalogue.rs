//! `mailcheck rules` and `mailcheck explain`, and docs/rules.md generated from the registry.

use mailcheck::rules::RULES;

use crate::support::mailcheck;

/// The one command that regenerates docs/rules.md (also in README and CONTRIBUTING notes).
const REGENERATE: &str = "cargo run -q -- rules --format markdown > docs/rules.md";

#[tokio::test]
async fn docs_rules_md_is_generated_from_the_registry() {
    let run = mailcheck(&["rules", "--format", "markdown"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == run.stdout,
        "docs/rules.md is stale: regenerate it with `{REGENERATE}`"
    );
    for rule in RULES {
        assert!(
            on_disk.contains(&format!("## {}\n", rule.code)),
            "{}",
            rule.code
        );
        assert!(on_disk.contains(rule.remediation), "{}", rule.code);
    }
    assert!(on_disk.contains("## Scoring"));
}

#[tokio::test]
async fn rules_lists_every_rule_and_filters_by_selector() {
    let run = mailcheck(&["rules"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for rule in RULES {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{} ", rule.code)))
            .unwrap_or_else(|| panic!("{} not listed", rule.code));
        for field in [rule.severity.as_str(), rule.category.as_str(), rule.name] {
            assert!(line.contains(field), "{line}: {field}");
        }
    }
    assert!(run.stdout.contains(&format!("{} rules", RULES.len())));
    // A fixed selection keeps the snapshot stable as other families gain rules.
    let run = mailcheck(&["rules", "--select", "DMARC,MX", "--ignore", "DMARC01"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("DMARC010 ") && !run.stdout.contains("SPF"));
    insta::assert_snapshot!("rules_dmarc_mx", run.stdout);
}

#[tokio::test]
async fn rules_as_json_carry_every_text() {
    let run = mailcheck(&["rules", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let rules = doc["rules"].as_array().unwrap();
    assert_eq!(rules.len(), RULES.len());
    assert_eq!(
        doc["retired"].as_array().map(Vec::len),
        Some(mailcheck::rules::redirects::RETIRED.len())
    );
    for (json, rule) in rules.iter().zip(RULES) {
        assert_eq!(json["code"], rule.code);
        assert_eq!(json["name"], rule.name);
        assert_eq!(json["severity"], rule.severity.as_str());
        assert_eq!(json["category"], rule.category.as_str());
        assert_eq!(json["explanation"], rule.explanation);
        assert_eq!(json["remediation"], rule.remediation);
        assert_eq!(json["since"], rule.since);
        assert_eq!(json["status"], rule.status.as_str());
        assert!(
            json["reference_url"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
    }
}

#[tokio::test]
async fn explain_a_rule() {
    let run = mailcheck(&["explain", "spf002"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    insta::assert_snapshot!("explain_spf002", run.stdout);
    let rule = mailcheck::rules::find("SPF002").unwrap();
    let by_name = mailcheck(&["explain", rule.name]).await;
    assert_eq!(
        by_name.stdout, run.stdout,
        "a rule can be named by its name"
    );

    let run = mailcheck(&["explain", "DMARC002", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rule = mailcheck::rules::find("DMARC002").unwrap();
    assert_eq!(doc["code"], "DMARC002");
    assert_eq!(doc["explanation"], rule.explanation);
    assert_eq!(doc["reference"], rule.reference);
    assert_eq!(doc["since"], "0.1.0");
    assert_eq!(doc["status"], "stable");
    assert_eq!(
        doc["reference_url"],
        "https://www.rfc-editor.org/rfc/rfc7489#section-6.3"
    );
}

#[tokio::test]
async fn explain_an_unknown_code_is_a_usage_error_with_a_suggestion() {
    let run = mailcheck(&["explain", "SPF02"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("did you mean SPF002?"),
        "{}",
        run.stderr
    );
    let run = mailcheck(&["explain", "nonsense"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("mailcheck rules"), "{}", run.stderr);
}

#[tokio::test]
async fn explain_scoring_states_the_model_in_use() {
    let run = mailcheck(&["explain", "scoring"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("explain_scoring", run.stdout);
    let run = mailcheck(&["explain", "scoring", "--format", "json"]).await;
    let model: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for (severity, weight) in mailcheck::score::WEIGHTS {
        let w = model["weights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["severity"] == severity.as_str())
            .unwrap();
        assert_eq!(w["weight"], weight);
    }
    assert_eq!(model["grades"][0]["grade"], "A");
    assert_eq!(
        model["excluded"],
        serde_json::json!(["unknown", "not-run", "not-applicable"])
    );
}
