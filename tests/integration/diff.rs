//! `mailcheck diff`: before and after states of one domain, audited from two lab zones by the
//! tool itself, then compared.

use mailcheck::diff::{Change, DiffReport};
use mailcheck::lab::Lab;

use crate::support::{DNS_ONLY, mailcheck};

const SOA: &str =
    "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n";

/// The migration: the MX moves to a new host, and the SPF record is lost on the way.
fn zones() -> (String, String) {
    let common = "_dmarc 300 IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@mig.test\"\n\
                  old 300 IN A 127.0.0.41\nnew 300 IN A 127.0.0.42\n\
                  keep 300 IN MX 10 old\nkeep 300 IN TXT \"v=spf1 mx -all\"\n";
    let before = format!("{SOA}{common}@ 300 IN MX 10 old\n@ 300 IN TXT \"v=spf1 mx -all\"\n");
    let after = format!("{SOA}{common}@ 300 IN MX 10 new\n");
    (before, after)
}

async fn audit_to(zone: &str, format: &str, path: &std::path::Path) {
    let lab = Lab::builder().zone("mig.test", zone).start().await.unwrap();
    let resolver = lab.addr().to_string();
    let out = path.display().to_string();
    let mut args = vec!["--resolver", &resolver, "--format", format, "-o", &out];
    args.extend_from_slice(DNS_ONLY);
    args.extend(["mig.test", "keep.mig.test"]);
    let run = mailcheck(&args).await;
    assert!(run.code <= 1, "{}", run.stderr);
}

#[tokio::test]
async fn diff_shows_changed_records_new_findings_and_fails_on_new_errors() {
    let (before, after) = zones();
    let dir = tempfile::tempdir().unwrap();
    let (b, a) = (
        dir.path().join("before.json"),
        dir.path().join("after.jsonl"),
    );
    audit_to(&before, "json", &b).await;
    audit_to(&after, "jsonl", &a).await;
    let (bs, as_) = (b.display().to_string(), a.display().to_string());
    let run = mailcheck(&["diff", &bs, &as_, "--format", "json"]).await;
    assert_eq!(run.code, 1, "a new error fails the diff: {}", run.stderr);
    let d: DiffReport = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(d.domains.len(), 2);
    let mig = d.domains.iter().find(|x| x.domain == "mig.test").unwrap();
    assert_eq!(mig.change, Change::Changed);
    let rec = |name: &str| mig.records.iter().find(|r| r.record == name);
    let mx = rec("mx").expect("the MX change");
    assert_eq!(
        (mx.before.as_str(), mx.after.as_str()),
        ("10 old.mig.test", "10 new.mig.test")
    );
    let spf = rec("spf").expect("the SPF change");
    assert_eq!(
        (spf.before.as_str(), spf.after.as_str()),
        ("v=spf1 mx -all", "none")
    );
    assert!(rec("dmarc").is_none(), "DMARC did not change");
    assert!(
        mig.added.iter().any(|f| f.code == "SPF001"),
        "the lost SPF record is a new finding: {:?}",
        mig.added
    );
    assert!(d.new_errors >= 1);
    assert!(mig.score.after < mig.score.before, "{:?}", mig.score);
    let keep = d
        .domains
        .iter()
        .find(|x| x.domain == "keep.mig.test")
        .unwrap();
    assert_eq!(keep.change, Change::Unchanged);
    // The same comparison for people, and in Markdown.
    let text = mailcheck(&["diff", &bs, &as_]).await;
    assert_eq!(text.code, 1);
    assert!(
        text.stdout.contains("1 changed, 1 unchanged"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("+ SPF001 error"), "{}", text.stdout);
    assert!(
        !text.stdout.contains("keep.mig.test"),
        "unchanged domains are only counted"
    );
    let md = mailcheck(&["diff", &bs, &as_, "--format", "markdown"]).await;
    assert!(md.stdout.contains("## mig.test (changed)"), "{}", md.stdout);
    assert!(
        md.stdout
            .contains("| mx | `10 old.mig.test` | `10 new.mig.test` |")
    );
    // Backwards, the migration resolves the error: nothing new, exit 0.
    let back = mailcheck(&["diff", &as_, &bs, "--format", "json"]).await;
    assert_eq!(back.code, 0, "{}", back.stdout);
    let d: DiffReport = serde_json::from_str(&back.stdout).unwrap();
    let mig = d.domains.iter().find(|x| x.domain == "mig.test").unwrap();
    assert!(mig.resolved.iter().any(|f| f.code == "SPF001"));
    assert_eq!(d.new_errors, 0);
    // A file that is not a report is a usage error, named.
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "hello\n").unwrap();
    let bad = mailcheck(&["diff", &bs, &junk.display().to_string()]).await;
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("junk.txt: line 1"), "{}", bad.stderr);
}
