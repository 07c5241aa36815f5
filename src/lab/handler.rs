//! The lab's request handler: counts, applies faults, then answers from the catalog.

use std::sync::Arc;

use async_trait::async_trait;
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::Name;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::{Catalog, MessageResponseBuilder};

use super::{Fault, Received, State, key};

pub(super) struct Handler {
    pub(super) catalog: Catalog,
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
        match code {
            Some(code) => {
                let reply = MessageResponseBuilder::new(&request.queries, None)
                    .error_msg(&request.metadata, code);
                send(&mut response, reply, request).await
            }
            None => self.catalog.handle_request::<R, T>(request, response).await,
        }
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
