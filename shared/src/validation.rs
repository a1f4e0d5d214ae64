//! Validation of the Create Purchases body (CONTRACT.md §1): every offending field is reported
//! with its path and a reason, and only a fully valid body becomes a typed request.

use std::collections::HashMap;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::contract::create_purchases::{
    AuthEvent, AuthLocation, CartItem, CartItemType, CreatePurchasesRequest, ExternalIdentifier,
    ExternalIdentifierType, PaymentSource, PayloadType, Quantity, ScanResult, ScanResultType,
    ShopperIdentity, ShoppingTrip,
};
use crate::contract::{FieldError, Redacted, Timestamp};
use crate::json_fields::{Fields, Path};
use crate::money::parse_plain_decimal;

/// Longest identifier Amazon sends (characters, not bytes).
pub const MAX_ID_CHARS: usize = 255;
/// Longest `quantity.value`.
pub const MAX_QUANTITY_CHARS: usize = 10;

/// Quantity units that count whole things; a fractional quantity in one of these is refused.
/// Anything else (`lb`, `kg`, `oz`, ...) is a measure and may be fractional.
pub const COUNT_UNITS: &[&str] = &[
    "unit", "units", "each", "ea", "count", "ct", "item", "items", "piece", "pieces", "pc", "pcs",
];

pub fn is_count_unit(unit: &str) -> bool {
    COUNT_UNITS.iter().any(|count| count.eq_ignore_ascii_case(unit))
}

/// A Create Purchases body that must be answered with 400. Carries every offending field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct InvalidRequest {
    pub message: String,
    pub errors: Vec<FieldError>,
}

impl InvalidRequest {
    fn new(errors: Vec<FieldError>) -> InvalidRequest {
        let message = match errors.as_slice() {
            [only] => format!("invalid request: {} {}", only.field, only.reason),
            many => format!("invalid request: {} fields are invalid", many.len()),
        };
        InvalidRequest { message, errors }
    }
}

/// Validates a raw Create Purchases body and returns the typed request, or every problem.
pub fn validate_create_purchases(body: &[u8]) -> Result<CreatePurchasesRequest, InvalidRequest> {
    let root = Path::root("body");
    let single = |reason: String| {
        InvalidRequest::new(vec![FieldError {
            field: root.render(),
            reason,
        }])
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(single("is empty; a Create Purchases JSON object is required".into()));
    }
    let document: Value = serde_json::from_slice(body)
        .map_err(|error| single(format!("is not valid JSON: {error}")))?;
    let mut fields = Fields::default();
    let request = fields
        .object(&document, &root)
        .and_then(|object| read_request(&mut fields, object, &root));
    match request {
        Some(request) if fields.errors.is_empty() => Ok(request),
        _ => Err(InvalidRequest::new(fields.errors)),
    }
}

fn read_request(
    fields: &mut Fields,
    body: &Map<String, Value>,
    root: &Path<'_>,
) -> Option<CreatePurchasesRequest> {
    let request_id = read_uuid(fields, body, "requestId", root);
    let trip_id = read_id(fields, body, "idempotentShoppingTripId", root);
    let store_id = read_store_id(fields, body, root);
    let trip_path = root.key("shoppingTrip");
    let shopping_trip = fields
        .required(body, "shoppingTrip", &trip_path)
        .and_then(|value| fields.object(value, &trip_path))
        .and_then(|trip| read_shopping_trip(fields, trip, &trip_path));
    let cart_items = read_cart_items(fields, body, root);

    let identity_path = root.key("shopperIdentity");
    let shopper_identity = Fields::optional(body, "shopperIdentity")
        .and_then(|value| fields.object(value, &identity_path))
        .map(|identity| {
            let id_path = identity_path.key("id");
            fields
                .required(identity, "id", &id_path)
                .and_then(|value| read_string(fields, value, &id_path, MAX_ID_CHARS))
        });
    let shopper_device_id = read_optional_string(fields, body, "shopperDeviceId", root);
    let payment_path = root.key("paymentSource");
    let payment_source = Fields::optional(body, "paymentSource")
        .and_then(|value| fields.object(value, &payment_path))
        .map(|payment| {
            let id_path = payment_path.key("id");
            fields
                .required(payment, "id", &id_path)
                .and_then(|value| read_string(fields, value, &id_path, MAX_ID_CHARS))
        });

    Some(CreatePurchasesRequest {
        request_id: request_id?,
        idempotent_shopping_trip_id: trip_id?,
        store_id: store_id?,
        shopping_trip: shopping_trip?,
        cart_items: cart_items?,
        shopper_identity: match shopper_identity {
            Some(id) => Some(ShopperIdentity {
                id: Redacted(id?.to_owned()),
            }),
            None => None,
        },
        shopper_device_id: shopper_device_id?.map(|id| Redacted(id.to_owned())),
        payment_source: match payment_source {
            Some(id) => Some(PaymentSource {
                id: Redacted(id?.to_owned()),
            }),
            None => None,
        },
    })
}

