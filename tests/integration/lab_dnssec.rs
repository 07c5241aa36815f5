//! The lab signs zones, and mailcheck's validator judges them: secure, insecure (unsigned
//! child proven by the root's NSEC, or an island with no DS), bogus (expired, DS mismatch),
//! and a resolver that strips DNSSEC records.

use std::time::Duration;

use mailcheck::dns::{BogusReason, Dns, RecordType, ResolverSettings, TrustAnchor, Validation};
use mailcheck::lab::{Lab, LabBuilder, LabRecord, Signing, fixture_dir};

/// A validating resolver on the lab, trusting the lab's root key (written to `dir`).
fn validating(lab: &Lab, dir: &tempfile::TempDir) -> Dns {
    let path = dir.path().join("root.key");
    lab.write_trust_anchor(&path).expect("anchor written");
    Dns::new(&ResolverSettings {
        servers: Some(vec![lab.addr()]),
        timeout: Duration::from_millis(800),
        tries: 2,
        qps: None,
        dnssec: Some(TrustAnchor::File(path)),
    })
    .expect("resolver")
}

async fn fixtures(builder: LabBuilder) -> (Lab, Dns, tempfile::TempDir) {
    let lab = builder
        .zone_dir(&fixture_dir())
        .expect("fixtures")
        .start()
        .await
        .expect("lab starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let dns = validating(&lab, &dir);
    (lab, dns, dir)
}

async fn verdict(dns: &Dns, name: &str, rtype: RecordType) -> Validation {
    dns.validate(name, rtype).await.expect("DNSSEC is on")
}

#[tokio::test]
async fn trust_anchor_is_the_root_ksk_line() {
    let (lab, dns, _dir) = fixtures(Lab::builder()).await;
    let anchor = lab.trust_anchor();
    assert!(
        anchor.starts_with(". 300 IN DNSKEY 257 3 13 "),
        "anchor line: {anchor}"
    );
    assert_eq!(anchor.lines().count(), 1);
    assert_eq!(dns.dnssec_usable().await, Some(Ok(())));
}

#[tokio::test]
async fn every_lab_has_its_own_root_key() {
    let a = Lab::builder().start().await.expect("lab");
    let b = Lab::builder().start().await.expect("lab");
    assert_ne!(a.trust_anchor(), b.trust_anchor());
}

#[tokio::test]
async fn signed_zone_is_secure() {
    let (_lab, dns, _dir) = fixtures(Lab::builder()).await;
    for (name, rtype) in [
        ("dnssec-ok.test", RecordType::Mx),
        ("mx.dnssec-ok.test", RecordType::A),
        ("_dmarc.dnssec-ok.test", RecordType::Txt),
    ] {
        match verdict(&dns, name, rtype).await {
            Validation::Secure { signer, expires } => {
                assert_eq!(signer.as_deref(), Some("dnssec-ok.test"), "{name}");
                assert!(expires.is_some(), "{name}");
            }
            other => panic!("{name} {rtype}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn unsigned_zones_are_proven_insecure() {
    let (_lab, dns, _dir) = fixtures(Lab::builder()).await;
    for (name, rtype) in [
        ("good.test", RecordType::Mx),
        ("dnssec-unsigned.test", RecordType::Mx),
        ("_25._tcp.mx.dnssec-unsigned.test", RecordType::Tlsa),
        ("1.0.0.10.in-addr.arpa", RecordType::Ptr),
    ] {
        assert_eq!(
            verdict(&dns, name, rtype).await,
            Validation::Insecure,
            "{name} {rtype}"
        );
    }
}

#[tokio::test]
async fn island_without_ds_is_insecure() {
    let (_lab, dns, _dir) = fixtures(Lab::builder()).await;
    assert_eq!(
        verdict(&dns, "dnssec-island.test", RecordType::Mx).await,
        Validation::Insecure
    );
}

#[tokio::test]
async fn expired_signatures_are_bogus() {
    let (_lab, dns, _dir) = fixtures(Lab::builder()).await;
    match verdict(&dns, "dnssec-expired.test", RecordType::Mx).await {
        Validation::Bogus { reason, detail } => {
            assert_eq!(reason, BogusReason::ExpiredSignature, "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn ds_mismatch_is_bogus() {
    let (_lab, dns, _dir) = fixtures(Lab::builder()).await;
    match verdict(&dns, "dnssec-dsbad.test", RecordType::Mx).await {
        Validation::Bogus { reason, detail } => {
            assert_eq!(reason, BogusReason::DsMismatch, "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn expiring_zone_is_secure_with_its_expiry() {
    let (_lab, dns, _dir) = fixtures(Lab::builder()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let now = i64::try_from(now).expect("time");
    match verdict(&dns, "dnssec-expiring.test", RecordType::Mx).await {
        Validation::Secure {
            expires: Some(expires),
            ..
        } => {
            assert!(expires > now, "{expires} <= {now}");
            assert!(expires <= now + 3 * 86_400 + 60, "{expires}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn records_added_in_code_are_signed() {
    let lab = Lab::builder()
        .zone(
            "tlsa.test",
            "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n\
             @ 300 IN NS ns.lab.\n\
             mx 300 IN A 127.0.60.7\n",
        )
        .sign("tlsa.test", Signing::Valid)
        .record(
            "_25._tcp.mx.tlsa.test",
            LabRecord::Tlsa {
                usage: 3,
                selector: 1,
                matching: 1,
                data: vec![0xab; 32],
            },
        )
        .start()
        .await
        .expect("lab");
    let dir = tempfile::tempdir().expect("tempdir");
    let dns = validating(&lab, &dir);
    let tlsa = dns.tlsa("_25._tcp.mx.tlsa.test").await;
    assert!(tlsa.records().is_some_and(|t| t.len() == 1), "{tlsa:?}");
    assert!(
        matches!(
            verdict(&dns, "_25._tcp.mx.tlsa.test", RecordType::Tlsa).await,
            Validation::Secure { .. }
        ),
        "TLSA added in code validates"
    );
}

#[tokio::test]
async fn signed_denial_of_existence_is_secure() {
    let (_lab, dns, _dir) = fixtures(Lab::builder()).await;
    // No TLSA at the MX host: an NSEC-proven NODATA in a signed zone.
    let v = verdict(&dns, "_25._tcp.mx.dnssec-ok.test", RecordType::Tlsa).await;
    assert!(matches!(v, Validation::Secure { .. }), "{v:?}");
}

#[tokio::test]
async fn deep_nxdomain_carries_the_wildcard_denial() {
    let (_lab, dns, _dir) = fixtures(Lab::builder()).await;
    // Closest encloser `test.` (an empty non-terminal in the root) and the apex of a signed
    // zone: both need the NSEC denying the wildcard there, which hickory leaves out.
    for (name, rtype) in [
        ("_dmarc.nope.test", RecordType::Txt),
        ("_smtp._tls.dnssec-ok.test", RecordType::Txt),
        ("nope.test", RecordType::Mx),
    ] {
        let v = verdict(&dns, name, rtype).await;
        assert!(
            matches!(v, Validation::Secure { .. }),
            "{name} {rtype}: {v:?}"
        );
    }
}

#[tokio::test]
async fn stripping_resolver_is_unusable() {
    let (_lab, dns, _dir) = fixtures(Lab::builder().strip_dnssec()).await;
    let usable = dns.dnssec_usable().await.expect("DNSSEC is on");
    assert!(usable.is_err(), "{usable:?}");
}

#[tokio::test]
async fn stripping_can_start_while_the_lab_runs() {
    let (lab, dns, dir) = fixtures(Lab::builder()).await;
    assert_eq!(dns.dnssec_usable().await, Some(Ok(())));
    lab.set_strip_dnssec(true);
    // A fresh resolver: the verdict is asked once per run.
    let dns = validating(&lab, &dir);
    let usable = dns.dnssec_usable().await.expect("DNSSEC is on");
    assert!(usable.is_err(), "{usable:?}");
    // The data itself still comes.
    assert!(dns.mx("dnssec-ok.test").await.records().is_some());
}

#[tokio::test]
async fn lab_serve_writes_its_trust_anchor() {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mailcheck"))
        .args(["lab", "serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("mailcheck lab serve");
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut stderr = tokio::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), stdout.read_line(&mut line))
        .await
        .expect("the address is printed")
        .expect("stdout");
    let addr: std::net::SocketAddr = line.trim().parse().expect("an address alone");
    let path = loop {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), stderr.read_line(&mut line))
            .await
            .expect("the anchor is announced")
            .expect("stderr");
        assert!(!line.is_empty(), "no trust anchor line on stderr");
        if let Some(rest) = line.split("trust anchor in ").nth(1) {
            break std::path::PathBuf::from(rest.split(" (").next().expect("path"));
        }
    };
    let text = std::fs::read_to_string(&path).expect("anchor file");
    assert!(text.starts_with(". 300 IN DNSKEY 257 3 13 "), "{text}");
    let dns = Dns::new(&ResolverSettings {
        servers: Some(vec![addr]),
        timeout: Duration::from_millis(800),
        tries: 2,
        qps: None,
        dnssec: Some(TrustAnchor::File(path.clone())),
    })
    .expect("resolver");
    assert!(matches!(
        verdict(&dns, "dnssec-ok.test", RecordType::Mx).await,
        Validation::Secure { .. }
    ));
    // SIGTERM, not SIGKILL: the lab removes its anchor file on the way out.
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the lab stops on SIGTERM")
        .expect("exit status");
    assert!(!path.exists(), "the anchor file is removed on exit");
}
