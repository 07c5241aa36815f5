//! Where mailcheck may connect: the address policy every probe goes through.
//!
//! mailcheck connects only to addresses its own resolver returned, and only after
//! [`Policy::permits`] says yes. A hostile zone can point an MX at anything: the cloud metadata
//! service at 169.254.169.254, a router's link-local address, an internal host. Those are
//! refused here, in every spelling an IPv6 address can give them (IPv4-mapped `::ffff:a.b.c.d`,
//! NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`), so the check cannot be dodged by
//! writing the same address another way. Loopback and private ranges are allowed only with
//! `--allow-private` (the test lab lives there).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// What kind of address an IP is, for deciding whether to connect (RFC 6890 registries).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum AddressClass {
    /// Globally routable unicast.
    Public,
    /// 127.0.0.0/8, `::1`.
    Loopback,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 unique local (`fc00::/7`).
    Private,
    /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
    Cgnat,
    /// 169.254.0.0/16 and `fe80::/10`.
    LinkLocal,
    /// A cloud instance-metadata service (169.254.169.254, `fd00:ec2::254`).
    Metadata,
    /// 224.0.0.0/4, `ff00::/8`.
    Multicast,
    /// 0.0.0.0, `::`.
    Unspecified,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, `2001:db8::/32`, `3fff::/20` (RFC 5737, 3849, 9637).
    Documentation,
    /// Everything else that is not routable: 0/8, 240/4, broadcast, benchmarking, protocol
    /// assignments, IPv6 outside `2000::/3`, Teredo, deprecated site-local.
    Reserved,
}

impl AddressClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::Cgnat => "carrier-grade NAT",
            Self::LinkLocal => "link-local",
            Self::Metadata => "cloud metadata service",
            Self::Multicast => "multicast",
            Self::Unspecified => "unspecified",
            Self::Documentation => "documentation (example) range",
            Self::Reserved => "reserved",
        }
    }

    /// Whether senders on the Internet can reach such an address at all.
    pub fn is_routable(self) -> bool {
        self == Self::Public
    }
}

impl std::fmt::Display for AddressClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The IPv4 address an IPv6 address stands for, if it is an IPv4-mapped (`::ffff:0:0/96`),
/// NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`) or 6to4 (`2002::/16`) form.
pub fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            (s[1] & 0xff) as u8,
            (s[2] >> 8) as u8,
            (s[2] & 0xff) as u8,
        ));
    }
    None
}

/// Classifies an address, looking through the IPv6 forms of IPv4 addresses.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            // A translated or tunnelled public address is as reachable as any IPv6 one.
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    use AddressClass as C;
    const TABLE: &[([u8; 4], u32, AddressClass)] = &[
        ([0, 0, 0, 0], 32, C::Unspecified),
        ([169, 254, 169, 254], 32, C::Metadata),
        ([255, 255, 255, 255], 32, C::Reserved),
        ([0, 0, 0, 0], 8, C::Reserved),
        ([10, 0, 0, 0], 8, C::Private),
        ([100, 64, 0, 0], 10, C::Cgnat),
        ([127, 0, 0, 0], 8, C::Loopback),
        ([169, 254, 0, 0], 16, C::LinkLocal),
        ([172, 16, 0, 0], 12, C::Private),
        ([192, 0, 0, 0], 24, C::Reserved),
        ([192, 0, 2, 0], 24, C::Documentation),
        ([192, 88, 99, 0], 24, C::Reserved),
        ([192, 168, 0, 0], 16, C::Private),
        ([198, 18, 0, 0], 15, C::Reserved),
        ([198, 51, 100, 0], 24, C::Documentation),
        ([203, 0, 113, 0], 24, C::Documentation),
        ([224, 0, 0, 0], 4, C::Multicast),
        ([240, 0, 0, 0], 4, C::Reserved),
    ];
    TABLE
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map_or(C::Public, |(_, _, class)| *class)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    use AddressClass as C;
    const TABLE: &[([u16; 8], u32, AddressClass)] = &[
        ([0; 8], 128, C::Unspecified),
        ([0, 0, 0, 0, 0, 0, 0, 1], 128, C::Loopback),
        ([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128, C::Metadata),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, C::LinkLocal),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, C::Reserved),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, C::Private),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, C::Multicast),
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, C::Documentation),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, C::Documentation),
        // IETF protocol assignments, Teredo, benchmarking, ORCHID.
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, C::Reserved),
        ([0x2000, 0, 0, 0, 0, 0, 0, 0], 3, C::Public),
    ];
    TABLE
        .iter()
        .find(|(net, bits, _)| in_v6(ip, *net, *bits))
        .map_or(C::Reserved, |(_, _, class)| *class)
}

