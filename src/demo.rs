//! `mailcheck demo`: real reports with no network. The test lab's DNS server starts in-process
//! on loopback, serving a few example zones compiled into the binary (`cargo install` ships no
//! `fixtures/`), and the usual audit runs against it.
//!
//! One domain is exemplary and the others are broken in instructive ways. The lab's MX hosts are
//! loopback addresses where no SMTP server listens, so the demo audits DNS only: the SMTP/TLS
//! and blocklist checks are `not-run`, and say so.

use crate::lab::{Lab, LabError};

/// The example domains, audited in this order.
pub const DOMAINS: &[&str] = &[
    "good.test",
    "broken.test",
    "nodmarc.test",
    "spfplusall.test",
    "nullmx.test",
];

/// The zones served: the example domains', and the reverse zone of good.test's IPv6 address.
pub const ZONES: &[(&str, &str)] = &[
    // Exemplary: two MX hosts, strict SPF, DMARC p=reject with reports.
    (
        "good.test",
        include_str!("../fixtures/zones/good.test.zone"),
    ),
    // Two SPF records, an MX host that does not exist, DMARC p=none.
    (
        "broken.test",
        include_str!("../fixtures/zones/broken.test.zone"),
    ),
    // No DMARC record (one misplaced at the apex instead).
    (
        "nodmarc.test",
        include_str!("../fixtures/zones/nodmarc.test.zone"),
    ),
    // An include that ends in +all: anyone may send as the domain.
    (
        "spfplusall.test",
        include_str!("../fixtures/zones/spfplusall.test.zone"),
    ),
    // Receives no mail, and says so (null MX, SPF -all).
    (
        "nullmx.test",
        include_str!("../fixtures/zones/nullmx.test.zone"),
    ),
    (
        "0.0.d.f.ip6.arpa",
        include_str!("../fixtures/zones/0.0.d.f.ip6.arpa.zone"),
    ),
];

/// Starts the demo lab on an ephemeral loopback port.
pub async fn start() -> Result<Lab, LabError> {
    ZONES
        .iter()
        .fold(Lab::builder(), |b, (origin, text)| b.zone(origin, text))
        .start()
        .await
}