fn read_shopping_trip(
    fields: &mut Fields,
    trip: &Map<String, Value>,
    path: &Path<'_>,
) -> Option<ShoppingTrip> {
    let start_time = read_required_timestamp(fields, trip, "startTime", path);
    let end_time = read_required_timestamp(fields, trip, "endTime", path);
    if let (Some(start), Some(end)) = (&start_time, &end_time)
        && end.instant() < start.instant()
    {
        fields.error(
            &path.key("endTime"),
            format!(
                "must not be before startTime ({} is before {})",
                end.as_str(),
                start.as_str()
            ),
        );
    }
    let events_path = path.key("authEvents");
    let auth_events = fields
        .required(trip, "authEvents", &events_path)
        .and_then(|value| fields.array(value, &events_path))
        .and_then(|events| {
            let read: Vec<Option<AuthEvent>> = events
                .iter()
                .enumerate()
                .map(|(index, event)| {
                    let event_path = events_path.index(index);
                    fields
                        .object(event, &event_path)
                        .and_then(|event| read_auth_event(fields, event, &event_path))
                })
                .collect();
            read.into_iter().collect::<Option<Vec<_>>>()
        });
    Some(ShoppingTrip {
        start_time: start_time?,
        end_time: end_time?,
        auth_events: auth_events?,
    })
}

fn read_auth_event(
    fields: &mut Fields,
    event: &Map<String, Value>,
    path: &Path<'_>,
) -> Option<AuthEvent> {
    let id = read_uuid(fields, event, "id", path);
    let timestamp = read_optional_timestamp(fields, event, "timestamp", path);
    let location = read_optional_enum(fields, event, "location", path, AuthLocation::parse, AuthLocation::ALL);
    let payload_type_path = path.key("payloadType");
    let payload_type = fields
        .required(event, "payloadType", &payload_type_path)
        .and_then(|value| read_enum(fields, value, &payload_type_path, PayloadType::parse, PayloadType::ALL));
    let scan_path = path.key("scanResult");
    let scan_result = Fields::optional(event, "scanResult")
        .and_then(|value| fields.object(value, &scan_path))
        .map(|scan| {
            let id = read_optional_string(fields, scan, "id", &scan_path);
            let scan_type = read_optional_enum(
                fields,
                scan,
                "type",
                &scan_path,
                ScanResultType::parse,
                ScanResultType::ALL,
            );
            Some(ScanResult {
                id: id?.map(|id| Redacted(id.to_owned())),
                scan_type: scan_type?,
            })
        });
    Some(AuthEvent {
        id: id?,
        timestamp: timestamp?,
        location: location?,
        payload_type: payload_type?,
        scan_result: match scan_result {
            Some(scan) => Some(scan?),
            None => None,
        },
    })
}

fn read_cart_items(
    fields: &mut Fields,
    body: &Map<String, Value>,
    root: &Path<'_>,
) -> Option<Vec<CartItem>> {
    let items_path = root.key("cartItems");
    let items = fields
        .required(body, "cartItems", &items_path)
        .and_then(|value| fields.array(value, &items_path))?;
    let mut line_item_ids: HashMap<&str, usize> = HashMap::new();
    let mut read = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let item_path = items_path.index(index);
        let Some(item) = fields.object(item, &item_path) else {
            read.push(None);
            continue;
        };
        let cart_item = read_cart_item(fields, item, &item_path);
        if let Some(Value::String(line_item_id)) = Fields::optional(item, "lineItemId")
            && let Some(first) = line_item_ids.insert(line_item_id.as_str(), index)
        {
            fields.error(
                &item_path.key("lineItemId"),
                format!("duplicates cartItems[{first}].lineItemId '{line_item_id}'; lineItemId must be unique within the cart"),
            );
            line_item_ids.insert(line_item_id.as_str(), first);
        }
        read.push(cart_item);
    }
    read.into_iter().collect()
}

