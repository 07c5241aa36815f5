//! `mailcheck demo`: real reports offline, from zones compiled into the binary and SMTP
//! listeners with STARTTLS started in the same process.

use serde_json::Value;

use crate::support::mailcheck;

fn result<'a>(doc: &'a Value, domain: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["domain"] == domain)
        .unwrap_or_else(|| panic!("{domain} in the demo"))
}

fn codes(r: &Value) -> Vec<&str> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

fn status<'a>(r: &'a Value, code: &str) -> &'a str {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap()["status"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn demo_audits_the_example_domains_against_its_own_lab() {
    let run = mailcheck(&["demo", "--format", "json"]).await;
    assert_eq!(
        run.code, 1,
        "the broken examples have errors: {}",
        run.stderr
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let resolver = doc["resolver"][0].as_str().unwrap();
    assert!(
        resolver.starts_with("127.0.0.1:"),
        "only its own lab: {resolver}"
    );
    assert!(run.stderr.contains(resolver), "{}", run.stderr);
    let domains: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, mailcheck::demo::DOMAINS);
    assert_eq!(
        result(&doc, "good.test")["score"]["grade"],
        "A",
        "the exemplary domain: {:?}",
        codes(result(&doc, "good.test"))
    );
    assert!(codes(result(&doc, "broken.test")).contains(&"SPF002"));
    assert!(codes(result(&doc, "nodmarc.test")).contains(&"DMARC001"));
    assert!(codes(result(&doc, "spfplusall.test")).contains(&"SPF008"));
    // Loopback MX addresses are the point of a demo: MX013 is off, and says why.
    assert_eq!(status(result(&doc, "good.test"), "MX013"), "not-run");
    // Blocklists are remote: never asked.
    assert_eq!(
        result(&doc, "good.test")["facts"]["dnsbl"]["enabled"],
        false
    );
    let bl = result(&doc, "good.test")["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "BL001")
        .unwrap();
    assert_eq!(bl["status"], "not-run");
    assert_eq!(bl["reason"], "switched off by demo BL", "{bl}");
    let schema = jsonschema::draft202012::new(&mailcheck::report::report_schema()).unwrap();
    assert!(schema.is_valid(&doc), "the demo report matches the schema");
}

#[tokio::test]
async fn the_demo_probes_its_mx_hosts_over_real_starttls() {
    let run = mailcheck(&["demo", "--format", "json"]).await;
    let doc: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    assert!(run.stderr.contains("STARTTLS"), "{}", run.stderr);

    let good = result(&doc, "good.test");
    let smtp = &good["facts"]["smtp"];
    assert_eq!(smtp["enabled"], true);
    assert_eq!(smtp["trust"], "demo", "the demo CA alone is trusted");
    let probes = smtp["probes"].as_array().unwrap();
    let hosts: Vec<(&str, &str)> = probes
        .iter()
        .map(|p| (p["host"].as_str().unwrap(), p["ip"].as_str().unwrap()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("mx1.good.test", "127.0.50.11"),
            ("mx2.good.test", "127.0.50.12")
        ]
    );
    for p in probes {
        let tls = &p["tls"];
        assert_eq!(tls["version"], "TLSv1_3", "{p}");
        assert_eq!(tls["verdict"]["result"], "trusted", "{p}");
        assert_eq!(tls["name_matches"], true, "{p}");
        assert_eq!(tls["chain"][0]["issuer"], "CN=mailcheck demo CA", "{p}");
        assert_eq!(p["ehlo_tls"]["code"], 250, "{p}");
    }
    for code in ["TLS001", "TLS002", "TLS003", "TLS006", "TLS008"] {
        assert_eq!(status(good, code), "pass", "{code}");
    }
    // The exemplary domain is signed and publishes DANE-EE records of the keys its hosts
    // present (and the next ones), validated from the demo lab's own root key.
    assert_eq!(good["facts"]["dnssec"]["validator"]["status"], "validating");
    for code in [
        "DNSSEC001",
        "DNSSEC002",
        "DANE001",
        "DANE002",
        "DANE004",
        "DANE005",
    ] {
        assert_eq!(status(good, code), "pass", "{code}");
    }
    assert_eq!(
        good["facts"]["dane"][0]["lookup"]["records"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The broken MX hosts, each broken in its own way, seen through a real handshake.
    let broken = result(&doc, "broken.test");
    assert_eq!(
        broken["facts"]["smtp"]["probes"][0]["tls"]["verdict"]["result"],
        "expired"
    );
    assert!(codes(broken).contains(&"TLS003"), "{:?}", codes(broken));
    let nodmarc = result(&doc, "nodmarc.test");
    assert!(codes(nodmarc).contains(&"TLS001"), "{:?}", codes(nodmarc));
    assert!(nodmarc["facts"]["smtp"]["probes"][0]["tls"].is_null());
    let wrong = result(&doc, "spfplusall.test");
    assert_eq!(
        wrong["facts"]["smtp"]["probes"][0]["tls"]["verdict"]["result"],
        "name-mismatch"
    );
    assert!(codes(wrong).contains(&"TLS008"), "{:?}", codes(wrong));
}

#[tokio::test]
async fn the_demo_table_shows_tls_evidence_and_honours_the_options() {
    let table = mailcheck(&["demo"]).await;
    assert!(
        table.stdout.contains("good.test") && table.stdout.contains("✖ SPF008"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("TLS003"), "{}", table.stdout);
    // The MX table carries the handshake's evidence: TLS version and certificate expiry.
    let mx1 = table
        .stdout
        .lines()
        .find(|l| l.contains("mx1.good.test") && l.contains("127.0.50.11"))
        .unwrap_or_else(|| panic!("{}", table.stdout));
    assert!(mx1.contains(" 1.3 ") && mx1.contains("20"), "{mx1}");
    assert!(
        table.stdout.contains("expired ⚠"),
        "broken.test's expired certificate: {}",
        table.stdout
    );
    for line in table.stdout.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    let dns_only = mailcheck(&["demo", "--no-smtp", "--format", "json"]).await;
    let doc: Value = serde_json::from_str(&dns_only.stdout).unwrap();
    assert_eq!(status(result(&doc, "good.test"), "TLS001"), "not-run");
    let ignored = mailcheck(&["demo", "--ignore", "TLS"]).await;
    assert!(
        !ignored.stdout.contains("TLS003"),
        "the selection applies to the demo too"
    );
}

#[tokio::test]
async fn the_demo_serves_mta_sts_policies_over_https() {
    let run = mailcheck(&["demo", "--format", "json"]).await;
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let good = result(&doc, "good.test");
    let policy = &good["facts"]["mta_sts"]["policy"];
    assert_eq!(policy["fetch"]["result"]["status"], 200, "{policy}");
    assert_eq!(policy["policy"]["mode"], "enforce");
    for code in ["STS005", "STS011", "STS017", "STS019"] {
        assert_eq!(status(good, code), "pass", "{code}");
    }
    // broken.test's policy names another host, in enforce mode, while an MX certificate expired.
    let broken = result(&doc, "broken.test");
    let found = codes(broken);
    for code in ["STS017", "STS018", "STS019", "RPT003"] {
        assert!(found.contains(&code), "{code} in {found:?}");
    }
    let none = mailcheck(&["demo", "--no-https", "--format", "json"]).await;
    let doc: Value = serde_json::from_str(&none.stdout).unwrap();
    assert_eq!(status(result(&doc, "good.test"), "STS005"), "not-run");
}
