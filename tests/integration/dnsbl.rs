//! DNS blocklists, served by the lab: listings with their reasons and weights, health checks,
//! and answers that mean "unusable from here", never "listed".

use std::net::IpAddr;

use mailcheck::dns::reversed;
use mailcheck::lab::{Lab, fixture_dir};
use serde_json::Value;

use crate::support::{all_codes, audit_json_with, mailcheck_with, messages, status};

const SOA: &str = "@ 300 IN SOA ns.lab. h.lab. 1 3600 600 86400 300\n";

fn rev(ip: &str) -> String {
    reversed(ip.parse::<IpAddr>().unwrap())
}

/// dnsbl.test: two IPv4 MX addresses and one IPv6, in 127.0.31.0/24 and `fd00::/8` (never probed).
fn domain_zone() -> String {
    format!(
        "{SOA}@ 300 IN MX 10 mx1\n@ 300 IN MX 20 mx2\nmx1 300 IN A 127.0.31.1\n\
         mx1 300 IN AAAA fd00::31\nmx2 300 IN A 127.0.31.2\n\
         @ 300 IN TXT \"v=spf1 mx -all\"\n_dmarc 300 IN TXT \"v=DMARC1; p=reject\"\n"
    )
}

fn healthy_zen() -> String {
    format!(
        "{SOA}2.0.0.127 300 IN A 127.0.0.2\n{v6ok} 300 IN A 127.0.0.2\n\
         {one} 300 IN A 127.0.0.2\n{one} 300 IN TXT \"https://check.spamhaus.org/sbl/query/SBL1\"\n\
         {two} 300 IN A 127.0.0.10\n{six} 300 IN A 127.0.0.3\n",
        v6ok = rev("::ffff:7f00:2"),
        one = rev("127.0.31.1"),
        two = rev("127.0.31.2"),
        six = rev("fd00::31"),
    )
}

async fn audit(lab: &Lab, extra: &[&str]) -> Value {
    let mut args = vec!["--allow-private", "--no-smtp"];
    args.extend_from_slice(extra);
    let (_, doc) = audit_json_with(lab, &["dnsbl.test"], &args).await;
    doc["results"][0].clone()
}

#[tokio::test]
async fn listed_addresses_and_their_reasons() {
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .zone("dnsbl.test", &domain_zone())
        .zone("zen.spamhaus.org", &healthy_zen())
        .zone(
            "dnsbl-1.uceprotect.net",
            &format!(
                "{SOA}2.0.0.127 300 IN A 127.0.0.2\n{} 300 IN A 127.0.0.2\n",
                rev("127.0.31.2")
            ),
        )
        .zone(
            "dbl.spamhaus.org",
            &format!(
                "{SOA}dbltest.com 300 IN A 127.0.1.2\ndnsbl.test 300 IN A 127.0.1.2\n\
                 dnsbl.test 300 IN TXT \"https://check.spamhaus.org/dbl\"\n"
            ),
        )
        .start()
        .await
        .unwrap();
    let r = audit(&lab, &[]).await;
    let bl001 = messages(&r, "BL001");
    assert!(
        bl001.iter().any(
            |m| m.contains("127.0.31.1 is listed on Spamhaus ZEN (127.0.0.2, SBL")
                && m.contains("SBL1")
        ),
        "{bl001:?}"
    );
    assert!(
        bl001
            .iter()
            .any(|m| m.contains("fd00::31") && m.contains("CSS")),
        "an IPv6 address, asked as nibbles: {bl001:?}"
    );
    let bl002 = messages(&r, "BL002");
    assert_eq!(bl002.len(), 2, "{bl002:?}");
    assert!(bl002.iter().any(|m| m.contains("PBL")));
    assert!(bl002.iter().any(|m| m.contains("UCEPROTECT")));
    assert!(
        messages(&r, "BL003")[0]
            .contains("dnsbl.test is listed on Spamhaus DBL (127.0.1.2, spam domain)")
    );
    // Reputation listings weigh more than policy and wide-net ones.
    let severity = |code: &str| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap()["severity"]
            .clone()
    };
    assert_eq!(severity("BL001"), "error");
    assert_eq!(severity("BL002"), "warning");
    // Lists not served here fail their health check: noted, not trusted, not "clean".
    let bl004 = messages(&r, "BL004");
    assert!(
        bl004
            .iter()
            .any(|m| m.contains("SpamCop") && m.contains("not listed")),
        "{bl004:?}"
    );
    // Each test point and each question once.
    assert_eq!(lab.queries("2.0.0.127.zen.spamhaus.org", "A"), 1);
    assert_eq!(lab.queries("1.0.0.127.zen.spamhaus.org", "A"), 1);
    assert_eq!(
        lab.queries(&format!("{}.zen.spamhaus.org", rev("::ffff:7f00:2")), "A"),
        1
    );
    assert_eq!(
        lab.queries(&format!("{}.zen.spamhaus.org", rev("127.0.31.1")), "TXT"),
        1
    );
    assert_eq!(lab.queries("dbltest.com.dbl.spamhaus.org", "A"), 1);
    assert_eq!(lab.queries("invalid.dbl.spamhaus.org", "A"), 1);
    assert_eq!(
        lab.queries(&format!("{}.bl.spamcop.net", rev("fd00::31")), "A"),
        0,
        "IPv4-only list"
    );
    assert_eq!(r["score"]["categories"][3]["failed"], 4, "BL001-BL004");
}

