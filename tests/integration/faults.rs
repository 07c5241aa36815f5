//! Servers that misbehave: slow, silent, refusing, closing, injecting, speaking old TLS.

use std::time::{Duration, Instant};

use mailcheck::lab::pki::TestCa;
use mailcheck::lab::smtp::{Greeting, Quirk, SmtpSpec, StarttlsFault};

use crate::smtp::{Scenario, findings, has, host, one_host, reason, tls};
use crate::support::{all_codes, status};

#[tokio::test]
async fn no_starttls() {
    let ca = TestCa::root("Lab Root");
    let (s, r) = one_host(11, SmtpSpec::new("mail.elsewhere.test", None), &ca).await;
    assert!(has(&r, "TLS001"));
    assert_eq!(findings(&r, "TLS001")[0]["severity"], "warning");
    // "No STARTTLS" is not a certificate problem.
    for code in ["TLS002", "TLS003", "TLS005", "TLS007", "TLS008"] {
        assert_eq!(status(&r, code), "not-applicable", "{code}");
    }
    assert_eq!(s.listener("mx.").connections(), 1);
    assert!(r["facts"]["smtp"]["probes"][0]["tls"].is_null());
}

#[tokio::test]
async fn delayed_greeting_is_waited_for() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp20.test", tls(&ca, &["mx.smtp20.test"]));
    spec.greeting = Greeting::Delayed(Duration::from_millis(5_300));
    let d = "smtp20.test";
    let s = Scenario::start(20, d, vec![host("mx", 1, Some(spec))], ca.pem()).await;
    let (_, doc) = s.audit(&[d], &["--smtp-timeout", "8"]).await;
    let r = &doc["results"][0];
    assert!(has(r, "TLS011"), "slow, not broken: {:?}", all_codes(r));
    assert_eq!(findings(r, "TLS011")[0]["severity"], "info");
    assert_eq!(status(r, "TLS001"), "pass");
    assert_eq!(
        s.listener("mx.").early_talkers(),
        0,
        "nothing sent before the greeting"
    );
}

#[tokio::test]
async fn multi_line_greeting_waits_for_the_last_line() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp21.test", tls(&ca, &["mx.smtp21.test"]));
    spec.greeting = Greeting::MultiLine(Duration::from_millis(400));
    let (s, r) = one_host(21, spec, &ca).await;
    let g = &r["facts"]["smtp"]["probes"][0]["greeting"];
    assert_eq!(g["lines"].as_array().unwrap().len(), 3, "{g}");
    assert_eq!(
        s.listener("mx.").early_talkers(),
        0,
        "spoke before the final 220 line"
    );
    assert_eq!(status(&r, "TLS001"), "pass");
}

#[tokio::test]
async fn never_greets_is_unknown_never_exit_3() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp22.test", None);
    spec.greeting = Greeting::Never;
    let d = "smtp22.test";
    let s = Scenario::start(22, d, vec![host("mx", 1, Some(spec))], ca.pem()).await;
    let start = Instant::now();
    let (run, doc) = s.audit(&[d], &["--smtp-timeout", "1"]).await;
    assert!(start.elapsed() < Duration::from_secs(8));
    let r = &doc["results"][0];
    assert_ne!(
        run.code, 3,
        "an SMTP server that does not answer is not a DNS failure"
    );
    assert_eq!(status(r, "TLS001"), "unknown");
    let check = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "TLS001")
        .unwrap();
    assert_eq!(check["cause"], "network");
    assert!(
        reason(r, "TLS001").contains("no greeting"),
        "{}",
        reason(r, "TLS001")
    );
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["error"]["stage"],
        "greeting"
    );
}

#[tokio::test]
async fn greeting_554() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp23.test", tls(&ca, &["mx.smtp23.test"]));
    spec.greeting = Greeting::Code(554);
    let (_, r) = one_host(23, spec, &ca).await;
    assert!(has(&r, "TLS010"), "{:?}", all_codes(&r));
    assert!(
        findings(&r, "TLS010")[0]["message"]
            .as_str()
            .unwrap()
            .contains("refuses this client")
    );
    assert_eq!(status(&r, "TLS001"), "unknown");
    assert!(reason(&r, "TLS001").contains("554"));
    assert!(!has(&r, "TLS001"));
}

