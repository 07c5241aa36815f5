//! The BIMI logo: the SVG behind the assertion record's `l=` URL, fetched over HTTPS (port 443,
//! our DNS, the address policy, the size cap) and read only as far as its root element, whose
//! attributes say whether it claims the SVG Tiny Portable/Secure profile mailbox providers
//! require (`baseProfile="tiny-ps"`, `version="1.2"`; draft-svg-tiny-ps-abrotman).
//! The `a=` evidence document (a VMC or CMC) is fetched the same way and only counted: its
//! PEM certificates are not validated.

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use super::https::{self, Fetch, HttpsSettings};
use crate::dns::Dns;

/// The logo URL and what it served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LogoFetch {
    /// The `l=` value.
    pub url: String,
    /// Why the URL was not fetched (not `https://host/…`, or a port other than 443).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch: Option<Fetch>,
    /// The root element of a `200` body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub svg: Option<SvgRoot>,
}

/// The `a=` evidence document and what it served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceFetch {
    /// The `a=` value.
    pub url: String,
    /// Why the URL was not fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch: Option<Fetch>,
    /// PEM certificates (`-----BEGIN CERTIFICATE-----` blocks) in a `200` body.
    pub certificates: usize,
}

/// Fetches the evidence document at `url` (an `a=` value) and counts its PEM certificates;
/// `None` when fetches are switched off.
pub async fn gather_evidence(dns: &Dns, s: &HttpsSettings, url: &str) -> Option<EvidenceFetch> {
    if !s.enabled {
        return None;
    }
    let mut evidence = EvidenceFetch {
        url: url.to_owned(),
        refused: None,
        fetch: None,
        certificates: 0,
    };
    match split(url) {
        Err(why) => evidence.refused = Some(why),
        Ok((host, path)) => {
            let fetch = https::fetch(dns, s, &host, &path).await;
            evidence.certificates = fetch
                .ok()
                .map_or(0, |r| r.body.matches("-----BEGIN CERTIFICATE-----").count());
            evidence.fetch = Some(fetch);
        }
    }
    Some(evidence)
}

/// What the root element of the document claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SvgRoot {
    /// The root element's local name (`svg` for an SVG document); absent when the body is
    /// not XML with a root element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why the document could not be read, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SvgRoot {
    /// `<svg baseProfile="tiny-ps" version="1.2">`.
    pub fn is_tiny_ps(&self) -> bool {
        self.element.as_deref() == Some("svg")
            && self.base_profile.as_deref() == Some("tiny-ps")
            && self.version.as_deref() == Some("1.2")
    }
}

/// Reads the root element's name and profile attributes, skipping the prolog.
pub fn svg_root(body: &str) -> SvgRoot {
    let mut root = SvgRoot {
        element: None,
        base_profile: None,
        version: None,
        error: None,
    };
    let mut reader = quick_xml::Reader::from_str(body);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.local_name();
                root.element = Some(name.as_ref().to_owned());
                for attr in e.attributes() {
                    let attr = match attr {
                        Ok(a) => a,
                        Err(err) => {
                            root.error = Some(err.to_string());
                            break;
                        }
                    };
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|v| v.trim().to_owned())
                        .unwrap_or_default();
                    match attr.key.local_name().as_ref() {
                        "baseProfile" => root.base_profile = Some(value),
                        "version" => root.version = Some(value),
                        _ => {}
                    }
                }
                return root;
            }
            Ok(Event::Eof) => {
                root.error = Some("no root element".into());
                return root;
            }
            Ok(Event::Text(t)) if !t.as_ref().trim().is_empty() => {
                root.error = Some("text before the root element: not an XML document".into());
                return root;
            }
            Ok(_) => {}
            Err(e) => {
                root.error = Some(e.to_string());
                return root;
            }
        }
    }
}

/// Splits `https://host/path` into host and path; the port, if any, must be 443.
fn split(url: &str) -> Result<(String, String), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if parsed.scheme() != "https" {
        return Err(format!("{url:?} is not an https:// URL"));
    }
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err(format!("{url:?} has no host"));
    };
    if let Some(port) = parsed.port().filter(|p| *p != 443) {
        return Err(format!(
            "{url:?} names port {port}: mailbox providers fetch logos on 443 only"
        ));
    }
    let mut path = parsed.path().to_owned();
    if let Some(q) = parsed.query() {
        path.push('?');
        path.push_str(q);
    }
    Ok((host.trim_end_matches('.').to_ascii_lowercase(), path))
}

/// Fetches the logo at `url` (an `l=` value) and reads its root element; `None` when
/// fetches are switched off.
pub async fn gather(dns: &Dns, s: &HttpsSettings, url: &str) -> Option<LogoFetch> {
    if !s.enabled {
        return None;
    }
    let mut logo = LogoFetch {
        url: url.to_owned(),
        refused: None,
        fetch: None,
        svg: None,
    };
    match split(url) {
        Err(why) => logo.refused = Some(why),
        Ok((host, path)) => {
            let fetch = https::fetch(dns, s, &host, &path).await;
            logo.svg = fetch.ok().map(|r| svg_root(&r.body));
            logo.fetch = Some(fetch);
        }
    }
    Some(logo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_root_element_past_the_prolog() {
        let good = "<?xml version=\"1.0\"?>\n<!-- logo -->\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.2\" baseProfile=\"tiny-ps\"><title>x</title></svg>";
        assert!(svg_root(good).is_tiny_ps());
        let full = svg_root("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\"/>");
        assert_eq!(full.version.as_deref(), Some("1.1"));
        assert_eq!(full.base_profile, None);
        assert!(!full.is_tiny_ps());
        let prefixed = svg_root(
            "<s:svg xmlns:s=\"http://www.w3.org/2000/svg\" version=\"1.2\" baseProfile=\"tiny-ps\"/>",
        );
        assert!(prefixed.is_tiny_ps());
        assert_eq!(
            svg_root("<html><body/></html>").element.as_deref(),
            Some("html")
        );
        assert!(svg_root("GIF89a...").error.is_some());
        assert!(svg_root("").error.is_some());
    }

    #[test]
    fn logo_urls_are_https_on_443() {
        assert_eq!(
            split("https://Img.Example.com/logo.svg?v=2"),
            Ok(("img.example.com".into(), "/logo.svg?v=2".into()))
        );
        assert!(split("https://img.example.com:8443/logo.svg").is_err());
        assert!(split("http://img.example.com/logo.svg").is_err());
        assert!(split("https://img.example.com:443/logo.svg").is_ok());
    }
}
