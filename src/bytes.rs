//! Bytes from the wire that are usually, but not always, text.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A DNS character-string or similar remote bytes. Serialised as a JSON string when it is valid
/// UTF-8 (the common case), otherwise as an array of byte values, so no byte is lost or invented.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct ByteString(pub Vec<u8>);

impl ByteString {
    /// The text, with invalid UTF-8 replaced by U+FFFD.
    pub fn lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for ByteString {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => self.0.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Bytes(Vec<u8>),
        }
        Ok(match Repr::deserialize(d)? {
            Repr::Text(t) => Self(t.into_bytes()),
            Repr::Bytes(b) => Self(b),
        })
    }
}

/// Hand-written because the `Serialize` above is: a string, or an array of byte values.
impl schemars::JsonSchema for ByteString {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteString".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Remote bytes: a string when they are valid UTF-8, else an array of byte values.",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "integer", "minimum": 0, "maximum": 255 } }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ByteString;

    #[test]
    fn round_trips_text_and_bytes() {
        for value in [
            ByteString::from("v=spf1 -all"),
            ByteString(vec![0x76, 0xff, 0x00]),
        ] {
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(serde_json::from_str::<ByteString>(&json).unwrap(), value);
        }
        assert_eq!(
            serde_json::to_string(&ByteString::from("a")).unwrap(),
            "\"a\""
        );
        assert_eq!(
            serde_json::to_string(&ByteString(vec![0xff])).unwrap(),
            "[255]"
        );
    }
}
