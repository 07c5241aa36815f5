//! The lab's request handler: counts, applies faults, then answers from the catalog (a DS
//! question at a zone's origin from its parent), stripping DNSSEC records when asked to.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use hickory_server::net::NetError;
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Header, HeaderCounts, Message, Metadata, ResponseCode};
use hickory_server::proto::rr::{LowerName, Name, Record, RecordType};
use hickory_server::proto::serialize::binary::{BinDecodable as _, BinDecoder, BinEncoder};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::{Catalog, MessageResponse, MessageResponseBuilder, Queries};

use super::zones::Chain;
use super::{Fault, Received, State, key};

pub(super) struct Handler {
    pub(super) catalog: Catalog,
    /// Zone origin → a catalog of its parent alone, for DS questions.
    pub(super) parents: HashMap<LowerName, Catalog>,
    /// Every zone's origin and, when signed, its NSEC chain.
    pub(super) chains: Vec<(Name, Option<Arc<Chain>>)>,
    pub(super) state: Arc<State>,
}

#[async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let Some(query) = request.queries.queries().first() else {
            return self.catalog.handle_request::<R, T>(request, response).await;
        };
        let name = key(&Name::from(query.name().clone()).to_ascii());
        let rtype = query.query_type().to_string();
        let count = {
            let mut counts = self.state.counts.lock().expect("lab state");
            let n = counts.entry((name.clone(), rtype.clone())).or_default();
            *n += 1;
            *n
        };
        let tcp = request.protocol() == Protocol::Tcp;
        if tcp {
            let mut counts = self.state.tcp.lock().expect("lab state");
            *counts.entry((name.clone(), rtype.clone())).or_default() += 1;
        }
        self.state.log.lock().expect("lab state").push(Received {
            at: self.state.started.elapsed(),
            name: name.clone(),
            rtype: rtype.clone(),
            tcp,
        });
        if !self.state.latency.is_zero() {
            // Each UDP request is handled in its own task, so answers overlap as on a network.
            tokio::time::sleep(self.state.latency).await;
        }
        let verbatim = {
            let answers = self.state.answers.lock().expect("lab state");
            answers.get(&(name.clone(), rtype.clone())).cloned()
        };
        if let Some(records) = verbatim {
            let mut metadata = Metadata::response_from_request(&request.metadata);
            metadata.authoritative = true;
            let reply = MessageResponseBuilder::new(&request.queries, None).build(
                metadata,
                records.iter(),
                [],
                [],
                [],
            );
            return send(&mut response, reply, request).await;
        }
        let fault = {
            let faults = self.state.faults.lock().expect("lab state");
            faults
                .get(&(name.clone(), Some(rtype.clone())))
                .or_else(|| faults.get(&(name.clone(), None)))
                .copied()
        };
        let chaos = *self.state.chaos.lock().expect("lab state");
        let code = match fault {
            Some(Fault::ServFail) => Some(ResponseCode::ServFail),
            Some(Fault::Refused) => Some(ResponseCode::Refused),
            Some(Fault::FailEvery(n)) if count % n == 0 => Some(ResponseCode::ServFail),
            None if chaos.is_some_and(|c| c.fails(&name, &rtype)) => Some(ResponseCode::ServFail),
            Some(Fault::Timeout) => {
                let metadata = Metadata::response_from_request(&request.metadata);
                return ResponseInfo::from(Header {
                    metadata,
                    counts: HeaderCounts::default(),
                });
            }
            Some(Fault::Truncate) if request.protocol() == Protocol::Udp => {
                let mut metadata = Metadata::response_from_request(&request.metadata);
                metadata.truncation = true;
                let reply =
                    MessageResponseBuilder::new(&request.queries, None).build_no_records(metadata);
                return send(&mut response, reply, request).await;
            }
            _ => None,
        };
        if let Some(code) = code {
            let reply = MessageResponseBuilder::new(&request.queries, None)
                .error_msg(&request.metadata, code);
            return send(&mut response, reply, request).await;
        }
        self.answer::<R, T>(request, response).await
    }
}

