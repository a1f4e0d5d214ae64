//! serde's derived `Deserialize` for a struct also accepts a JSON array of its fields in order
//! (`"quantity": ["1", "each"]`). The contract has objects only, so every nested struct of a
//! wire type is read through these, which accept a JSON object and nothing else.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// `T` from a JSON object only.
pub struct ObjectOnly<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(ObjectOnly)
    }
}

/// For `#[serde(deserialize_with = "object")]` on a struct field.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    ObjectOnly::deserialize(deserializer).map(|ObjectOnly(value)| value)
}

/// For an optional struct field: `null` or absent is `None` (with `#[serde(default)]`).
pub fn optional_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<ObjectOnly<T>>::deserialize(deserializer).map(|value| value.map(|ObjectOnly(v)| v))
}

/// For a list of structs: a JSON array of objects.
pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    struct ListVisitor<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of JSON objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(ObjectOnly(item)) = seq.next_element::<ObjectOnly<T>>()? {
                items.push(item);
            }
            Ok(items)
        }
    }
    deserializer.deserialize_seq(ListVisitor(PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: u8,
        b: u8,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Holder {
        #[serde(deserialize_with = "super::object")]
        one: Pair,
        #[serde(default, deserialize_with = "super::optional_object")]
        maybe: Option<Pair>,
        #[serde(default, deserialize_with = "super::objects")]
        many: Vec<Pair>,
    }

    #[test]
    fn objects_only() {
        let ok: Holder =
            serde_json::from_str(r#"{"one":{"a":1,"b":2},"maybe":null,"many":[{"a":3,"b":4}]}"#)
                .unwrap();
        assert_eq!(ok.many, vec![Pair { a: 3, b: 4 }]);
        assert_eq!(ok.maybe, None);
        for bad in [
            r#"{"one":[1,2]}"#,
            r#"{"one":{"a":1,"b":2},"maybe":[1,2]}"#,
            r#"{"one":{"a":1,"b":2},"many":[[3,4]]}"#,
        ] {
            assert!(serde_json::from_str::<Holder>(bad).is_err(), "{bad}");
        }
    }
}