fn read_cart_item(
    fields: &mut Fields,
    item: &Map<String, Value>,
    path: &Path<'_>,
) -> Option<CartItem> {
    let id = read_id(fields, item, "id", path);
    let type_path = path.key("type");
    let item_type = fields
        .required(item, "type", &type_path)
        .and_then(|value| read_enum(fields, value, &type_path, CartItemType::parse, CartItemType::ALL));
    let quantity_path = path.key("quantity");
    let quantity = fields
        .required(item, "quantity", &quantity_path)
        .and_then(|value| fields.object(value, &quantity_path))
        .and_then(|quantity| read_quantity(fields, quantity, &quantity_path));
    let identifiers_path = path.key("externalIdentifiers");
    let external_identifiers = match Fields::optional(item, "externalIdentifiers") {
        None => Some(Vec::new()),
        Some(value) => fields.array(value, &identifiers_path).and_then(|identifiers| {
            let read: Vec<Option<ExternalIdentifier>> = identifiers
                .iter()
                .enumerate()
                .map(|(index, identifier)| {
                    let identifier_path = identifiers_path.index(index);
                    let identifier = fields.object(identifier, &identifier_path)?;
                    let id = read_id(fields, identifier, "id", &identifier_path);
                    let type_path = identifier_path.key("type");
                    let id_type = fields.required(identifier, "type", &type_path).and_then(|value| {
                        read_enum(
                            fields,
                            value,
                            &type_path,
                            ExternalIdentifierType::parse,
                            ExternalIdentifierType::ALL,
                        )
                    });
                    Some(ExternalIdentifier {
                        id: id?,
                        id_type: id_type?,
                    })
                })
                .collect();
            read.into_iter().collect()
        }),
    };
    let line_item_id = read_optional_string(fields, item, "lineItemId", path);
    Some(CartItem {
        id: id?,
        item_type: item_type?,
        quantity: quantity?,
        external_identifiers: external_identifiers?,
        line_item_id: line_item_id?.map(str::to_owned),
    })
}

fn read_quantity(
    fields: &mut Fields,
    quantity: &Map<String, Value>,
    path: &Path<'_>,
) -> Option<Quantity> {
    let unit = read_id(fields, quantity, "unit", path);
    let value_path = path.key("value");
    let value = fields
        .required(quantity, "value", &value_path)
        .and_then(|value| read_string(fields, value, &value_path, MAX_QUANTITY_CHARS))
        .filter(|text| {
            let reason = match parse_plain_decimal(text) {
                None => format!("'{text}' is not a decimal number like \"1.0\" or \"0.45\""),
                Some(number) if number <= rust_decimal::Decimal::ZERO => {
                    format!("'{text}' must be greater than zero")
                }
                Some(number) => match &unit {
                    Some(unit) if is_count_unit(unit) && !number.fract().is_zero() => {
                        format!("'{text}' must be a whole number for unit '{unit}'")
                    }
                    _ => return true,
                },
            };
            fields.error(&value_path, reason);
            false
        });
    Some(Quantity {
        value: value?.to_owned(),
        unit: unit?,
    })
}

/// A required, non-empty string of at most 255 characters.
fn read_id(
    fields: &mut Fields,
    object: &Map<String, Value>,
    key: &'static str,
    parent: &Path<'_>,
) -> Option<String> {
    let path = parent.key(key);
    let text = fields
        .required(object, key, &path)
        .and_then(|value| read_string(fields, value, &path, MAX_ID_CHARS))?;
    if text.is_empty() {
        fields.error(&path, "must not be empty");
        return None;
    }
    Some(text.to_owned())
}

fn read_store_id(fields: &mut Fields, body: &Map<String, Value>, root: &Path<'_>) -> Option<String> {
    let store_id = read_id(fields, body, "storeId", root)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if let Some(bad) = store_id.chars().find(|c| !allowed(*c)) {
        fields.error(
            &root.key("storeId"),
            format!("contains '{bad}'; only letters, digits, '_' and '-' are allowed"),
        );
        return None;
    }
    Some(store_id)
}

