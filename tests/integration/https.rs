//! MTA-STS policy and BIMI logo fetches against real HTTPS listeners on loopback, with
//! certificates from a test CA passed by `--ca-file`. Each test takes its own 127.0.N.0/24
//! block (40-49); every listener of a test shares one port, given by `--https-port`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use mailcheck::lab::https::{HttpsListener, Pace, Response};
use mailcheck::lab::pki::{ServerCert, TestCa, Validity};
use mailcheck::lab::smtp::{SmtpListener, SmtpSpec};
use mailcheck::lab::{Lab, LabRecord};
use serde_json::Value;

use crate::support::{Run, all_codes, audit_json_with, messages, status};

const GOOD_POLICY: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.{d}\r\nmax_age: 1209600\r\n";
const PATH: &str = "/.well-known/mta-sts.txt";

/// One domain of a site: its zone lines beyond the basics, and what its policy host serves.
struct Domain {
    name: String,
    /// Last octet of `mta-sts.<name>` (its listener lives there).
    octet: u8,
    extra_zone: String,
    routes: Vec<(String, Response)>,
    /// The names the listener's certificate covers (default: `mta-sts.<name>`).
    cert_names: Option<Vec<String>>,
    /// Start no listener at `octet` (nothing answers there).
    no_listener: bool,
}

fn domain(block: u8, label: &str, octet: u8) -> Domain {
    Domain {
        name: format!("{label}{block}.test"),
        octet,
        extra_zone: String::new(),
        routes: Vec::new(),
        cert_names: None,
        no_listener: false,
    }
}

impl Domain {
    fn policy(mut self, body: &str) -> Self {
        let body = body.replace("{d}", &self.name);
        self.routes.push((PATH.into(), Response::text(body)));
        self
    }

    fn route(mut self, path: &str, response: Response) -> Self {
        self.routes.push((path.into(), response));
        self
    }

    fn zone(mut self, lines: &str) -> Self {
        self.extra_zone.push_str(&lines.replace("{d}", &self.name));
        self
    }
}

struct Site {
    lab: Lab,
    port: u16,
    ca: TestCa,
    ca_file: tempfile::NamedTempFile,
    web: Vec<(String, HttpsListener)>,
    smtp: Vec<SmtpListener>,
    _anchor: tokio::net::TcpListener,
}

fn ip(block: u8, octet: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, block, octet))
}

/// The basic zone of a site domain: MX `mx1` at .`octet+1`, the policy host at .`octet`, the
/// `_mta-sts` and TLS-RPT records (unless `extra` replaces them with `;no-sts` / `;no-rpt`).
fn zone(d: &Domain, block: u8) -> String {
    let n = &d.name;
    let mut z = format!(
        "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n\
         @ 300 IN MX 10 mx1\nmx1 300 IN A {}\n",
        ip(block, d.octet + 1),
    );
    if !d.extra_zone.contains(";no-host") {
        let _ = writeln!(z, "mta-sts 300 IN A {}", ip(block, d.octet));
    }
    if !d.extra_zone.contains(";no-sts") {
        z.push_str("_mta-sts 300 IN TXT \"v=STSv1; id=20260101T000000\"\n");
    }
    if !d.extra_zone.contains(";no-rpt") {
        let _ = writeln!(
            z,
            "_smtp._tls 300 IN TXT \"v=TLSRPTv1; rua=mailto:tls@{n}\""
        );
    }
    z.push_str(&d.extra_zone);
    z
}

impl Site {
    async fn start(block: u8, domains: Vec<Domain>) -> Self {
        Self::start_with(block, domains, |b| b, Vec::new()).await
    }

