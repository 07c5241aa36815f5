//! The benchmark's domain set: provider-style records, built in memory so the critical path
//! and the distinct (address, MX name) pairs can be computed from the same data the lab serves.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// Mail providers, like the big hosted ones: each has 2–5 MX hosts and an SPF include tree.
pub const PROVIDERS: u8 = 10;

const SOA: &str =
    "@ 300 IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300\n@ 300 IN NS ns.lab.\n";

/// A 2048-bit RSA key, the same for every domain (its size is what the DKIM rules read).
const DKIM_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArKqe8sVpCuc0l6FOx6madz5xB2/2MoHyggPbXltLGo5S0Plg6prs8Ee0P3l/VcQ3XEyj1ctVlXWtCWsXxD6RWWGtEqRr1Z4EmdjTtGGeE4PgPdoFAU2hsqOw7cuwJcFS7bxGKh7vNs/CJ72uH0P/Ly4dA9p+tWlL7Ztyc8oi6qlrDpkprDjBPLMnMG9flEpLpJu6qP3C0qlcI+8B5v7cNYWWX0QIn9GqbCQ33Hy8KTQoA2WOCn+fgOB6lDUKQr6KPjH1Mqq8VwUFgaLePIYhwCSyK6ucU5bcZXqTiepyN+cmMaUPzmPXmufoRq6vyZXfB0sP9yYyINMjTLDtg9j6QIDAQAB";

/// Names and records of the whole set, as the zones hold them.
pub struct DomainSet {
    /// (name, type) → record data, for the critical-path walk.
    pub records: BTreeMap<(String, &'static str), Vec<String>>,
    /// Zone origin → zone text.
    pub zones: Vec<(String, String)>,
    pub domains: Vec<String>,
}

pub fn provider(p: u8) -> String {
    format!("p{p}.prov.bench")
}

/// The MX hosts of provider `p` with their addresses (127.0.80+p.k: one /24 per provider).
pub fn mx_hosts(p: u8) -> Vec<(String, Ipv4Addr)> {
    (1..=2 + p % 4)
        .map(|k| {
            (
                format!("mx{k}.{}", provider(p)),
                Ipv4Addr::new(127, 0, 80 + p, k),
            )
        })
        .collect()
}

fn provider_of(i: usize) -> u8 {
    // Skewed like real mail: most domains at the three biggest providers.
    let r = i * 7 % 20;
    u8::try_from(match r {
        0..=6 => 0,
        7..=11 => 1,
        12..=14 => 2,
        _ => r - 12,
    })
    .expect("small")
}

impl DomainSet {
    pub fn new(count: usize) -> Self {
        let mut set = Self {
            records: BTreeMap::new(),
            zones: Vec::new(),
            domains: Vec::new(),
        };
        let mut prov = String::from(SOA);
        let mut reverse = String::from(SOA);
        for p in 0..PROVIDERS {
            let base = provider(p);
            for (host, ip) in mx_hosts(p) {
                set.add(&mut prov, &host, "A", &ip.to_string());
                set.add(&mut prov, &host, "TXT", "v=spf1 a -all");
                let o = ip.octets();
                set.add(
                    &mut reverse,
                    &format!("{}.{}.{}.127.in-addr.arpa", o[3], o[2], o[1]),
                    "PTR",
                    &format!("{host}."),
                );
            }
            // Include trees: two levels (like Google's), one level, or flat with an `a:`.
            let spf = match p % 3 {
                0 => {
                    set.add(
                        &mut prov,
                        &format!("_nb1.{base}"),
                        "TXT",
                        &format!("v=spf1 ip4:198.51.{p}.0/24 include:_nb1a.{base} ~all"),
                    );
                    set.add(
                        &mut prov,
                        &format!("_nb1a.{base}"),
                        "TXT",
                        &format!("v=spf1 ip4:203.0.{p}.0/24 ip6:2001:db8:{p}::/48 ~all"),
                    );
                    set.add(
                        &mut prov,
                        &format!("_nb2.{base}"),
                        "TXT",
                        &format!("v=spf1 ip4:192.0.{p}.0/24 ~all"),
                    );
                    format!("v=spf1 include:_nb1.{base} include:_nb2.{base} ~all")
                }
                1 => {
                    set.add(
                        &mut prov,
                        &format!("_nb1.{base}"),
                        "TXT",
                        &format!("v=spf1 ip4:198.51.{p}.0/24 -all"),
                    );
                    format!("v=spf1 include:_nb1.{base} ip4:203.0.{p}.0/24 -all")
                }
                _ => format!("v=spf1 ip4:198.51.{p}.0/24 a:mx1.{base} -all"),
            };
            set.add(&mut prov, &format!("_spf.{base}"), "TXT", &spf);
            set.add(
                &mut prov,
                &format!("*._report._dmarc.{base}"),
                "TXT",
                "v=DMARC1",
            );
        }
        // Each domain is a zone of its own, as on the Internet (and a lab zone of 10,000 domains
        // would make hickory-server's NXDOMAIN answers slow, not mailcheck).
        let mut zones = Vec::new();
        for i in 0..count {
            let p = provider_of(i);
            let base = provider(p);
            let d = format!("d{i}.dom.bench");
            let mut dom = String::from(SOA);
            for (n, (host, _)) in mx_hosts(p).iter().enumerate() {
                set.add(&mut dom, &d, "MX", &format!("{} {host}.", 10 * (n + 1)));
            }
            set.add(
                &mut dom,
                &d,
                "TXT",
                &format!("v=spf1 include:_spf.{base} -all"),
            );
            set.add(
                &mut dom,
                &format!("_dmarc.{d}"),
                "TXT",
                &format!("v=DMARC1; p=reject; rua=mailto:agg@{base}"),
            );
            set.add(
                &mut dom,
                &format!("selector1._domainkey.{d}"),
                "TXT",
                &format!("v=DKIM1; k=rsa; p={DKIM_KEY}"),
            );
            set.add(
                &mut dom,
                &format!("_mta-sts.{d}"),
                "TXT",
                "v=STSv1; id=20240101",
            );
            set.add(
                &mut dom,
                &format!("_smtp._tls.{d}"),
                "TXT",
                &format!("v=TLSRPTv1; rua=mailto:tlsrpt@{base}"),
            );
            zones.push((d.clone(), dom));
            set.domains.push(d);
        }
        zones.push(("prov.bench".into(), prov));
        zones.push(("127.in-addr.arpa".into(), reverse));
        set.zones = zones;
        set
    }

