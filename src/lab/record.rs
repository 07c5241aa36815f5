//! Records a test adds in code, and their hickory form.

use hickory_server::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
use hickory_server::proto::rr::rdata::{CNAME, MX, NULL, PTR, TLSA, TXT};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};

use super::key;

/// A record to add in code, for data a zone file cannot express or a test builds on the fly.
#[derive(Clone, Debug)]
pub enum LabRecord {
    A(std::net::Ipv4Addr),
    Aaaa(std::net::Ipv6Addr),
    Mx(u16, String),
    Ptr(String),
    Cname(String),
    /// Character-strings as bytes, exactly.
    Txt(Vec<Vec<u8>>),
    /// Any type code with raw RDATA.
    Raw(u16, Vec<u8>),
    /// RFC 6698 §2.1: certificate usage, selector, matching type, association data.
    Tlsa {
        usage: u8,
        selector: u8,
        matching: u8,
        data: Vec<u8>,
    },
}

/// A lab record as hickory's.
pub(super) fn build_record(name: &str, record: LabRecord) -> Record {
    let fqdn = |n: &str| {
        // Labels as raw bytes: test data holds names such as `foo:bar/baz.example.com`.
        let k = key(n);
        if k.is_empty() {
            return Name::root();
        }
        let mut name = Name::from_labels(k.split('.').map(str::as_bytes)).expect("lab record name");
        name.set_fqdn(true);
        name
    };
    let data = match record {
        LabRecord::A(a) => RData::A(a.into()),
        LabRecord::Aaaa(a) => RData::AAAA(a.into()),
        LabRecord::Mx(preference, exchange) => RData::MX(MX::new(preference, fqdn(&exchange))),
        LabRecord::Ptr(target) => RData::PTR(PTR(fqdn(&target))),
        LabRecord::Cname(target) => RData::CNAME(CNAME(fqdn(&target))),
        LabRecord::Txt(strings) => {
            RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
        }
        LabRecord::Tlsa {
            usage,
            selector,
            matching,
            data,
        } => RData::TLSA(TLSA::new(
            CertUsage::from(usage),
            Selector::from(selector),
            Matching::from(matching),
            data,
        )),
        LabRecord::Raw(code, rdata) => RData::Unknown {
            code: RecordType::Unknown(code),
            rdata: if rdata.is_empty() {
                NULL::new()
            } else {
                NULL::with(rdata)
            },
        },
    };
    Record::from_rdata(fqdn(name), 300, data)
}
