//! `mailcheck schema`: docs/schema.json is current, and real reports validate against it.

use crate::support::{DNS_ONLY, audit_json, lab, mailcheck};

/// The one command that regenerates docs/schema.json.
const REGENERATE: &str = "cargo run -q -- schema > docs/schema.json";

async fn schema(document: &str) -> jsonschema::Validator {
    let run = mailcheck(&["schema", document]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("the schema is JSON");
    assert_eq!(
        value["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "a draft 2020-12 schema"
    );
    jsonschema::draft202012::new(&value).expect("a valid JSON Schema")
}

fn assert_valid(validator: &jsonschema::Validator, instance: &serde_json::Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the schema:\n{}",
        errors.join("\n")
    );
}

#[tokio::test]
async fn docs_schema_json_is_current() {
    let run = mailcheck(&["schema"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == run.stdout,
        "docs/schema.json is stale: regenerate it with `{REGENERATE}`"
    );
}

#[tokio::test]
async fn a_good_and_a_broken_report_validate_and_a_damaged_one_does_not() {
    let lab = lab().await;
    let validator = schema("report").await;
    let (run, doc) = audit_json(&lab, &["good.test", "broken.test"], &[]).await;
    assert_eq!(run.code, 1, "broken.test has errors: {}", run.stderr);
    assert_valid(&validator, &doc, "the good.test + broken.test report");

    // The schema is strict: it would catch a renamed, missing or mistyped field.
    let mut extra = doc.clone();
    extra["results"][0]["surprise"] = true.into();
    assert!(!validator.is_valid(&extra), "an unknown field is rejected");
    let mut missing = doc.clone();
    missing["results"][1]
        .as_object_mut()
        .unwrap()
        .remove("findings");
    assert!(!validator.is_valid(&missing), "a missing field is rejected");
    let mut mistyped = doc.clone();
    mistyped["results"][0]["facts"]["mx"]["lookup"]["status"] = "maybe".into();
    assert!(
        !validator.is_valid(&mistyped),
        "an unknown lookup status is rejected"
    );
    let mut severity = doc;
    severity["results"][1]["findings"][0]["severity"] = "fatal".into();
    assert!(
        !validator.is_valid(&severity),
        "an unknown severity is rejected"
    );
}

#[tokio::test]
async fn a_jsonl_line_validates_against_the_domain_schema() {
    let lab = lab().await;
    let validator = schema("domain").await;
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", &resolver, "--format", "jsonl"];
    args.extend_from_slice(DNS_ONLY);
    args.extend(["broken.test", "nodmarc.test"]);
    let run = mailcheck(&args).await;
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    for line in lines {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_valid(&validator, &value, line);
    }
    // A whole document is not a line.
    let (_, doc) = audit_json(&lab, &["good.test"], &[]).await;
    assert!(!validator.is_valid(&doc));
}

/// Every fixture scenario, faults included: the schema covers each fact shape they produce.
#[tokio::test]
async fn the_report_of_every_fixture_validates() {
    let lab = lab().await;
    let validator = schema("report").await;
    let dir = mailcheck::lab::fixture_dir();
    let mut domains: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let origin = name.strip_suffix(".zone")?;
            // Forward zones only: the reverse ones have no mail configuration to report.
            (!origin.ends_with("arpa")).then(|| origin.to_owned())
        })
        .collect();
    domains.sort();
    assert!(domains.len() > 40, "{domains:?}");
    let domains: Vec<&str> = domains.iter().map(String::as_str).collect();
    // A few domains at a time: the suite runs in parallel, and the bulk test counts UDP
    // retransmissions, which a burst of thousands of queries from here would cause.
    let (_, doc) = audit_json(&lab, &domains, &["--concurrency", "4"]).await;
    assert_eq!(doc["results"].as_array().unwrap().len(), domains.len());
    assert_valid(&validator, &doc, "the report of every fixture");
}