    fn add(&mut self, zone: &mut String, name: &str, rtype: &'static str, data: &str) {
        let shown = if rtype == "TXT" {
            // One line, strings of at most 255 bytes (the lab's zone parser wants both).
            data.as_bytes()
                .chunks(255)
                .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            data.to_owned()
        };
        let _ = writeln!(zone, "{name}. 300 IN {rtype} {shown}");
        self.records
            .entry((name.to_owned(), rtype))
            .or_default()
            .push(data.to_owned());
    }

    fn get(&self, name: &str, rtype: &'static str) -> &[String] {
        self.records
            .get(&(name.to_owned(), rtype))
            .map_or(&[], Vec::as_slice)
    }

    /// Round trips an SPF check of `name` needs one after the other: its TXT, then the deepest
    /// of its includes and redirect (each a walk of its own), `a:` (one lookup) and `mx:` (two).
    fn spf_depth(&self, name: &str) -> u32 {
        let deepest = self
            .get(name, "TXT")
            .iter()
            .filter(|t| t.starts_with("v=spf1"))
            .flat_map(|t| t.split_whitespace())
            .map(|term| {
                let term = term.trim_start_matches(['+', '-', '~', '?']);
                if let Some(target) = term
                    .strip_prefix("include:")
                    .or_else(|| term.strip_prefix("redirect="))
                {
                    self.spf_depth(target)
                } else if term.starts_with("a:") || term == "a" {
                    1
                } else if term.starts_with("mx:") || term == "mx" {
                    2
                } else {
                    0
                }
            })
            .max()
            .unwrap_or(0);
        1 + deepest
    }

    /// The critical path of one audit of `domain`, in round trips: the longest chain of
    /// lookups each of which needs the answer of the one before.
    ///
    /// - MX, then each host's A/AAAA, then per address the PTR and the A of its name
    ///   (forward-confirmed reverse DNS), or a blocklist lookup (one);
    /// - MX, then each host's own SPF walk (the HELO identity);
    /// - the domain's SPF walk;
    /// - DMARC, then the external report authorisation (RFC 7489 §7.1);
    /// - a DKIM selector or BIMI record, then its CNAME when the TXT is absent (two);
    /// - everything else (MTA-STS, TLS-RPT, type 99, NS) one round trip.
    pub fn critical_path(&self, domain: &str) -> u32 {
        let hosts: Vec<String> = self
            .get(domain, "MX")
            .iter()
            .filter_map(|m| m.split_whitespace().nth(1))
            .map(|h| h.trim_end_matches('.').to_owned())
            .collect();
        let mx = hosts
            .iter()
            .map(|h| {
                let addresses = self.get(h, "A");
                let after_a = addresses
                    .iter()
                    .map(|ip| {
                        let o: Vec<&str> = ip.split('.').collect();
                        let rev = format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]);
                        // PTR, then the A of its name; a blocklist answer is one.
                        if self.get(&rev, "PTR").is_empty() {
                            1
                        } else {
                            2
                        }
                    })
                    .max()
                    .unwrap_or(0);
                (1 + after_a).max(self.spf_depth(h))
            })
            .max()
            .unwrap_or(0);
        let mx = 1 + mx;
        let spf = self.spf_depth(domain);
        let dmarc_name = format!("_dmarc.{domain}");
        let dmarc = 1 + u32::from(self.get(&dmarc_name, "TXT").iter().any(|t| {
            t.split(';')
                .filter_map(|tag| tag.trim().strip_prefix("rua="))
                .flat_map(|v| v.split(','))
                .filter_map(|u| u.trim().strip_prefix("mailto:"))
                .filter_map(|m| m.rsplit_once('@').map(|(_, host)| host.to_owned()))
                .any(|host| host != domain && !host.ends_with(&format!(".{domain}")))
        }));
        mx.max(spf).max(dmarc).max(2)
    }

    /// Distinct (address, MX name) pairs the first `n` domains' MX sets name: the SMTP
    /// connections a run that shares its probes makes.
    pub fn smtp_pairs(&self, n: usize) -> usize {
        let mut pairs = BTreeSet::new();
        for d in &self.domains[..n] {
            for m in self.get(d, "MX") {
                if let Some(host) = m.split_whitespace().nth(1) {
                    let host = host.trim_end_matches('.');
                    for ip in self.get(host, "A") {
                        pairs.insert((ip.clone(), host.to_owned()));
                    }
                }
            }
        }
        pairs.len()
    }
}
