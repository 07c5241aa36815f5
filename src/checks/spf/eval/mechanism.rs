//! Matching one mechanism (RFC 7208 §5), with the lookup and void-lookup accounting it needs.

use std::net::IpAddr;

use super::{Abort, Evaluator, NAME_LIMIT, SpfResult, Step, VOID_LIMIT, checked};
use crate::checks::spf::parse::Mechanism;
use crate::dns::Lookup;

impl Evaluator<'_> {
    /// `Ok(Some(step))` when the mechanism matches (for an include, the step of the record that
    /// matched, with its path), `Ok(None)` when it does not.
    pub(super) async fn mechanism(
        &mut self,
        domain: &str,
        m: &Mechanism,
        path: &[String],
    ) -> Result<Option<Step>, Abort> {
        let hit = match m {
            Mechanism::All => true,
            Mechanism::Include { domain: spec } => {
                let target = self.expand(spec, domain).await;
                let step = self.check(target.clone(), path.to_vec(), true).await;
                return match step.result {
                    SpfResult::Pass => Ok(Some(step)),
                    SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => Ok(None),
                    SpfResult::TempError => Err(Abort(SpfResult::TempError, step.reason)),
                    SpfResult::PermError => Err(Abort(SpfResult::PermError, step.reason)),
                    SpfResult::None => Err(Abort(
                        SpfResult::PermError,
                        format!("include:{target} has no SPF record"),
                    )),
                };
            }
            Mechanism::A {
                domain: spec,
                v4,
                v6,
            } => {
                let target = self.target(spec.as_ref(), domain).await?;
                let addrs = self.addresses(&target, true).await?;
                addrs.iter().any(|a| in_prefix(self.ip, *a, *v4, *v6))
            }
            Mechanism::Mx {
                domain: spec,
                v4,
                v6,
            } => {
                let target = self.target(spec.as_ref(), domain).await?;
                self.mx_matches(&target, *v4, *v6).await?
            }
            Mechanism::Ptr { domain: spec } => {
                let target = self.target(spec.as_ref(), domain).await?;
                let names = self.validated_names().await?;
                names
                    .iter()
                    .any(|n| n == &target || n.ends_with(&format!(".{target}")))
            }
            Mechanism::Ip4 { addr, prefix } => match self.ip {
                IpAddr::V4(ip) => prefix_match(
                    u128::from(u32::from(ip)) << 96,
                    u128::from(u32::from(*addr)) << 96,
                    *prefix,
                ),
                IpAddr::V6(_) => false,
            },
            Mechanism::Ip6 { addr, prefix } => match self.ip {
                IpAddr::V6(ip) => prefix_match(u128::from(ip), u128::from(*addr), *prefix),
                IpAddr::V4(_) => false,
            },
            Mechanism::Exists { domain: spec } => {
                let target = checked(self.expand(spec, domain).await)?;
                match self.dns.a(&target).await {
                    Lookup::Found { .. } => true,
                    Lookup::NxDomain | Lookup::NoData => {
                        self.void(&format!("exists:{target}"))?;
                        false
                    }
                    Lookup::Failed(e) => {
                        return Err(Abort(
                            SpfResult::TempError,
                            format!("the A lookup of {target} {e}"),
                        ));
                    }
                }
            }
        };
        if hit {
            Ok(Some(Step::end(
                SpfResult::Pass,
                path.to_vec(),
                String::new(),
            )))
        } else {
            Ok(None)
        }
    }

    /// `mx`: at most ten MX names, each looked up for the client's address family (§5.4).
    async fn mx_matches(
        &mut self,
        target: &str,
        v4: Option<u8>,
        v6: Option<u8>,
    ) -> Result<bool, Abort> {
        let mx = match self.dns.mx(target).await {
            Lookup::Found { records, .. } => records,
            Lookup::NxDomain | Lookup::NoData => {
                self.void(&format!("mx:{target}"))?;
                Vec::new()
            }
            Lookup::Failed(e) => {
                return Err(Abort(
                    SpfResult::TempError,
                    format!("the MX lookup of {target} {e}"),
                ));
            }
        };
        if mx.len() > NAME_LIMIT {
            return Err(Abort(
                SpfResult::PermError,
                format!(
                    "mx:{target} has {} MX records; at most {NAME_LIMIT} may be looked at",
                    mx.len()
                ),
            ));
        }
        let mut hit = false;
        for host in mx.iter().filter(|m| m.exchange != ".") {
            let addrs = self.addresses(&host.exchange, false).await?;
            if addrs.iter().any(|a| in_prefix(self.ip, *a, v4, v6)) {
                hit = true;
                break;
            }
        }
        Ok(hit)
    }

    fn void(&mut self, what: &str) -> Result<(), Abort> {
        self.voids += 1;
        if self.voids > VOID_LIMIT {
            return Err(Abort(
                SpfResult::PermError,
                format!(
                    "{what} is void lookup {} of at most {VOID_LIMIT}",
                    self.voids
                ),
            ));
        }
        Ok(())
    }

    /// A or AAAA of a name, as the client's address family needs; a void counts when `count`.
    async fn addresses(&mut self, name: &str, count: bool) -> Result<Vec<IpAddr>, Abort> {
        let lookup = match self.ip {
            IpAddr::V4(_) => map(self.dns.a(name).await, IpAddr::V4),
            IpAddr::V6(_) => map(self.dns.aaaa(name).await, IpAddr::V6),
        };
        match lookup {
            Lookup::Found { records, .. } => Ok(records),
            Lookup::NxDomain | Lookup::NoData => {
                if count {
                    self.void(&format!("a:{name}"))?;
                }
                Ok(Vec::new())
            }
            Lookup::Failed(e) => Err(Abort(
                SpfResult::TempError,
                format!("the address lookup of {name} {e}"),
            )),
        }
    }

    /// The client's PTR names that resolve back to it (§5.5), at most ten considered.
    pub(super) async fn validated_names(&mut self) -> Result<Vec<String>, Abort> {
        let names = match self.dns.ptr(self.ip).await {
            Lookup::Found { records, .. } => records,
            Lookup::NxDomain | Lookup::NoData => {
                self.void("ptr")?;
                return Ok(Vec::new());
            }
            Lookup::Failed(_) => return Ok(Vec::new()),
        };
        let mut valid = Vec::new();
        for name in names.into_iter().take(NAME_LIMIT) {
            if let Ok(addrs) = self.addresses(&name, false).await
                && addrs.contains(&self.ip)
            {
                valid.push(name.to_ascii_lowercase());
            }
        }
        Ok(valid)
    }
}