#[tokio::test]
async fn unusable_lists_are_never_read_as_listings() {
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .zone("dnsbl.test", &domain_zone())
        // A public resolver's view of Spamhaus: 127.255.255.254 for everything.
        .zone(
            "zen.spamhaus.org",
            &format!("{SOA}* 300 IN A 127.255.255.254\n"),
        )
        // A resolver that rewrites NXDOMAIN into an advertising address.
        .zone(
            "psbl.surriel.com",
            &format!("{SOA}* 300 IN A 198.51.100.7\n"),
        )
        // A list that lists everything, even its never-listed test point.
        .zone("bl.spamcop.net", &format!("{SOA}* 300 IN A 127.0.0.2\n"))
        .start()
        .await
        .unwrap();
    let r = audit(&lab, &[]).await;
    assert!(
        !all_codes(&r).contains(&"BL001".to_owned()),
        "{:?}",
        all_codes(&r)
    );
    let bl004 = messages(&r, "BL004");
    assert!(
        bl004.iter().any(|m| m.contains("Spamhaus ZEN")
            && m.contains("public or open resolver")
            && m.contains("DQS")),
        "{bl004:?}"
    );
    assert!(
        bl004
            .iter()
            .any(|m| m.contains("PSBL") && m.contains("outside 127.0.0.0/8")),
        "{bl004:?}"
    );
    assert!(
        bl004
            .iter()
            .any(|m| m.contains("SpamCop") && m.contains("lists everything")),
        "{bl004:?}"
    );
    // Nothing usable: unknown, for a network reason, never exit code 3.
    assert_eq!(status(&r, "BL001"), "unknown");
    let (run, _) = audit_json_with(&lab, &["dnsbl.test"], &["--allow-private", "--no-smtp"]).await;
    assert_ne!(run.code, 3);
}

#[tokio::test]
async fn lists_added_on_the_command_line_are_asked_too() {
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .zone("dnsbl.test", &domain_zone())
        .zone(
            "bl.lab.test",
            &format!(
                "{SOA}2.0.0.127 300 IN A 127.0.0.2\n{} 300 IN A 127.0.0.2\n",
                rev("127.0.31.2")
            ),
        )
        .start()
        .await
        .unwrap();
    let r = audit(&lab, &["--no-blocklists", "--blocklist", "BL.lab.test."]).await;
    let lists = r["facts"]["dnsbl"]["lists"].as_array().unwrap();
    assert_eq!(lists.len(), 1, "only the list asked for");
    assert_eq!(lists[0]["zone"], "bl.lab.test");
    assert_eq!(
        messages(&r, "BL001"),
        ["127.0.31.2 is listed on bl.lab.test (127.0.0.2, listed)"]
    );
    let resolver = lab.addr().to_string();
    let run = mailcheck_with(
        &[
            "--resolver",
            &resolver,
            "--blocklist",
            "not a zone",
            "dnsbl.test",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--blocklist"), "{}", run.stderr);
}

#[tokio::test]
async fn a_dqs_key_switches_to_the_dqs_zones_and_stays_private() {
    let lab = Lab::builder()
        .zone_dir(&fixture_dir())
        .unwrap()
        .zone("dnsbl.test", &domain_zone())
        .zone(
            "zen.dq.spamhaus.net",
            &format!(
                "{SOA}{}.labkey 300 IN A 127.0.0.2\n2.0.0.127.labkey 300 IN A 127.0.0.2\n",
                rev("::ffff:7f00:2")
            ),
        )
        .start()
        .await
        .unwrap();
    let resolver = lab.addr().to_string();
    let run = mailcheck_with(
        &[
            "--resolver",
            &resolver,
            "--format",
            "json",
            "--allow-private",
            "--no-smtp",
            "dnsbl.test",
        ],
        &[("MAILCHECK_SPAMHAUS_DQS_KEY", "labkey")],
    )
    .await;
    // Asked (a retry after a slow answer on a loaded machine may ask twice).
    assert!(
        lab.queries(
            &format!("{}.labkey.zen.dq.spamhaus.net", rev("::ffff:7f00:2")),
            "A"
        ) >= 1
    );
    assert_eq!(
        lab.queries(&format!("{}.zen.spamhaus.org", rev("::ffff:7f00:2")), "A"),
        0
    );
    assert!(
        !run.stdout.contains("labkey"),
        "the key never reaches the report"
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let lists = doc["results"][0]["facts"]["dnsbl"]["lists"]
        .as_array()
        .unwrap();
    assert_eq!(lists[0]["zone"], "zen.spamhaus.org");
    assert_eq!(lists[0]["dqs"], true);
    let bad = mailcheck_with(
        &["--resolver", &resolver, "dnsbl.test"],
        &[("MAILCHECK_SPAMHAUS_DQS_KEY", "a.b")],
    )
    .await;
    assert_eq!(bad.code, 2);
}
