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

use super::{Fault, Received, State, key};

pub(super) struct Handler {
    pub(super) catalog: Catalog,
    /// Zone origin → a catalog of its parent alone, for DS questions.
    pub(super) parents: HashMap<LowerName, Catalog>,
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
        let catalog = if query.query_type() == RecordType::DS {
            self.parents.get(query.name()).unwrap_or(&self.catalog)
        } else {
            &self.catalog
        };
        if self.state.strip_dnssec.load(Ordering::Relaxed) {
            catalog
                .handle_request::<Strip<R>, T>(request, Strip(response))
                .await
        } else {
            catalog.handle_request::<R, T>(request, response).await
        }
    }
}

/// Passes answers on without their DNSSEC records, as a resolver that strips them would.
#[derive(Clone)]
struct Strip<R>(R);

#[async_trait]
impl<R: ResponseHandler> ResponseHandler for Strip<R> {
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
        let keep = |r: &&Record| {
            !matches!(
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
        self.0.send_response(reply).await
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