impl Handler {
    /// From the catalog (a DS at a zone's origin from its parent), rewritten when needed.
    async fn answer<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response: R,
    ) -> ResponseInfo {
        let Some(query) = request.queries.queries().first() else {
            return self.catalog.handle_request::<R, T>(request, response).await;
        };
        let catalog = if query.query_type() == RecordType::DS {
            self.parents.get(query.name()).unwrap_or(&self.catalog)
        } else {
            &self.catalog
        };
        let strip = self.state.strip_dnssec.load(Ordering::Relaxed);
        let qname = Name::from(query.name().clone());
        let chain = self
            .chains
            .iter()
            .filter(|(origin, _)| origin.zone_of(&qname))
            .max_by_key(|(origin, _)| origin.num_labels())
            .and_then(|(_, chain)| chain.clone());
        let dnssec_ok = request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
        if strip || (dnssec_ok && chain.is_some()) {
            let rewrite = Rewrite {
                inner: response,
                strip,
                chain: chain.filter(|_| !strip),
            };
            catalog
                .handle_request::<Rewrite<R>, T>(request, rewrite)
                .await
        } else {
            catalog.handle_request::<R, T>(request, response).await
        }
    }
}

/// Passes answers on changed: without their DNSSEC records, as a resolver that strips them
/// would, or with the wildcard denial hickory leaves out of a signed NXDOMAIN.
#[derive(Clone)]
struct Rewrite<R> {
    inner: R,
    strip: bool,
    chain: Option<Arc<Chain>>,
}

/// The NSEC (with its RRSIG) denying the wildcard at the closest encloser of `qname`, when
/// the answer does not hold it already (RFC 4035 §3.1.3.2).
///
/// hickory-server 0.26 proves the wildcard absent at the query name's parent, which is the
/// closest encloser only for a name one label below an existing one; for
/// `_dmarc.nope.test` (closest encloser `test.`, an empty non-terminal) the proof is missing
/// and a validator rightly calls the NXDOMAIN bogus.
fn wildcard_denial(chain: &Chain, qname: &Name, authorities: &[Record]) -> Vec<Record> {
    let exists = |name: &Name| chain.iter().any(|(owner, _, _)| name.zone_of(owner));
    let mut encloser = qname.base_name();
    while !encloser.is_root() && !exists(&encloser) {
        encloser = encloser.base_name();
    }
    let Ok(wildcard) = encloser.prepend_label("*") else {
        return Vec::new();
    };
    let covering = chain
        .iter()
        .find(|(owner, next, _)| *owner < wildcard && (wildcard < *next || next <= owner));
    match covering {
        Some((owner, _, records))
            if !authorities
                .iter()
                .any(|r| r.name == *owner && r.record_type() == RecordType::NSEC) =>
        {
            records.clone()
        }
        _ => Vec::new(),
    }
}

#[async_trait]
impl<R: ResponseHandler> ResponseHandler for Rewrite<R> {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, NetError> {
        // hickory's response holds its records as iterators: encode, decode, filter, rebuild.
        let mut bytes = Vec::with_capacity(512);
        response
            .destructive_emit(&mut BinEncoder::new(&mut bytes))
            .map_err(|e| NetError::from(e.to_string()))?;
        let message = Message::from_vec(&bytes)?;
        let mut decoder = BinDecoder::new(&bytes);
        let header = Header::read(&mut decoder)?;
        let queries = Queries::read(&mut decoder, usize::from(header.counts.queries))?;
        let mut message = message;
        if let (Some(chain), Some(query)) = (&self.chain, message.queries.first())
            && message.metadata.response_code == ResponseCode::NXDomain
        {
            let extra = wildcard_denial(chain, query.name(), &message.authorities);
            message.authorities.extend(extra);
        }
        let strip = self.strip;
        let keep = |r: &&Record| {
            !strip
                || !matches!(
                    r.record_type(),
                    RecordType::RRSIG
                        | RecordType::DNSKEY
                        | RecordType::DS
                        | RecordType::NSEC
                        | RecordType::NSEC3
                )
        };
        let reply = MessageResponseBuilder::new(&queries, message.edns.as_ref()).build(
            message.metadata,
            message.answers.iter().filter(keep),
            message.authorities.iter().filter(keep),
            [],
            message.additionals.iter().filter(keep),
        );
        self.inner.send_response(reply).await
    }
}

async fn send<'a, R: ResponseHandler>(
    response: &mut R,
    reply: hickory_server::zone_handler::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a hickory_server::proto::rr::Record> + Send + 'a,
        impl Iterator<Item = &'a hickory_server::proto::rr::Record> + Send + 'a,
        impl Iterator<Item = &'a hickory_server::proto::rr::Record> + Send + 'a,
        impl Iterator<Item = &'a hickory_server::proto::rr::Record> + Send + 'a,
    >,
    request: &Request,
) -> ResponseInfo {
    match response.send_response(reply).await {
        Ok(info) => info,
        Err(_) => ResponseInfo::from(Header {
            metadata: Metadata::response_from_request(&request.metadata),
            counts: HeaderCounts::default(),
        }),
    }
}
