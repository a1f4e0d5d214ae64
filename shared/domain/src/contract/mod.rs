//! The wire contract with Amazon (docs/contract.md): serde types for every message the connector
//! receives or sends. Unknown fields are accepted everywhere (Amazon adds attributes).

pub mod catalog;
pub mod checkout;
pub mod create_purchases;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::json::FieldError;

/// Longest identifier Amazon sends (characters, not bytes).
pub const MAX_ID_CHARS: usize = 255;
/// Longest `quantity.value`.
pub const MAX_QUANTITY_CHARS: usize = 10;

/// Declares a wire enumeration. Its accepted set lives here only, so a value Amazon adds later
/// is a one-line change: one `Variant = "TEXT"` entry.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every accepted value, in the order the contract lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Reads a string as `Arc<str>` in one allocation (serde's own impl goes through a `String`
/// and copies it). Cart text the wire lines echo is shared with them rather than cloned.
pub(crate) fn shared_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Arc<str>, D::Error> {
    struct SharedText;
    impl de::Visitor<'_> for SharedText {
        type Value = Arc<str>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Arc<str>, E> {
            Ok(Arc::from(text))
        }
    }
    deserializer.deserialize_str(SharedText)
}

/// A value that must never reach a log line (payment source ids, shopper ids, device ids).
/// It serializes as itself; only `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted(pub String);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// An ISO-8601 UTC instant as Amazon sends it (`2024-03-22T17:09:39Z`). Keeps the text it was
/// read from, so a stored request serializes back exactly as received.
#[derive(Clone, PartialEq, Eq)]
pub struct Timestamp {
    text: String,
    instant: DateTime<Utc>,
}

impl Timestamp {
    /// Accepts RFC 3339 with a UTC offset (`Z` or `+00:00`), fractional seconds allowed.
    pub fn parse(text: &str) -> Result<Timestamp, String> {
        let parsed = DateTime::parse_from_rfc3339(text).map_err(|_| {
            format!("'{text}' is not an ISO-8601 UTC timestamp like 2024-03-22T17:09:39Z")
        })?;
        if parsed.offset().local_minus_utc() != 0 {
            return Err(format!("'{text}' is not in UTC (expected a trailing Z)"));
        }
        Ok(Timestamp {
            text: text.to_owned(),
            instant: parsed.with_timezone(&Utc),
        })
    }

    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(instant: DateTime<Utc>) -> Self {
        Timestamp {
            text: instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            instant,
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(de::Error::custom)
    }
}

/// **[ours]** The body of every 4xx answer: `{"message": "...", "errors": [{"field", "reason"}]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}
