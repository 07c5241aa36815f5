//! SPF (RFC 7208): record selection, a strict parser, macros, `check_host()`, and the include
//! tree walk that measures a record's DNS-lookup cost.

pub mod eval;
pub mod macros;
pub mod parse;

use crate::dns::Txt;

/// Whether a TXT record is an SPF record: `v=spf1` (case-insensitive) followed by a space or the
/// end (RFC 7208 §4.5). `v=spf10` is not one.
pub fn is_spf(txt: &Txt) -> bool {
    let joined = txt.joined();
    let bytes = &joined.0;
    bytes.len() >= 6
        && bytes[..6].eq_ignore_ascii_case(b"v=spf1")
        && (bytes.len() == 6 || bytes[6] == b' ')
}

/// The SPF records among a domain's TXT records, in answer order.
pub fn records(txts: &[Txt]) -> Vec<&Txt> {
    txts.iter().filter(|t| is_spf(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::ByteString;

    fn txt(parts: &[&str]) -> Txt {
        Txt {
            strings: parts.iter().map(|p| ByteString::from(*p)).collect(),
        }
    }

    #[test]
    fn recognises_spf_records_by_version_tag() {
        assert!(is_spf(&txt(&["v=spf1 -all"])));
        assert!(is_spf(&txt(&["V=SPF1 -all"])));
        assert!(is_spf(&txt(&["v=spf1"])));
        assert!(is_spf(&txt(&["v=sp", "f1 mx -all"])));
        assert!(!is_spf(&txt(&["v=spf10 -all"])));
        assert!(!is_spf(&txt(&[" v=spf1 -all"])));
        assert!(!is_spf(&txt(&["spf2.0/pra -all"])));
        assert!(!is_spf(&txt(&["google-site-verification=abc"])));
    }
}