#[tokio::test]
async fn connection_refused_everywhere() {
    let ca = TestCa::root("Lab Root");
    let d = "smtp24.test";
    let s = Scenario::start(
        24,
        d,
        vec![host("mx1", 1, None), host("mx2", 2, None)],
        ca.pem(),
    )
    .await;
    let (run, doc) = s.audit(&[d], &[]).await;
    let r = &doc["results"][0];
    assert!(has(r, "TLS012"), "{:?}", all_codes(r));
    assert_eq!(findings(r, "TLS012")[0]["severity"], "error");
    assert_eq!(run.code, 1);
    assert_eq!(r["facts"]["smtp"]["probes"][0]["error"]["kind"], "refused");
}

#[tokio::test]
async fn closes_during_starttls() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp25.test", tls(&ca, &["mx.smtp25.test"]));
    spec.fault = Some(StarttlsFault::Close);
    let (_, r) = one_host(25, spec, &ca).await;
    assert!(has(&r, "TLS002"), "{:?}", all_codes(&r));
    assert_eq!(status(&r, "TLS001"), "pass", "STARTTLS was offered");
}

#[tokio::test]
async fn starttls_offered_then_refused() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp32.test", tls(&ca, &["mx.smtp32.test"]));
    spec.fault = Some(StarttlsFault::Refuse);
    let (s, r) = one_host(32, spec, &ca).await;
    let m = &findings(&r, "TLS002")[0]["message"];
    assert!(m.as_str().unwrap().contains("then refused: 454"), "{m}");
    assert_eq!(r["facts"]["smtp"]["probes"][0]["starttls"]["code"], 454);
    assert_eq!(s.listener("mx.").handshakes(), 0);
}

#[tokio::test]
async fn bytes_injected_after_starttls() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp26.test", tls(&ca, &["mx.smtp26.test"]));
    spec.fault = Some(StarttlsFault::Inject);
    let (s, r) = one_host(26, spec, &ca).await;
    assert!(has(&r, "TLS013"), "{:?}", all_codes(&r));
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["error"]["kind"],
        "injection"
    );
    assert!(
        r["facts"]["smtp"]["probes"][0]["tls"].is_null(),
        "no handshake after injection"
    );
    assert_eq!(s.listener("mx.").handshakes(), 0);
}

#[tokio::test]
async fn legacy_tls_only_is_not_no_tls() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp28.test", tls(&ca, &["mx.smtp28.test"]));
    spec.fault = Some(StarttlsFault::LegacyTlsOnly);
    let (_, r) = one_host(28, spec, &ca).await;
    assert_eq!(status(&r, "TLS001"), "pass", "STARTTLS is offered");
    let m = &findings(&r, "TLS002")[0]["message"];
    assert!(
        m.as_str()
            .unwrap()
            .contains("no TLS 1.2+ handshake possible"),
        "{m}"
    );
    assert_eq!(
        r["facts"]["smtp"]["probes"][0]["error"]["kind"],
        "tls-incompatible"
    );
}

/// The probe's view of the first (only) connection.
fn probe(r: &serde_json::Value) -> &serde_json::Value {
    &r["facts"]["smtp"]["probes"][0]
}

#[tokio::test]
async fn greeting_one_byte_per_second_is_cut_at_the_timeout() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp90.test", tls(&ca, &["mx.smtp90.test"]));
    spec.greeting = Greeting::Drip(Duration::from_secs(1));
    let d = "smtp90.test";
    let s = Scenario::start(90, d, vec![host("mx", 1, Some(spec))], ca.pem()).await;
    let (run, doc) = s.audit(&[d], &["--smtp-timeout", "2"]).await;
    let r = &doc["results"][0];
    assert_ne!(run.code, 3);
    assert_eq!(status(r, "TLS001"), "unknown", "not \"no STARTTLS\"");
    assert_eq!(probe(r)["error"]["stage"], "greeting");
    assert_eq!(probe(r)["error"]["kind"], "timeout");
    assert!(
        reason(r, "TLS001").contains("no greeting"),
        "{}",
        reason(r, "TLS001")
    );
}