/// Which addresses probes may connect to.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Policy {
    /// Loopback and private addresses too (`--allow-private`): for labs and internal audits.
    pub allow_private: bool,
}

impl Policy {
    /// `Ok` when a connection to `ip` is allowed, otherwise the class that forbids it.
    pub fn permits(self, ip: IpAddr) -> Result<(), AddressClass> {
        match classify(ip) {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback | AddressClass::Private if self.allow_private => Ok(()),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> AddressClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        use AddressClass as C;
        for (ip, want) in [
            ("8.8.8.8", C::Public),
            ("192.0.3.1", C::Public),
            ("0.0.0.0", C::Unspecified),
            ("0.1.2.3", C::Reserved),
            ("127.0.0.1", C::Loopback),
            ("127.45.6.7", C::Loopback),
            ("10.1.2.3", C::Private),
            ("172.31.255.255", C::Private),
            ("172.32.0.1", C::Public),
            ("192.168.1.1", C::Private),
            ("100.64.0.1", C::Cgnat),
            ("100.127.255.255", C::Cgnat),
            ("100.128.0.1", C::Public),
            ("169.254.1.1", C::LinkLocal),
            ("169.254.169.254", C::Metadata),
            ("224.0.0.1", C::Multicast),
            ("239.255.255.255", C::Multicast),
            ("240.0.0.1", C::Reserved),
            ("255.255.255.255", C::Reserved),
            ("192.0.2.10", C::Documentation),
            ("198.51.100.1", C::Documentation),
            ("203.0.113.9", C::Documentation),
            ("198.18.0.1", C::Reserved),
            ("192.0.0.8", C::Reserved),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        use AddressClass as C;
        for (ip, want) in [
            ("2a00:1450:4001::1", C::Public),
            ("::", C::Unspecified),
            ("::1", C::Loopback),
            ("fe80::1", C::LinkLocal),
            ("fd00::10", C::Private),
            ("fc00::1", C::Private),
            ("fd00:ec2::254", C::Metadata),
            ("ff02::1", C::Multicast),
            ("2001:db8::10", C::Documentation),
            ("3fff::1", C::Documentation),
            ("2001::1", C::Reserved),
            ("fec0::1", C::Reserved),
            ("100::1", C::Reserved),
            ("4000::1", C::Reserved),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_seen_through() {
        use AddressClass as C;
        for (ip, want) in [
            ("::ffff:169.254.169.254", C::Metadata),
            ("::ffff:127.0.0.1", C::Loopback),
            ("::ffff:8.8.8.8", C::Public),
            ("64:ff9b::169.254.169.254", C::Metadata),
            ("64:ff9b::a9fe:a9fe", C::Metadata),
            ("64:ff9b::10.0.0.1", C::Private),
            ("64:ff9b:1::a9fe:101", C::LinkLocal),
            ("64:ff9b::8.8.8.8", C::Public),
            ("2002:a9fe:a9fe::1", C::Metadata),
            ("2002:c0a8:101::", C::Private),
            ("2002:6440:1::1", C::Cgnat),
            ("2002:e000:1::", C::Multicast),
            ("2002:0:0::1", C::Unspecified),
            ("2002:808:808::1", C::Public),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn policy_allows_private_and_loopback_only_when_asked() {
        let strict = Policy::default();
        let lab = Policy {
            allow_private: true,
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(strict.permits(ip("8.8.8.8")), Ok(()));
        assert_eq!(strict.permits(ip("127.0.0.1")), Err(AddressClass::Loopback));
        assert_eq!(strict.permits(ip("10.0.0.1")), Err(AddressClass::Private));
        assert_eq!(lab.permits(ip("127.0.0.1")), Ok(()));
        assert_eq!(lab.permits(ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(lab.permits(ip("fd00::1")), Ok(()));
        for never in [
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::",
            "169.254.10.10",
            "fe80::1",
            "100.64.1.1",
            "224.0.0.5",
            "0.0.0.0",
            "::",
            "240.1.1.1",
            "192.0.2.1",
            "fd00:ec2::254",
        ] {
            assert!(lab.permits(ip(never)).is_err(), "{never}");
            assert!(strict.permits(ip(never)).is_err(), "{never}");
        }
    }
}