    async fn start_with(
        block: u8,
        domains: Vec<Domain>,
        lab: impl FnOnce(mailcheck::lab::LabBuilder) -> mailcheck::lab::LabBuilder,
        smtp: Vec<(u8, SmtpSpec)>,
    ) -> Self {
        let anchor = tokio::net::TcpListener::bind((ip(block, 250), 0))
            .await
            .unwrap();
        let port = anchor.local_addr().unwrap().port();
        let ca = TestCa::root("Lab HTTPS Root");
        let mut builder = Lab::builder();
        let mut web = Vec::new();
        for d in domains {
            builder = builder.zone(&d.name, &zone(&d, block));
            if d.no_listener {
                continue;
            }
            let names = d
                .cert_names
                .clone()
                .unwrap_or_else(|| vec![format!("mta-sts.{}", d.name)]);
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let tls = ca.leaf(&names, Validity::Long, true).server_config();
            let l = HttpsListener::start(ip(block, d.octet), port, tls, d.routes)
                .await
                .unwrap();
            web.push((d.name, l));
        }
        let mut smtp_listeners = Vec::new();
        for (octet, spec) in smtp {
            smtp_listeners.push(
                SmtpListener::start(ip(block, octet), port, spec)
                    .await
                    .unwrap(),
            );
        }
        let lab = lab(builder).start().await.unwrap();
        let ca_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca_file.path(), ca.pem()).unwrap();
        Self {
            lab,
            port,
            ca,
            ca_file,
            web,
            smtp: smtp_listeners,
            _anchor: anchor,
        }
    }

    fn web(&self, domain: &str) -> &HttpsListener {
        &self.web.iter().find(|(n, _)| n == domain).unwrap().1
    }

    /// Audits with HTTPS fetches on this site's port, trusting its CA; SMTP off unless `extra`
    /// gives `--smtp-port`.
    async fn audit(&self, domains: &[&str], extra: &[&str]) -> (Run, Value) {
        let port = self.port.to_string();
        let ca = self.ca_file.path().to_str().unwrap().to_owned();
        let mut args = vec![
            "--allow-private",
            "--no-blocklists",
            "--https-port",
            &port,
            "--https-timeout",
            "1",
            "--ca-file",
            &ca,
        ];
        if !extra.contains(&"--smtp-port") {
            args.push("--no-smtp");
        }
        args.extend_from_slice(extra);
        audit_json_with(&self.lab, domains, &args).await
    }

    /// Like [`Site::audit`] with these environment variables set for the tool.
    async fn audit_env(&self, domains: &[&str], env: &[(&str, &str)]) -> (Run, Value) {
        let (resolver, port) = (self.lab.addr().to_string(), self.port.to_string());
        let ca = self.ca_file.path().to_str().unwrap().to_owned();
        let mut args = vec![
            "--resolver",
            &resolver,
            "--format",
            "json",
            "--allow-private",
            "--no-blocklists",
            "--no-smtp",
            "--https-port",
            &port,
            "--https-timeout",
            "1",
            "--ca-file",
            &ca,
        ];
        args.extend_from_slice(domains);
        let run = crate::support::mailcheck_with(&args, env).await;
        let doc = serde_json::from_str(&run.stdout).expect(&run.stderr);
        (run, doc)
    }
}

fn result<'a>(doc: &'a Value, domain: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["domain"] == domain)
        .unwrap_or_else(|| panic!("no result for {domain}"))
}

fn has(r: &Value, code: &str) -> bool {
    all_codes(r).iter().any(|c| c == code)
}

/// Every MTA-STS policy code: none of them may fire on a good policy.
const POLICY_CODES: &[&str] = &[
    "STS005", "STS006", "STS007", "STS008", "STS009", "STS010", "STS011", "STS012", "STS013",
    "STS014", "STS015", "STS016", "STS017", "STS018", "STS019", "STS020", "STS021", "RPT003",
];

