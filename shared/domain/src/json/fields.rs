//! Walking untyped JSON while collecting every offending field with its path, so a request
//! with five problems gets one answer naming all five (serde stops at the first).

use serde_json::{Map, Value};

use super::FieldError;

/// A JSON path built on the stack; rendered (`cartItems[2].quantity.value`) only on error.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root(&'a str),
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    /// A root with a name used when the error is about the whole document (`body`).
    pub(crate) fn root(name: &'a str) -> Path<'a> {
        Path {
            parent: None,
            segment: Segment::Root(name),
        }
    }

    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match (self.parent, self.segment) {
            (None, Segment::Root(name)) => out.push_str(name),
            (Some(parent), segment) => {
                let parent_is_root = parent.parent.is_none();
                if !parent_is_root {
                    parent.render_into(out);
                }
                match segment {
                    Segment::Key(key) => {
                        if !parent_is_root {
                            out.push('.');
                        }
                        out.push_str(key);
                    }
                    Segment::Index(index) => {
                        if parent_is_root {
                            parent.render_into(out);
                        }
                        out.push('[');
                        out.push_str(&index.to_string());
                        out.push(']');
                    }
                    Segment::Root(name) => out.push_str(name),
                }
            }
            (None, _) => {}
        }
    }
}

/// Collects field errors while reading values out of a JSON document.
#[derive(Default)]
pub(crate) struct Fields {
    pub(crate) errors: Vec<FieldError>,
}

impl Fields {
    pub(crate) fn error(&mut self, path: &Path<'_>, reason: impl Into<String>) {
        self.errors.push(FieldError {
            field: path.render(),
            reason: reason.into(),
        });
    }

    /// A member that is present and not `null`; no error when absent.
    pub(crate) fn optional<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
        object.get(key).filter(|value| !value.is_null())
    }

    /// A member that must be present and not `null`.
    pub(crate) fn required<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        key: &str,
        path: &Path<'_>,
    ) -> Option<&'v Value> {
        let value = Fields::optional(object, key);
        if value.is_none() {
            self.error(path, "is required");
        }
        value
    }

    pub(crate) fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &Path<'_>,
    ) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.error(path, format!("must be an object, not {}", kind(value)));
        }
        object
    }

    pub(crate) fn array<'v>(&mut self, value: &'v Value, path: &Path<'_>) -> Option<&'v [Value]> {
        let array = value.as_array().map(Vec::as_slice);
        if array.is_none() {
            self.error(path, format!("must be an array, not {}", kind(value)));
        }
        array
    }

    pub(crate) fn string<'v>(&mut self, value: &'v Value, path: &Path<'_>) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.error(path, format!("must be a string, not {}", kind(value)));
        }
        text
    }
}

/// How a JSON value is described in an error.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_the_contract_writes_them() {
        let root = Path::root("body");
        assert_eq!(root.render(), "body");
        let items = root.key("cartItems");
        let item = items.index(2);
        let quantity = item.key("quantity");
        assert_eq!(
            quantity.key("value").render(),
            "cartItems[2].quantity.value"
        );
        assert_eq!(items.render(), "cartItems");
        let lines = root.key("lineItems");
        let line = lines.index(0);
        let unit_price = line.key("unitPrice");
        let promotions = unit_price.key("promotions");
        assert_eq!(
            promotions.index(1).render(),
            "lineItems[0].unitPrice.promotions[1]"
        );
    }
}