#[tokio::test]
async fn endless_multi_line_greeting_is_refused_at_the_line_cap() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp91.test", tls(&ca, &["mx.smtp91.test"]));
    spec.greeting = Greeting::Endless;
    let (_, r) = one_host(91, spec, &ca).await;
    assert_eq!(probe(&r)["error"]["stage"], "greeting");
    assert_eq!(probe(&r)["error"]["kind"], "malformed");
    let detail = probe(&r)["error"]["detail"].as_str().unwrap();
    assert!(detail.contains("more than 100 lines"), "{detail}");
    assert_eq!(status(&r, "TLS001"), "unknown");
}

#[tokio::test]
async fn binary_garbage_greeting_is_malformed_and_shown_escaped() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp92.test", None);
    spec.greeting = Greeting::Garbage;
    let d = "smtp92.test";
    let s = Scenario::start(92, d, vec![host("mx", 1, Some(spec))], ca.pem()).await;
    let (_, doc) = s.audit(&[d], &[]).await;
    let r = &doc["results"][0];
    assert_eq!(probe(r)["error"]["kind"], "malformed");
    assert_eq!(status(r, "TLS001"), "unknown");
    // The table shows the noise escaped, never raw.
    let resolver = s.lab.addr().to_string();
    let mut args = vec!["--resolver", &resolver, "--smtp-timeout", "3"];
    let probe = s.probe_args();
    args.extend(probe.iter().map(String::as_str));
    args.push(d);
    let run = crate::support::mailcheck(&args).await;
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no raw escape reaches the terminal"
    );
    assert!(!run.stdout.contains('\u{9b}'));
    assert!(!run.stdout.contains('\0'));
}

#[tokio::test]
async fn close_in_the_middle_of_the_ehlo_reply() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp93.test", tls(&ca, &["mx.smtp93.test"]));
    spec.quirk = Some(Quirk::CloseMidEhlo);
    let (_, r) = one_host(93, spec, &ca).await;
    assert_eq!(probe(&r)["error"]["stage"], "ehlo");
    assert_eq!(probe(&r)["error"]["kind"], "closed");
    assert_eq!(
        status(&r, "TLS001"),
        "unknown",
        "it never said whether it offers STARTTLS"
    );
}

#[tokio::test]
async fn tls_handshake_answered_with_garbage() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp94.test", tls(&ca, &["mx.smtp94.test"]));
    spec.fault = Some(StarttlsFault::HandshakeGarbage);
    let (s, r) = one_host(94, spec, &ca).await;
    assert!(has(&r, "TLS002"), "{:?}", all_codes(&r));
    assert_eq!(probe(&r)["error"]["stage"], "handshake");
    assert_eq!(status(&r, "TLS001"), "pass", "STARTTLS was offered");
    assert_eq!(s.listener("mx.").handshakes(), 0);
}

#[tokio::test]
async fn a_server_that_stays_after_quit_does_not_hold_the_probe() {
    let ca = TestCa::root("Lab Root");
    let mut spec = SmtpSpec::new("mx.smtp95.test", tls(&ca, &["mx.smtp95.test"]));
    spec.quirk = Some(Quirk::LingerAfterQuit);
    let d = "smtp95.test";
    let s = Scenario::start(95, d, vec![host("mx", 1, Some(spec))], ca.pem()).await;
    // Scenario::audit bounds the run; a probe waiting on the silent server would exceed it.
    let (_, doc) = s.audit(&[d], &["--smtp-timeout", "5"]).await;
    let r = &doc["results"][0];
    assert_eq!(status(r, "TLS001"), "pass");
    assert!(probe(r)["error"].is_null(), "{}", probe(r)["error"]);
    assert!(probe(r)["tls"]["version"].is_string());
    assert_eq!(s.listener("mx.").handshakes(), 1);
}