#[tokio::test]
async fn a_valid_enforce_policy_is_fetched_once_and_passes() {
    let d = domain(40, "good", 1).policy(GOOD_POLICY);
    let site = Site::start(40, vec![d]).await;
    let (run, doc) = site.audit(&["good40.test"], &[]).await;
    let r = result(&doc, "good40.test");
    for code in POLICY_CODES {
        assert!(!has(r, code), "{code} fired: {:?}", all_codes(r));
    }
    for code in [
        "STS005", "STS007", "STS008", "STS009", "STS010", "STS011", "STS012", "STS017",
    ] {
        assert_eq!(status(r, code), "pass", "{code}");
    }
    let fetch = &r["facts"]["mta_sts"]["policy"];
    assert_eq!(fetch["policy"]["mode"], "enforce");
    assert_eq!(fetch["policy"]["max_age"], 1_209_600);
    assert_eq!(fetch["fetch"]["result"]["status"], 200);
    assert_eq!(
        fetch["fetch"]["address"],
        format!("127.0.40.1:{}", site.port)
    );
    let web = site.web("good40.test");
    assert_eq!(web.requests(PATH), 1);
    let log = web.request_log();
    assert_eq!(
        log[0].host.as_deref(),
        Some(format!("mta-sts.good40.test:{}", site.port).as_str())
    );
    assert!(
        log[0]
            .user_agent
            .as_deref()
            .unwrap()
            .starts_with("mailcheck/")
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[tokio::test]
async fn the_table_shows_the_policy() {
    let d = domain(40, "shown", 3).policy(GOOD_POLICY);
    let site = Site::start(40, vec![d]).await;
    let port = site.port.to_string();
    let ca = site.ca_file.path().to_str().unwrap().to_owned();
    let resolver = site.lab.addr().to_string();
    let run = crate::support::mailcheck(&[
        "--resolver",
        &resolver,
        "--allow-private",
        "--no-blocklists",
        "--no-smtp",
        "--https-port",
        &port,
        "--ca-file",
        &ca,
        "shown40.test",
    ])
    .await;
    assert!(
        run.stdout
            .contains("policy enforce · max_age 1209600 (14 days) · mx mx1.shown40.test"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("HTTP 200"), "{}", run.stdout);
}

#[tokio::test]
async fn patterns_and_mx_hosts_are_matched_both_ways() {
    // mx2 matches no pattern; the second pattern matches no MX.
    let d = domain(41, "cover", 1)
        .zone("@ 300 IN MX 20 mx2\nmx2 300 IN A 127.0.41.9\n")
        .policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.{d}\r\nmx: *.old-provider.example\r\nmax_age: 1209600\r\n");
    // A wildcard covers exactly one label.
    let w = domain(41, "wild", 3)
        .policy("version: STSv1\r\nmode: testing\r\nmx: *.wild41.test\r\nmax_age: 1209600\r\n");
    let site = Site::start(41, vec![d, w]).await;
    let (_, doc) = site.audit(&["cover41.test", "wild41.test"], &[]).await;
    let r = result(&doc, "cover41.test");
    let uncovered = messages(r, "STS017");
    assert_eq!(uncovered.len(), 1, "{uncovered:?}");
    assert!(uncovered[0].contains("mx2.cover41.test"), "{uncovered:?}");
    let unused = messages(r, "STS018");
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(unused[0].contains("*.old-provider.example"));
    let w = result(&doc, "wild41.test");
    assert!(!has(w, "STS017") && !has(w, "STS018"), "{:?}", all_codes(w));
}

#[tokio::test]
async fn policy_content_problems_each_have_a_code() {
    let short = domain(41, "short", 5)
        .policy("version: STSv1\nmode: enforce\nmx: mx1.{d}\nmax_age: 3600\nmax-age: 86400\n");
    let days = domain(41, "days", 7)
        .policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.{d}\r\nmax_age: 172800\r\n");
    let none = domain(41, "none", 11).policy("version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n");
    let broken =
        domain(41, "broken", 13).policy("version: STSv2\r\nmode: strict\r\nmx: mx1.{d}\r\n");
    let site = Site::start(41, vec![short, days, none, broken]).await;
    let names = [
        "short41.test",
        "days41.test",
        "none41.test",
        "broken41.test",
    ];
    let (_, doc) = site.audit(&names, &[]).await;
    let short = result(&doc, "short41.test");
    assert!(
        has(short, "STS013") && !has(short, "STS014"),
        "{:?}",
        all_codes(short)
    );
    let lax = messages(short, "STS015");
    assert_eq!(lax.len(), 2, "{lax:?}");
    assert!(
        lax[0].contains("5 line(s)") && lax[1].contains("max-age"),
        "{lax:?}"
    );
    let days = result(&doc, "days41.test");
    assert!(
        has(days, "STS014") && !has(days, "STS013"),
        "{:?}",
        all_codes(days)
    );
    let none = result(&doc, "none41.test");
    assert!(has(none, "STS016"), "{:?}", all_codes(none));
    assert!(!has(none, "STS013") && !has(none, "STS017"));
    let broken = result(&doc, "broken41.test");
    let errors = messages(broken, "STS012");
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("version must be STSv1")));
    assert!(errors.iter().any(|e| e.contains("max_age is missing")));
    // Invalid: no cross-check is made against it.
    assert_eq!(status(broken, "STS017"), "not-applicable");
}

#[tokio::test]
async fn a_404_is_an_error() {
    let d = domain(42, "missing", 1);
    let site = Site::start(42, vec![d]).await;
    let (_, doc) = site.audit(&["missing42.test"], &[]).await;
    let r = result(&doc, "missing42.test");
    let m = messages(r, "STS007");
    assert!(m[0].contains("HTTP 404"), "{m:?}");
    assert!(!has(r, "STS005") && !has(r, "STS001"), "{:?}", all_codes(r));
    assert_eq!(site.web("missing42.test").requests(PATH), 1);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let d = domain(42, "moved", 3);
    let target = "https://mta-sts.moved42.test/elsewhere.txt".to_owned();
    let d = d
        .route(PATH, Response::redirect(&target))
        .route("/elsewhere.txt", Response::text("version: STSv1\r\n"));
    let site = Site::start(42, vec![d]).await;
    let (_, doc) = site.audit(&["moved42.test"], &[]).await;
    let r = result(&doc, "moved42.test");
    let m = messages(r, "STS008");
    assert!(m[0].contains("HTTP 301") && m[0].contains(&target), "{m:?}");
    let web = site.web("moved42.test");
    assert_eq!(web.requests(PATH), 1);
    assert_eq!(
        web.requests("/elsewhere.txt"),
        0,
        "the Location was never requested"
    );
    assert!(!has(r, "STS007"));
}

#[tokio::test]
async fn a_2_mib_body_is_cut_at_the_cap() {
    let mut body = GOOD_POLICY.replace("{d}", "huge43.test");
    body.push_str(&"# padding\r\n".repeat(2 * 1024 * 1024 / 11));
    let huge = domain(43, "huge", 1).route(PATH, Response::text(body).without_length());
    let typed = domain(43, "typed", 3).route(
        PATH,
        Response::text(GOOD_POLICY.replace("{d}", "typed43.test"))
            .content_type(Some("text/html; charset=utf-8")),
    );
    let site = Site::start(43, vec![huge, typed]).await;
    let (_, doc) = site.audit(&["huge43.test", "typed43.test"], &[]).await;
    let r = result(&doc, "huge43.test");
    assert!(has(r, "STS010"), "{:?}", all_codes(r));
    let resp = &r["facts"]["mta_sts"]["policy"]["fetch"]["result"];
    assert_eq!(resp["bytes"], 65_536);
    assert_eq!(resp["truncated"], true);
    let t = result(&doc, "typed43.test");
    let m = messages(t, "STS009");
    assert!(m[0].contains("text/html"), "{m:?}");
    assert!(!has(t, "STS010") && !has(t, "STS012"), "{:?}", all_codes(t));
}

#[tokio::test]
async fn a_slow_server_is_unknown_never_missing() {
    let stall =
        domain(44, "stall", 1).route(PATH, Response::text(GOOD_POLICY).pace(Pace::StallHeaders));
    let drip = domain(44, "drip", 3).route(
        PATH,
        Response::text(GOOD_POLICY.replace("{d}", "drip44.test")).pace(Pace::Slow {
            chunk: 4,
            pause: Duration::from_millis(400),
        }),
    );
    let site = Site::start(44, vec![stall, drip]).await;
    let (run, doc) = site.audit(&["stall44.test", "drip44.test"], &[]).await;
    for d in ["stall44.test", "drip44.test"] {
        let r = result(&doc, d);
        assert_eq!(status(r, "STS005"), "unknown", "{d}");
        assert_eq!(
            r["facts"]["mta_sts"]["policy"]["fetch"]["result"]["outcome"], "timeout",
            "{d}"
        );
        for code in ["STS001", "STS005", "STS006", "STS007", "STS012"] {
            assert!(!has(r, code), "{d}: {code}: {:?}", all_codes(r));
        }
    }
    assert!(
        run.elapsed < Duration::from_secs(15),
        "bounded: {:?}",
        run.elapsed
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_an_error() {
    let mut d = domain(45, "cdn", 1).policy(GOOD_POLICY);
    d.cert_names = Some(vec!["cdn45.test".into(), "www.cdn45.test".into()]);
    let mut selfsigned = domain(45, "own", 3).policy(GOOD_POLICY);
    selfsigned.no_listener = true;
    let site = Site::start(45, vec![d, selfsigned]).await;
    // A self-signed certificate with the right name, on the second host.
    let own = ServerCert::self_signed(&["mta-sts.own45.test"]);
    let _l = HttpsListener::start(
        ip(45, 3),
        site.port,
        own.server_config(),
        [(
            PATH,
            Response::text(GOOD_POLICY.replace("{d}", "own45.test")),
        )],
    )
    .await
    .unwrap();
    let (_, doc) = site.audit(&["cdn45.test", "own45.test"], &[]).await;
    let r = result(&doc, "cdn45.test");
    let m = messages(r, "STS011");
    assert!(m[0].contains("does not cover mta-sts.cdn45.test"), "{m:?}");
    assert_eq!(
        r["facts"]["mta_sts"]["policy"]["fetch"]["result"]["verdict"]["result"],
        "name-mismatch"
    );
    assert_eq!(
        site.web("cdn45.test").requests(PATH),
        0,
        "no request over a bad certificate"
    );
    let o = result(&doc, "own45.test");
    let m = messages(o, "STS011");
    assert!(m[0].contains("trusted root"), "{m:?}");
    let _ = &site.ca;
}

#[tokio::test]
async fn enforce_or_testing_with_an_invalid_mx_certificate() {
    let ca_for_mx = TestCa::root("Lab HTTPS Root (MX)");
    let enforce = domain(46, "strict", 1).policy(GOOD_POLICY);
    let testing = domain(46, "trial", 3)
        .policy("version: STSv1\r\nmode: testing\r\nmx: mx1.{d}\r\nmax_age: 1209600\r\n");
    // mx1 of each domain is at .2 / .4: one presents a wrong-name certificate, the other a
    // self-signed one.
    let wrong = SmtpSpec::new(
        "mx1.strict46.test",
        Some(
            ca_for_mx
                .leaf(&["other.example"], Validity::Long, true)
                .server_config(),
        ),
    );
    let own = SmtpSpec::new(
        "mx1.trial46.test",
        Some(ServerCert::self_signed(&["mx1.trial46.test"]).server_config()),
    );
    let site = Site::start_with(
        46,
        vec![enforce, testing],
        |b| b,
        vec![(2, wrong), (4, own)],
    )
    .await;
    // Trust the MX CA too, so only the name is wrong on strict46's MX.
    let mx_ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(mx_ca.path(), ca_for_mx.pem()).unwrap();
    let port = site.port.to_string();
    let (_, doc) = site
        .audit(
            &["strict46.test", "trial46.test"],
            &[
                "--smtp-port",
                &port,
                "--smtp-timeout",
                "3",
                "--helo-name",
                "probe.lab.test",
                "--ca-file",
                mx_ca.path().to_str().unwrap(),
            ],
        )
        .await;
    let s = result(&doc, "strict46.test");
    let m = messages(s, "STS019");
    assert!(m[0].contains("not valid for mx1.strict46.test"), "{m:?}");
    assert!(!has(s, "STS020"));
    let t = result(&doc, "trial46.test");
    let m = messages(t, "STS020");
    assert!(m[0].contains("trusted root"), "{m:?}");
    assert!(!has(t, "STS019"));
    assert_eq!(site.smtp.len(), 2);
    assert!(site.smtp.iter().all(|l| l.handshakes() >= 1));
}

#[tokio::test]
async fn testing_without_tls_rpt_and_a_policy_without_a_record() {
    let quiet = domain(47, "quiet", 1)
        .zone(";no-rpt\n")
        .policy("version: STSv1\r\nmode: testing\r\nmx: mx1.{d}\r\nmax_age: 1209600\r\n");
    let orphan = domain(47, "orphan", 3)
        .zone(";no-sts\n")
        .policy(GOOD_POLICY);
    let site = Site::start(47, vec![quiet, orphan]).await;
    let (_, doc) = site.audit(&["quiet47.test", "orphan47.test"], &[]).await;
    let q = result(&doc, "quiet47.test");
    let m = messages(q, "RPT003");
    assert!(m[0].contains("testing mode"), "{m:?}");
    let o = result(&doc, "orphan47.test");
    let m = messages(o, "STS006");
    assert!(m[0].contains("has no v=STSv1 record"), "{m:?}");
    // Without the record, fetch problems are not reported: no sender would fetch.
    assert_eq!(status(o, "STS007"), "not-applicable");
}

#[tokio::test]
async fn bimi_logos_good_and_not_tiny_ps() {
    const TINY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.2\" baseProfile=\"tiny-ps\"><title>Logo</title></svg>";
    const FULL: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"10\"/>";
    let bimi_zone = |n: &str| {
        format!(
            ";no-sts\n;no-rpt\n_dmarc 300 IN TXT \"v=DMARC1; p=reject; rua=mailto:d@{n}\"\n\
             default._bimi 300 IN TXT \"v=BIMI1; l=https://mta-sts.{n}/logo.svg; a=https://mta-sts.{n}/vmc.pem\"\n"
        )
    };
    let good = domain(48, "logo", 1);
    let good = Domain {
        extra_zone: bimi_zone(&good.name),
        ..good
    }
    .route(
        "/logo.svg",
        Response::text(TINY).content_type(Some("image/svg+xml")),
    )
    .route(
        "/vmc.pem",
        Response::text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
    );
    let plain = domain(48, "plain", 3);
    let plain = Domain {
        extra_zone: bimi_zone(&plain.name),
        ..plain
    }
    .route(
        "/logo.svg",
        Response::text(FULL).content_type(Some("image/svg+xml")),
    );
    let gone = domain(48, "gone", 5);
    let gone = Domain {
        extra_zone: bimi_zone(&gone.name),
        ..gone
    };
    let big = domain(48, "big", 7);
    let mut svg = TINY.replace("</svg>", "");
    svg.push_str(&"<!-- padding -->".repeat(6000));
    let big = Domain {
        extra_zone: bimi_zone(&big.name),
        ..big
    }
    .route(
        "/logo.svg",
        Response::text(svg).content_type(Some("image/svg+xml")),
    );
    let site = Site::start(48, vec![good, plain, gone, big]).await;
    let names = ["logo48.test", "plain48.test", "gone48.test", "big48.test"];
    let (_, doc) = site.audit(&names, &[]).await;
    let good = result(&doc, "logo48.test");
    for code in ["BIMI006", "BIMI007", "BIMI008", "BIMI009"] {
        assert_eq!(status(good, code), "pass", "{code}: {:?}", all_codes(good));
    }
    assert_eq!(
        good["facts"]["bimi"]["logo"]["svg"]["base_profile"],
        "tiny-ps"
    );
    assert_eq!(site.web("logo48.test").requests("/logo.svg"), 1);
    let plain = result(&doc, "plain48.test");
    let m = messages(plain, "BIMI009");
    assert!(m[0].contains("vmc.pem: HTTP 404"), "{m:?}");
    assert_eq!(plain["facts"]["bimi"]["evidence"]["certificates"], 0);
    let m = messages(plain, "BIMI007");
    assert!(
        m[0].contains("baseProfile=(absent)") && m[0].contains("\"1.1\""),
        "{m:?}"
    );
    let gone = result(&doc, "gone48.test");
    let m = messages(gone, "BIMI006");
    assert!(m[0].contains("HTTP 404"), "{m:?}");
    let big = result(&doc, "big48.test");
    assert!(has(big, "BIMI008"), "{:?}", all_codes(big));
}

#[tokio::test]
async fn cnames_dangling_beside_data_and_dane() {
    // unreach: the TXT announces a policy, nothing listens on the policy host.
    let mut unreach = domain(49, "unreach", 1);
    unreach.no_listener = true;
    // dangle: mta-sts is a CNAME to a name that does not exist.
    let mut dangle =
        domain(49, "dangle", 3).zone(";no-host\nmta-sts 300 IN CNAME gone.nowhere.test.\n");
    dangle.no_listener = true;
    // clash: _smtp._tls has its TXT and also a CNAME (added in code below).
    let clash = domain(49, "clash", 5).policy(GOOD_POLICY);
    // dane: TLSA at the MX, no MTA-STS, no TLS-RPT.
    let mut dane = domain(49, "dane", 7).zone(
        ";no-sts\n;no-rpt\n_25._tcp.mx1 300 IN TLSA 3 1 1 abababababababababababababababababababababababababababababababab\n",
    );
    dane.no_listener = true;
    let site = Site::start_with(
        49,
        vec![unreach, dangle, clash, dane],
        |b| {
            // The zone store refuses a CNAME beside a TXT: a hostile server's answer.
            b.answer(
                "_smtp._tls.clash49.test",
                "TXT",
                vec![
                    (
                        "_smtp._tls.clash49.test",
                        LabRecord::Cname("rpt.provider.example".into()),
                    ),
                    (
                        "_smtp._tls.clash49.test",
                        LabRecord::Txt(vec![b"v=TLSRPTv1; rua=mailto:tls@clash49.test".to_vec()]),
                    ),
                ],
            )
        },
        Vec::new(),
    )
    .await;
    let names = [
        "unreach49.test",
        "dangle49.test",
        "clash49.test",
        "dane49.test",
    ];
    let (_, doc) = site.audit(&names, &[]).await;
    let unreach = result(&doc, "unreach49.test");
    let m = messages(unreach, "STS005");
    assert!(m[0].contains("connection failed"), "{m:?}");
    let clash = result(&doc, "clash49.test");
    let m = messages(clash, "DNS002");
    assert!(
        m[0].contains("_smtp._tls.clash49.test") && m[0].contains("rpt.provider.example"),
        "{m:?}"
    );
    let dane = result(&doc, "dane49.test");
    let m = messages(dane, "RPT003");
    assert!(m[0].contains("DANE"), "{m:?}");
    assert_eq!(dane["facts"]["dane"][0]["lookup"]["records"][0]["usage"], 3);
    let dangle = result(&doc, "dangle49.test");
    let m = messages(dangle, "STS021");
    assert!(m[0].contains("gone.nowhere.test"), "{m:?}");
    assert!(!has(dangle, "STS005"), "one finding for one cause");
}

#[tokio::test]
async fn the_address_policy_and_cnames_at_the_policy_host() {
    // The policy host is a CNAME to the provider's host, which serves a certificate for
    // mta-sts.<domain> (as CDNs do with a custom domain).
    let mut hosted = domain(40, "hosted", 5)
        .zone(";no-host\nmta-sts 300 IN CNAME web.provider40.test.\n")
        .policy(GOOD_POLICY);
    hosted.cert_names = Some(vec!["mta-sts.hosted40.test".into()]);
    let provider = Domain {
        extra_zone: ";no-sts\n;no-rpt\nweb 300 IN A 127.0.40.5\n".into(),
        no_listener: true,
        ..domain(40, "provider", 9)
    };
    let site = Site::start(40, vec![hosted, provider]).await;
    let (_, doc) = site.audit(&["hosted40.test"], &[]).await;
    let r = result(&doc, "hosted40.test");
    let fetch = &r["facts"]["mta_sts"]["policy"]["fetch"];
    assert_eq!(fetch["cnames"][0]["target"], "web.provider40.test");
    assert_eq!(fetch["result"]["status"], 200);
    assert_eq!(status(r, "STS011"), "pass");
    let web = site.web("hosted40.test");
    assert_eq!(web.requests(PATH), 1);
    // Without --allow-private the loopback policy host is never contacted.
    let port = site.port.to_string();
    let ca = site.ca_file.path().to_str().unwrap().to_owned();
    let (_, doc) = audit_json_with(
        &site.lab,
        &["hosted40.test"],
        &[
            "--no-smtp",
            "--no-blocklists",
            "--https-port",
            &port,
            "--ca-file",
            &ca,
        ],
    )
    .await;
    let r = result(&doc, "hosted40.test");
    let fetch = &r["facts"]["mta_sts"]["policy"]["fetch"];
    assert_eq!(fetch["result"]["outcome"], "forbidden");
    assert_eq!(fetch["result"]["class"], "loopback");
    assert!(messages(r, "STS005")[0].contains("loopback"));
    assert_eq!(web.connections(), 1, "the second audit never connected");
}

#[tokio::test]
async fn no_https_fetches_nothing_and_says_not_run() {
    let d = domain(42, "off", 5).policy(GOOD_POLICY);
    let site = Site::start(42, vec![d]).await;
    let (_, doc) = site.audit(&["off42.test"], &["--no-https"]).await;
    let r = result(&doc, "off42.test");
    for code in ["STS005", "STS007", "STS012", "STS017", "STS021"] {
        assert_eq!(status(r, code), "not-run", "{code}");
    }
    assert!(r["facts"]["mta_sts"].get("policy").is_none());
    assert_eq!(site.web("off42.test").connections(), 0);
}

/// Redirect loops and redirects to plain http are answered once and never followed; and the
/// request carries nothing from the environment: no proxy is used and no credentials are sent,
/// whatever the proxy variables say, only a fixed User-Agent.
#[tokio::test]
async fn redirect_loops_and_http_redirects_are_not_followed_and_nothing_leaks() {
    let looped = domain(98, "loop", 1).route(
        PATH,
        Response::redirect(&format!("https://mta-sts.loop98.test{PATH}")),
    );
    let plain = domain(98, "plain", 2).route(
        PATH,
        Response::redirect("http://mta-sts.plain98.test/.well-known/mta-sts.txt"),
    );
    let fine = domain(98, "fine", 3).route(
        PATH,
        Response::text(GOOD_POLICY.replace("{d}", "fine98.test")),
    );
    let site = Site::start(98, vec![looped, plain, fine]).await;
    // A proxy that would see any request sent through it.
    let proxy = tokio::net::TcpListener::bind((ip(98, 200), 0))
        .await
        .unwrap();
    let proxy_url = format!("http://user:secret@{}", proxy.local_addr().unwrap());
    let env = [
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("https_proxy", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
        ("HTTP_PROXY", proxy_url.as_str()),
    ];
    let (_, doc) = site
        .audit_env(&["loop98.test", "plain98.test", "fine98.test"], &env)
        .await;
    for d in ["loop98.test", "plain98.test"] {
        let r = result(&doc, d);
        assert!(has(r, "STS008"), "{d}: {:?}", all_codes(r));
        assert_eq!(
            site.web(d).requests(PATH),
            1,
            "{d}: asked once, never again"
        );
    }
    let m = messages(result(&doc, "plain98.test"), "STS008");
    assert!(m[0].contains("http://"), "{m:?}");
    assert!(!has(result(&doc, "fine98.test"), "STS005"));
    let accepted = tokio::time::timeout(Duration::from_millis(50), proxy.accept()).await;
    assert!(accepted.is_err(), "nothing went through the proxy");
    for d in ["loop98.test", "plain98.test", "fine98.test"] {
        for req in site.web(d).request_log() {
            let ua = req.user_agent.clone().unwrap_or_default();
            assert!(ua.starts_with("mailcheck/"), "{ua}");
            for h in &req.headers {
                assert!(
                    !["authorization", "proxy-authorization", "cookie"].contains(&h.as_str()),
                    "{d}: {h} sent"
                );
            }
        }
    }
}

/// The BIMI logo fetch meets the same hostile web servers as the MTA-STS one: a redirect (to
/// plain http) is not followed, a body that never ends is `unknown` at the timeout, and a
/// certificate for another name is refused before any request is sent.
#[tokio::test]
async fn bimi_logo_redirects_stalls_and_wrong_certificates() {
    let bimi_zone = |n: &str| {
        format!(
            ";no-sts\n;no-rpt\n_dmarc 300 IN TXT \"v=DMARC1; p=reject; rua=mailto:d@{n}\"\n\
             default._bimi 300 IN TXT \"v=BIMI1; l=https://mta-sts.{n}/logo.svg; a=\"\n"
        )
    };
    let with_bimi = |d: Domain| Domain {
        extra_zone: bimi_zone(&d.name),
        ..d
    };
    let moved = with_bimi(domain(99, "moved", 1)).route(
        "/logo.svg",
        Response::redirect("http://cdn.moved99.test/logo.svg"),
    );
    let stalled = with_bimi(domain(99, "stalled", 3))
        .route("/logo.svg", Response::text("<svg").pace(Pace::StallBody));
    let mut other = with_bimi(domain(99, "other", 5)).route("/logo.svg", Response::text("<svg/>"));
    other.cert_names = Some(vec!["cdn.example.test".into()]);
    let site = Site::start(99, vec![moved, stalled, other]).await;
    let names = ["moved99.test", "stalled99.test", "other99.test"];
    let (_, doc) = site.audit(&names, &[]).await;
    let m = messages(result(&doc, "moved99.test"), "BIMI006");
    assert!(m[0].contains("30") && m[0].contains("http://"), "{m:?}");
    assert_eq!(site.web("moved99.test").requests("/logo.svg"), 1);
    let stalled = result(&doc, "stalled99.test");
    assert_eq!(
        status(stalled, "BIMI006"),
        "unknown",
        "{:?}",
        all_codes(stalled)
    );
    let other = result(&doc, "other99.test");
    assert!(has(other, "BIMI006"), "{:?}", all_codes(other));
    assert_eq!(
        site.web("other99.test").requests("/logo.svg"),
        0,
        "no request over a bad certificate"
    );
}
