//! The terminal report: snapshots at 80 and 160 columns, and remote text kept inert.

use mailcheck::lab::Lab;

use crate::support::{DNS_ONLY, lab, mailcheck_with};

/// Masks what changes between runs: the lab's port and the elapsed time.
fn normalise(text: &str, lab: &Lab) -> String {
    let text = text.replace(&lab.addr().to_string(), "127.0.0.1:PORT");
    text.lines()
        .map(|line| match line.rfind(" queries · ") {
            Some(i) => format!("{} queries · T s", &line[..i]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn table(lab: &Lab, domain: &str, columns: &str) -> String {
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", resolver.as_str(), domain];
    args.extend_from_slice(DNS_ONLY);
    let run = mailcheck_with(&args, &[("COLUMNS", columns)]).await;
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );
    for line in run.stdout.lines() {
        let width = line.chars().count();
        let limit: usize = columns.parse().unwrap();
        assert!(
            width <= limit,
            "line of {width} columns at {limit}: {line:?}"
        );
    }
    normalise(&run.stdout, lab)
}

#[tokio::test]
async fn good_domain_report() {
    let lab = lab().await;
    insta::assert_snapshot!("good_80", table(&lab, "good.test", "80").await);
    insta::assert_snapshot!("good_160", table(&lab, "good.test", "160").await);
}

#[tokio::test]
async fn broken_domain_report() {
    let lab = lab().await;
    let report = table(&lab, "broken.test", "80").await;
    for expected in [
        "✖ SPF002",
        "⚠ DMARC002",
        "✖ MX005",
        "To fix, most impact first",
    ] {
        assert!(report.contains(expected), "{expected} missing:\n{report}");
    }
    insta::assert_snapshot!("broken_80", report);
    insta::assert_snapshot!("broken_160", table(&lab, "broken.test", "160").await);
}

#[tokio::test]
async fn unknown_checks_are_shown_as_unknown() {
    let lab = lab().await;
    let report = table(&lab, "dmarcservfail.test", "80").await;
    let flat = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("? DMARC001 Could not check: No DMARC record (and 20 more checks)"),
        "{report}"
    );
    assert!(
        flat.contains("SERVFAIL; not a finding about the domain"),
        "{report}"
    );
    assert!(
        report.contains("Grade B"),
        "an unknown check caps the grade: {report}"
    );
    assert!(report.contains("? DMARC"), "{report}");
    assert!(!report.contains("✖ DMARC001"), "{report}");
}

#[tokio::test]
async fn escape_sequences_in_records_are_shown_escaped() {
    let lab = Lab::builder()
        .zone_dir(&mailcheck::lab::fixture_dir())
        .unwrap()
        .txt_bytes("evil.test", &[b"v=spf1 \x1b[2J\x1b]0;owned\x07 -all"])
        .txt_bytes("evil.test", &[b"v=spf1 \xe2\x80\xae-all"])
        .zone(
            "evil.test",
            "@ 300 IN SOA ns.lab. h.lab. 1 3600 600 86400 300\n",
        )
        .start()
        .await
        .unwrap();
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", resolver.as_str(), "evil.test"];
    args.extend_from_slice(DNS_ONLY);
    let run = mailcheck_with(&args, &[]).await;
    assert!(
        !run.stdout.contains('\u{1b}'),
        "raw escape reached the terminal"
    );
    assert!(
        !run.stdout.contains('\u{202e}'),
        "raw bidi override reached the terminal"
    );
    assert!(run.stdout.contains("\\u{1b}[2J"), "{}", run.stdout);
    assert!(run.stdout.contains("\\u{202e}"), "{}", run.stdout);
}

#[tokio::test]
async fn markdown_report() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", resolver.as_str(), "--format", "markdown"];
    args.extend_from_slice(DNS_ONLY);
    args.extend_from_slice(&["--ignore", "PTR", "broken.test"]);
    let run = mailcheck_with(&args, &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("## broken.test — grade C"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("- **✖ error SPF002** More than one SPF record")
    );
    assert!(
        run.stdout
            .contains("- PTR001, PTR002, PTR003, PTR004: switched off by --ignore PTR"),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!("broken_markdown", normalise(&run.stdout, &lab));
}

#[tokio::test]
async fn ascii_markers_without_a_utf8_locale() {
    let lab = lab().await;
    let resolver = lab.addr().to_string();
    let mut args = vec!["--resolver", resolver.as_str(), "broken.test"];
    args.extend_from_slice(DNS_ONLY);
    let utf8 = mailcheck_with(&args, &[]).await;
    assert!(utf8.stdout.contains("✖ SPF002"), "{}", utf8.stdout);
    for env in [&[("LC_ALL", "C")][..], &[("LC_ALL", "")]] {
        let mut env = env.to_vec();
        env.push(("LANG", "POSIX"));
        let run = mailcheck_with(&args, &env).await;
        assert!(run.stdout.is_ascii(), "{env:?}: {}", run.stdout);
        assert!(run.stdout.contains("x SPF002"), "{}", run.stdout);
        assert!(run.stdout.contains("! DMARC002"), "{}", run.stdout);
    }
    args.push("--ascii");
    let run = mailcheck_with(&args, &[]).await;
    assert!(run.stdout.contains("x SPF002"), "{}", run.stdout);
    assert_eq!(
        run.stdout
            .lines()
            .map(|l| l.chars().count())
            .collect::<Vec<_>>(),
        utf8.stdout
            .lines()
            .map(|l| l.chars().count())
            .collect::<Vec<_>>(),
        "one character for one: the columns stay aligned"
    );
}

/// With colour on, our markers are painted and remote text is still escaped: the two never
/// mix (a marker once went through the sanitiser and printed as `\u{1b}[35m?`).
#[tokio::test]
async fn colour_paints_markers_and_escapes_only_remote_text() {
    use mailcheck::report::{Document, Render, Table, TableOptions};
    let lab = lab().await;
    let (_, doc) =
        crate::support::audit_json(&lab, &["dmarcservfail.test", "broken.test"], &[]).await;
    let doc: Document = serde_json::from_value(doc).unwrap();
    let mut out = Vec::new();
    Table(TableOptions {
        width: 80,
        color: true,
        ascii: false,
        exit: None,
    })
    .render(&doc, &mut out)
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains('\u{1b}'), "colour is on");
    assert!(!text.contains("\\u{1b}"), "no escaped escape: {text}");
    let dmarc = text
        .lines()
        .find(|l| l.starts_with("  DMARC ") && l.contains("SERVFAIL"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        dmarc.contains("\u{1b}["),
        "the ? marker is painted: {dmarc:?}"
    );
}