/// A required hyphenated UUID (`a1b2c3d4-e5f6-7890-abcd-ef1234567890`).
fn read_uuid(
    fields: &mut Fields,
    object: &Map<String, Value>,
    key: &'static str,
    parent: &Path<'_>,
) -> Option<String> {
    let path = parent.key(key);
    let text = fields
        .required(object, key, &path)
        .and_then(|value| read_string(fields, value, &path, MAX_ID_CHARS))?;
    let hyphenated = text.len() == 36 && uuid::Uuid::try_parse(text).is_ok();
    if !hyphenated {
        fields.error(
            &path,
            format!("'{}' is not a UUID like a1b2c3d4-e5f6-7890-abcd-ef1234567890", shorten(text)),
        );
        return None;
    }
    Some(text.to_owned())
}

/// An optional string: `Some(None)` when absent, `None` when present but invalid.
fn read_optional_string<'v>(
    fields: &mut Fields,
    object: &'v Map<String, Value>,
    key: &'static str,
    parent: &Path<'_>,
) -> Option<Option<&'v str>> {
    match Fields::optional(object, key) {
        None => Some(None),
        Some(value) => read_string(fields, value, &parent.key(key), MAX_ID_CHARS).map(Some),
    }
}

fn read_string<'v>(
    fields: &mut Fields,
    value: &'v Value,
    path: &Path<'_>,
    max_chars: usize,
) -> Option<&'v str> {
    let text = fields.string(value, path)?;
    let chars = text.chars().count();
    if chars > max_chars {
        fields.error(path, format!("is {chars} characters long; at most {max_chars} are allowed"));
        return None;
    }
    Some(text)
}

fn read_required_timestamp(
    fields: &mut Fields,
    object: &Map<String, Value>,
    key: &'static str,
    parent: &Path<'_>,
) -> Option<Timestamp> {
    let path = parent.key(key);
    let value = fields.required(object, key, &path)?;
    read_timestamp(fields, value, &path)
}

fn read_optional_timestamp(
    fields: &mut Fields,
    object: &Map<String, Value>,
    key: &'static str,
    parent: &Path<'_>,
) -> Option<Option<Timestamp>> {
    match Fields::optional(object, key) {
        None => Some(None),
        Some(value) => read_timestamp(fields, value, &parent.key(key)).map(Some),
    }
}

fn read_timestamp(fields: &mut Fields, value: &Value, path: &Path<'_>) -> Option<Timestamp> {
    let text = fields.string(value, path)?;
    match Timestamp::parse(text) {
        Ok(timestamp) => Some(timestamp),
        Err(_) => {
            fields.error(
                path,
                format!("'{}' is not an ISO-8601 UTC timestamp like 2024-03-22T17:09:39Z", shorten(text)),
            );
            None
        }
    }
}

fn read_optional_enum<T: Copy + std::fmt::Display>(
    fields: &mut Fields,
    object: &Map<String, Value>,
    key: &'static str,
    parent: &Path<'_>,
    parse: fn(&str) -> Option<T>,
    accepted: &[T],
) -> Option<Option<T>> {
    match Fields::optional(object, key) {
        None => Some(None),
        Some(value) => read_enum(fields, value, &parent.key(key), parse, accepted).map(Some),
    }
}

fn read_enum<T: Copy + std::fmt::Display>(
    fields: &mut Fields,
    value: &Value,
    path: &Path<'_>,
    parse: fn(&str) -> Option<T>,
    accepted: &[T],
) -> Option<T> {
    let text = fields.string(value, path)?;
    let parsed = parse(text);
    if parsed.is_none() {
        let accepted: Vec<String> = accepted.iter().map(ToString::to_string).collect();
        fields.error(
            path,
            format!("'{}' is not one of {}", shorten(text), accepted.join(", ")),
        );
    }
    parsed
}

/// Echoes a bad value in an error without echoing a 10 kB one.
fn shorten(text: &str) -> String {
    const SHOWN: usize = 40;
    if text.chars().count() <= SHOWN {
        text.to_owned()
    } else {
        let head: String = text.chars().take(SHOWN).collect();
        format!("{head}…")
    }
}
