//! The RFC 7208 test suite (openspf.org, 2014.04), each scenario served by the lab's real DNS
//! server and every test evaluated with mailcheck's `check_host()`.
//!
//! Driver conventions, as the suite describes them: `SPF` entries are served as type 99, and as
//! TXT too when the name lists no TXT of its own (`TXT: NONE` counts as listing one); `TIMEOUT`
//! means the name never answers for the types it lists no record of; string characters are bytes
//! (the YAML escapes such as `\xEF` stand for one byte each). Two adaptations, no skips:
//! - a TXT record of zero strings (`SPF: [ ]`) is served as one empty string, because hickory's
//!   resolver rejects a zero-length TXT RDATA as malformed (the test's point — a null record is
//!   not an SPF record — is the same either way);
//! - explanations are compared ignoring ASCII case: RFC 7208 §7.3 does not fix the case of the
//!   hex nibbles of `%{i}`, and the suite's expectation follows pyspf's upper case.

use std::net::IpAddr;
use std::path::Path;

use mailcheck::checks::spf::eval::{Request, check_host};
use mailcheck::lab::{Fault, Lab, LabRecord};
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::dns;

fn bytes(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("suite strings are bytes"))
        .collect()
}

fn text(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        other => panic!("expected a string, found {other:?}"),
    }
}

pub(crate) async fn serve(zonedata: &Yaml) -> Lab {
    let mut lab = Lab::builder();
    let Yaml::Hash(names) = zonedata else {
        return lab.start().await.unwrap();
    };
    for (name, records) in names {
        let name = text(name);
        let records = records.as_vec().cloned().unwrap_or_default();
        let lists_txt = records.iter().any(|r| !r["TXT"].is_badvalue());
        let mut listed: Vec<&str> = Vec::new();
        for record in &records {
            if record.as_str() == Some("TIMEOUT") {
                continue;
            }
            let Yaml::Hash(h) = record else {
                panic!("record {record:?}")
            };
            for (kind, value) in h {
                let kind_str = kind.as_str().unwrap();
                if value.as_str() != Some("NONE") {
                    listed.push(if kind_str == "SPF" && !lists_txt {
                        "TXT"
                    } else {
                        kind_str
                    });
                }
                lab = match (kind.as_str().unwrap(), value) {
                    ("A", v) => lab.record(&name, LabRecord::A(text(v).parse().unwrap())),
                    ("AAAA", v) => lab.record(&name, LabRecord::Aaaa(text(v).parse().unwrap())),
                    ("PTR", v) => lab.record(&name, LabRecord::Ptr(text(v))),
                    ("CNAME", v) => lab.record(&name, LabRecord::Cname(text(v))),
                    ("MX", Yaml::Array(mx)) => {
                        let pref = u16::try_from(mx[0].as_i64().unwrap()).unwrap();
                        lab.record(&name, LabRecord::Mx(pref, text(&mx[1])))
                    }
                    ("TXT", v) if v.as_str() == Some("NONE") => lab,
                    ("TXT" | "SPF", v) => {
                        let strings: Vec<Vec<u8>> = match v {
                            Yaml::Array(parts) if parts.is_empty() => vec![Vec::new()],
                            Yaml::Array(parts) => parts.iter().map(|p| bytes(&text(p))).collect(),
                            other => vec![bytes(&text(other))],
                        };
                        let is_spf = kind.as_str() == Some("SPF");
                        let mut l = lab;
                        if is_spf {
                            let mut rdata = Vec::new();
                            for s in &strings {
                                rdata.push(u8::try_from(s.len()).unwrap());
                                rdata.extend_from_slice(s);
                            }
                            l = l.record(&name, LabRecord::Raw(99, rdata));
                        }
                        if !is_spf || !lists_txt {
                            l = l.record(&name, LabRecord::Txt(strings));
                        }
                        l
                    }
                    (other, v) => panic!("unknown zonedata {other}: {v:?}"),
                };
            }
        }
        if records.iter().any(|r| r.as_str() == Some("TIMEOUT")) {
            if listed.is_empty() {
                lab = lab.fault(&name, Fault::Timeout);
            }
            for rtype in ["A", "AAAA", "MX", "PTR", "TXT", "CNAME"] {
                if !listed.is_empty() && !listed.contains(&rtype) {
                    lab = lab.fault_type(&name, rtype, Fault::Timeout);
                }
            }
        }
    }
    lab.start().await.expect("scenario lab")
}

#[tokio::test]
#[allow(clippy::print_stderr)] // the pass count, for the record
async fn rfc7208_test_suite() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rfc7208/rfc7208-tests.yml");
    let docs = YamlLoader::load_from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (mut passed, mut failures) = (0, Vec::new());
    for doc in &docs {
        let lab = serve(&doc["zonedata"]).await;
        let Yaml::Hash(tests) = &doc["tests"] else {
            panic!("tests")
        };
        for (name, t) in tests {
            let name = text(name);
            let ip: IpAddr = text(&t["host"]).parse().unwrap();
            let request = Request::mail_from(ip, &text(&t["mailfrom"]), &text(&t["helo"]));
            // A fresh resolver per test: the suite's tests are independent evaluations.
            let got = check_host(&dns(lab.addr()), &request).await;
            let expected: Vec<String> = match &t["result"] {
                Yaml::Array(list) => list.iter().map(text).collect(),
                one => vec![text(one)],
            };
            let mut problems = Vec::new();
            if !expected.iter().any(|e| e == got.result.as_str()) {
                problems.push(format!(
                    "result {} (expected {expected:?}; {})",
                    got.result.as_str(),
                    got.reason
                ));
            }
            if let Some(exp) = t["explanation"].as_str() {
                let ok = match exp {
                    "DEFAULT" => got.explanation.is_none(),
                    _ => got
                        .explanation
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(exp)),
                };
                if got.result.as_str() == "fail" && !ok {
                    problems.push(format!(
                        "explanation {:?} (expected {exp:?})",
                        got.explanation
                    ));
                }
            }
            if problems.is_empty() {
                passed += 1;
            } else {
                failures.push(format!("{name}: {}", problems.join("; ")));
            }
        }
    }
    eprintln!("RFC 7208 suite: {passed} passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(passed, 203, "every test of the suite ran");
}
