//! The default blocklists, as data: each list's zone, what it holds, its answer codes and their
//! meanings, and its RFC 5782 §5 test points. Chosen for current relevance; SORBS closed in
//! 2024 and is not here. To add a list, add an entry; nothing else changes.

use super::{ListKind, ListSpec, Meaning, Weight};

const SPAMHAUS_ERRORS: [([u8; 4], Meaning); 3] = [
    (
        [127, 255, 255, 252],
        Meaning::Unusable("the query name has a typo (Spamhaus 127.255.255.252)"),
    ),
    (
        [127, 255, 255, 254],
        Meaning::Unusable(
            "the query came through a public or open resolver, which Spamhaus does not answer \
             (127.255.255.254)",
        ),
    ),
    (
        [127, 255, 255, 255],
        Meaning::Unusable("too many queries from this resolver (Spamhaus 127.255.255.255)"),
    ),
];

pub(super) const V4_LISTED: &str = "2.0.0.127";
pub(super) const V4_UNLISTED: &str = "1.0.0.127";

/// The default lists.
pub static LISTS: &[ListSpec<'static>] = &[
    ListSpec {
        name: "Spamhaus ZEN",
        zone: "zen.spamhaus.org",
        dqs: Some("zen.dq.spamhaus.net"),
        kind: ListKind::Ip,
        ipv6: true,
        codes: &[
            (
                [127, 0, 0, 2],
                Meaning::Listed("SBL: a known spam source", Weight::Reputation),
            ),
            (
                [127, 0, 0, 3],
                Meaning::Listed("CSS: snowshoe spam", Weight::Reputation),
            ),
            (
                [127, 0, 0, 4],
                Meaning::Listed("XBL: infected or exploited host", Weight::Reputation),
            ),
            (
                [127, 0, 0, 5],
                Meaning::Listed("XBL: infected or exploited host", Weight::Reputation),
            ),
            (
                [127, 0, 0, 6],
                Meaning::Listed("XBL: infected or exploited host", Weight::Reputation),
            ),
            (
                [127, 0, 0, 7],
                Meaning::Listed("XBL: infected or exploited host", Weight::Reputation),
            ),
            (
                [127, 0, 0, 9],
                Meaning::Listed("DROP: hijacked or criminal network", Weight::Reputation),
            ),
            (
                [127, 0, 0, 10],
                Meaning::Listed("PBL (ISP): end-user range", Weight::Policy),
            ),
            (
                [127, 0, 0, 11],
                Meaning::Listed("PBL (Spamhaus): end-user range", Weight::Policy),
            ),
            SPAMHAUS_ERRORS[0],
            SPAMHAUS_ERRORS[1],
            SPAMHAUS_ERRORS[2],
        ],
        weight: Weight::Reputation,
        test_listed: V4_LISTED,
        test_unlisted: V4_UNLISTED,
    },
    ListSpec {
        name: "SpamCop",
        zone: "bl.spamcop.net",
        dqs: None,
        kind: ListKind::Ip,
        ipv6: false,
        codes: &[(
            [127, 0, 0, 2],
            Meaning::Listed("reported by SpamCop users", Weight::Reputation),
        )],
        weight: Weight::Reputation,
        test_listed: V4_LISTED,
        test_unlisted: V4_UNLISTED,
    },
    ListSpec {
        name: "Barracuda",
        zone: "b.barracudacentral.org",
        dqs: None,
        kind: ListKind::Ip,
        ipv6: false,
        codes: &[(
            [127, 0, 0, 2],
            Meaning::Listed("poor reputation at Barracuda", Weight::Reputation),
        )],
        weight: Weight::Reputation,
        test_listed: V4_LISTED,
        test_unlisted: V4_UNLISTED,
    },
    ListSpec {
        name: "PSBL",
        zone: "psbl.surriel.com",
        dqs: None,
        kind: ListKind::Ip,
        ipv6: false,
        codes: &[(
            [127, 0, 0, 2],
            Meaning::Listed("sent mail to spam traps", Weight::Reputation),
        )],
        weight: Weight::Reputation,
        test_listed: V4_LISTED,
        test_unlisted: V4_UNLISTED,
    },
    ListSpec {
        name: "UCEPROTECT level 1",
        zone: "dnsbl-1.uceprotect.net",
        dqs: None,
        kind: ListKind::Ip,
        ipv6: false,
        codes: &[(
            [127, 0, 0, 2],
            Meaning::Listed("hit UCEPROTECT spam traps", Weight::WideNet),
        )],
        weight: Weight::WideNet,
        test_listed: V4_LISTED,
        test_unlisted: V4_UNLISTED,
    },
    ListSpec {
        name: "Mailspike",
        zone: "bl.mailspike.net",
        dqs: None,
        kind: ListKind::Ip,
        ipv6: false,
        codes: &[
            (
                [127, 0, 0, 2],
                Meaning::Listed("Mailspike blocklist", Weight::Reputation),
            ),
            (
                [127, 0, 0, 10],
                Meaning::Listed("worst reputation", Weight::Reputation),
            ),
            (
                [127, 0, 0, 11],
                Meaning::Listed("very bad reputation", Weight::Reputation),
            ),
            (
                [127, 0, 0, 12],
                Meaning::Listed("bad reputation", Weight::Reputation),
            ),
            (
                [127, 0, 0, 13],
                Meaning::Listed("suspicious reputation", Weight::Reputation),
            ),
            (
                [127, 0, 0, 14],
                Meaning::Listed("neutral, slightly bad", Weight::Reputation),
            ),
        ],
        weight: Weight::Reputation,
        test_listed: V4_LISTED,
        test_unlisted: V4_UNLISTED,
    },
    ListSpec {
        name: "Spamhaus DBL",
        zone: "dbl.spamhaus.org",
        dqs: Some("dbl.dq.spamhaus.net"),
        kind: ListKind::Domain,
        ipv6: false,
        codes: &[
            (
                [127, 0, 1, 2],
                Meaning::Listed("spam domain", Weight::Reputation),
            ),
            (
                [127, 0, 1, 4],
                Meaning::Listed("phishing domain", Weight::Reputation),
            ),
            (
                [127, 0, 1, 5],
                Meaning::Listed("malware domain", Weight::Reputation),
            ),
            (
                [127, 0, 1, 6],
                Meaning::Listed("botnet C&C domain", Weight::Reputation),
            ),
            (
                [127, 0, 1, 102],
                Meaning::Listed("abused legitimate spam domain", Weight::Reputation),
            ),
            (
                [127, 0, 1, 103],
                Meaning::Listed("abused spammed redirector", Weight::Reputation),
            ),
            (
                [127, 0, 1, 104],
                Meaning::Listed("abused legitimate phishing domain", Weight::Reputation),
            ),
            (
                [127, 0, 1, 105],
                Meaning::Listed("abused legitimate malware domain", Weight::Reputation),
            ),
            (
                [127, 0, 1, 106],
                Meaning::Listed("abused legitimate botnet C&C", Weight::Reputation),
            ),
            (
                [127, 0, 1, 255],
                Meaning::Unusable("an IP address was asked of a domain list (DBL 127.0.1.255)"),
            ),
            SPAMHAUS_ERRORS[0],
            SPAMHAUS_ERRORS[1],
            SPAMHAUS_ERRORS[2],
        ],
        weight: Weight::Reputation,
        test_listed: "dbltest.com",
        test_unlisted: "invalid",
    },
];
