//! Zone assembly: parse the zone texts, add the records built in code, delegate every zone
//! from its parent and sign (children first, so each parent signs the DS it holds).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use hickory_server::dnssec::NxProofKind;
use hickory_server::proto::dnssec::rdata::DNSSECRData;
use hickory_server::proto::rr::rdata::NS;
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordSet, RecordType, RrKey};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};

use super::dnssec::{Signing, ZoneKey, sign_zone};
use super::{LabError, key};

/// The served zones.
pub(super) struct Zones {
    pub(super) catalog: Catalog,
    /// For a DS question at a zone's own origin: a catalog holding only the parent zone, where
    /// the DS lives (hickory's catalog would pick the child).
    pub(super) parents: HashMap<LowerName, Catalog>,
    /// The root zone's key, as a trust-anchor line.
    pub(super) anchor: String,
    /// Every zone's origin, with its NSEC chain when it is signed.
    pub(super) chains: Vec<(Name, Option<Arc<Chain>>)>,
}

/// A signed zone's NSEC records: owner, next name, and the NSEC with its RRSIG.
pub(super) type Chain = Vec<(Name, Name, Vec<Record>)>;

/// The NSEC records of a signed zone, read back after signing.
fn chain(zone: &mut InMemoryZoneHandler) -> Chain {
    zone.records_get_mut()
        .values()
        .filter(|set| set.record_type() == RecordType::NSEC)
        .filter_map(|set| {
            let next = set.records_without_rrsigs().find_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::NSEC(nsec)) => Some(nsec.next_domain_name().clone()),
                _ => None,
            })?;
            Some((
                set.name().clone(),
                next,
                set.records_with_rrsigs().cloned().collect(),
            ))
        })
        .collect()
}

/// The name server every delegation names; the lab answers for all zones itself.
const LAB_NS: &str = "ns.lab.";

fn origin_name(origin: &str) -> Result<Name, LabError> {
    if origin == "root" || origin == "." {
        return Ok(Name::root());
    }
    Name::from_ascii(format!("{}.", key(origin))).map_err(|e| LabError::Zone {
        origin: origin.to_owned(),
        message: e.to_string(),
    })
}

pub(super) fn assemble(
    zones: Vec<(String, String, Option<PathBuf>)>,
    extra: Vec<Record>,
    signing: &[(String, Signing)],
) -> Result<Zones, LabError> {
    let mode_of = |name: &Name| -> Option<Signing> {
        if name.is_root() {
            return Some(Signing::Valid);
        }
        let k = key(&name.to_ascii());
        // The last directive or builder call for a zone wins.
        signing.iter().rev().find(|(o, _)| *o == k).map(|(_, m)| *m)
    };
    let mut handlers: Vec<(Name, InMemoryZoneHandler, Option<Signing>)> = Vec::new();
    for (origin, text, path) in zones {
        let zone_err = |message: String| LabError::Zone {
            origin: origin.clone(),
            message,
        };
        let (name, records): (Name, BTreeMap<RrKey, RecordSet>) =
            Parser::new(text.as_str(), path, Some(origin_name(&origin)?))
                .parse()
                .map_err(|e| zone_err(e.to_string()))?;
        let mode = mode_of(&name);
        let zone = InMemoryZoneHandler::new(
            name.clone(),
            records,
            ZoneType::Primary,
            AxfrPolicy::Deny,
            mode.map(|_| NxProofKind::Nsec),
        )
        .map_err(zone_err)?;
        handlers.push((name, zone, mode));
    }
    for record in extra {
        let zone = handlers
            .iter_mut()
            .filter(|(origin, _, _)| origin.zone_of(&record.name))
            .max_by_key(|(origin, _, _)| origin.num_labels())
            .map(|(_, zone, _)| zone)
            .expect("the root zone holds every name");
        zone.upsert_mut(record, 0);
    }
    let parent_of = |handlers: &[(Name, InMemoryZoneHandler, Option<Signing>)], i: usize| {
        let child = &handlers[i].0;
        (0..handlers.len())
            .filter(|&p| p != i && handlers[p].0.zone_of(child) && handlers[p].0 != *child)
            .max_by_key(|&p| handlers[p].0.num_labels())
    };
    let ns = Name::from_ascii(LAB_NS).expect("lab NS name");
    let mut parents = HashMap::new();
    for i in 0..handlers.len() {
        if let Some(p) = parent_of(&handlers, i) {
            let child = handlers[i].0.clone();
            let delegation = Record::from_rdata(child.clone(), 300, RData::NS(NS(ns.clone())));
            handlers[p].1.upsert_mut(delegation.clone(), 0);
            // The apex NS set too, for zones written without one: a validator looking for
            // the zone cut finds it there (the same record twice is kept once).
            handlers[i].1.upsert_mut(delegation, 0);
            parents.insert(LowerName::from(child), p);
        }
    }
    // Children first: a parent signs the DS records its children left in it.
    let mut order: Vec<usize> = (0..handlers.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(handlers[i].0.num_labels()));
    let mut anchor = String::new();
    for i in order {
        let Some(mode) = handlers[i].2 else {
            continue;
        };
        let origin = handlers[i].0.clone();
        let zone_err = |message: String| LabError::Zone {
            origin: origin.to_ascii(),
            message,
        };
        let zone_key = ZoneKey::generate().map_err(zone_err)?;
        sign_zone(&mut handlers[i].1, &origin, &zone_key, mode).map_err(zone_err)?;
        if origin.is_root() {
            anchor = zone_key.anchor_line(&origin);
        }
        if mode != Signing::Island
            && let Some(p) = parent_of(&handlers, i)
        {
            let ds = zone_key
                .ds(&origin, mode == Signing::DsMismatch)
                .map_err(zone_err)?;
            handlers[p].1.upsert_mut(ds, 0);
        }
    }
    let chains = handlers
        .iter_mut()
        .map(|(origin, zone, mode)| (origin.clone(), mode.map(|_| Arc::new(chain(zone)))))
        .collect();
    let (catalog, parents) = catalogs(handlers, parents);
    Ok(Zones {
        catalog,
        parents,
        anchor,
        chains,
    })
}

/// The catalog of all zones, and for each delegated zone a catalog of its parent alone.
fn catalogs(
    handlers: Vec<(Name, InMemoryZoneHandler, Option<Signing>)>,
    parents: HashMap<LowerName, usize>,
) -> (Catalog, HashMap<LowerName, Catalog>) {
    let arcs: Vec<(Name, Arc<dyn ZoneHandler>)> = handlers
        .into_iter()
        .map(|(n, z, _)| (n, Arc::new(z) as Arc<dyn ZoneHandler>))
        .collect();
    let mut catalog = Catalog::new();
    for (origin, zone) in &arcs {
        catalog.upsert(LowerName::from(origin.clone()), vec![Arc::clone(zone)]);
    }
    let parents = parents
        .into_iter()
        .map(|(child, p)| {
            let (origin, zone) = &arcs[p];
            let mut parent = Catalog::new();
            parent.upsert(LowerName::from(origin.clone()), vec![Arc::clone(zone)]);
            (child, parent)
        })
        .collect();
    (catalog, parents)
}