fn map<T>(lookup: Lookup<Vec<T>>, f: impl Fn(T) -> IpAddr) -> Lookup<Vec<IpAddr>> {
    match lookup {
        Lookup::Found { records, cnames } => Lookup::Found {
            records: records.into_iter().map(f).collect(),
            cnames,
        },
        Lookup::NxDomain => Lookup::NxDomain,
        Lookup::NoData => Lookup::NoData,
        Lookup::Failed(e) => Lookup::Failed(e),
    }
}

fn in_prefix(ip: IpAddr, addr: IpAddr, v4: Option<u8>, v6: Option<u8>) -> bool {
    match (ip, addr) {
        (IpAddr::V4(ip), IpAddr::V4(addr)) => prefix_match(
            u128::from(u32::from(ip)) << 96,
            u128::from(u32::from(addr)) << 96,
            v4.unwrap_or(32),
        ),
        (IpAddr::V6(ip), IpAddr::V6(addr)) => {
            prefix_match(u128::from(ip), u128::from(addr), v6.unwrap_or(128))
        }
        _ => false,
    }
}

/// Whether the top `prefix` bits of two left-aligned 128-bit values agree.
fn prefix_match(a: u128, b: u128, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(prefix.min(128)));
    a & mask == b & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_by_leading_bits() {
        let v4 = |s: &str| u128::from(u32::from(s.parse::<std::net::Ipv4Addr>().unwrap())) << 96;
        assert!(prefix_match(v4("192.0.2.77"), v4("192.0.2.0"), 24));
        assert!(!prefix_match(v4("192.0.3.1"), v4("192.0.2.0"), 24));
        assert!(prefix_match(v4("10.0.0.1"), v4("192.0.2.0"), 0));
        assert!(prefix_match(v4("192.0.2.1"), v4("192.0.2.1"), 32));
        assert!(!prefix_match(v4("192.0.2.2"), v4("192.0.2.1"), 32));
    }
}
