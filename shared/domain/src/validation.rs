//! Validation of the Create Purchases body (CONTRACT.md §1): every offending field is reported
//! with its path and a reason, and only a fully valid body becomes a typed request.
//!
//! Each field rule is a small function below, used by both ways in:
//! - a fast path: a well-typed body is deserialized straight into the request and the rules
//!   serde cannot express are checked on it (the usual case, and the cheap one);
//! - the walk: the body is read as untyped JSON field by field, which is what finds and names
//!   every problem at once. Any body the fast path does not accept is walked, so the walk alone
//!   decides what a 400 says.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::contract::create_purchases::{
    AuthEvent, AuthLocation, CartItem, CartItemType, CreatePurchasesRequest, ExternalIdentifier,
    ExternalIdentifierType, PayloadType, PaymentSource, Quantity, ScanResult, ScanResultType,
    ShopperIdentity, ShoppingTrip,
};
use crate::contract::object_only::ObjectOnly;
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
    COUNT_UNITS
        .iter()
        .any(|count| count.eq_ignore_ascii_case(unit))
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
    if let Ok(ObjectOnly(request)) =
        serde_json::from_slice::<ObjectOnly<CreatePurchasesRequest>>(body)
        && follows_field_rules(&request)
    {
        return Ok(request);
    }
    walk(body)
}

// ---------------------------------------------------------------------------------------------
// The field rules. Each says what is wrong, or nothing.

type Rule = Result<(), String>;

fn length_rule(text: &str, max_chars: usize) -> Rule {
    // Byte length bounds the character count from above: most texts never need counting.
    if text.len() <= max_chars {
        return Ok(());
    }
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(format!(
            "is {chars} characters long; at most {max_chars} are allowed"
        ));
    }
    Ok(())
}

/// Optional texts: at most 255 characters, empty allowed.
fn text_rule(text: &str) -> Rule {
    length_rule(text, MAX_ID_CHARS)
}

/// Required identifiers: at most 255 characters and not empty.
fn id_rule(text: &str) -> Rule {
    text_rule(text)?;
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(())
}

/// A hyphenated UUID (`a1b2c3d4-e5f6-7890-abcd-ef1234567890`).
fn uuid_rule(text: &str) -> Rule {
    text_rule(text)?;
    if text.len() == 36 && uuid::Uuid::try_parse(text).is_ok() {
        return Ok(());
    }
    Err(format!(
        "'{}' is not a UUID like a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        shorten(text)
    ))
}

fn store_id_rule(text: &str) -> Rule {
    id_rule(text)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    match text.chars().find(|c| !allowed(*c)) {
        None => Ok(()),
        Some(bad) => Err(format!(
            "contains '{bad}'; only letters, digits, '_' and '-' are allowed"
        )),
    }
}

/// `quantity.value`: at most 10 characters, a plain positive decimal, whole for count units.
fn quantity_rule(value: &str, unit: Option<&str>) -> Rule {
    length_rule(value, MAX_QUANTITY_CHARS)?;
    match parse_plain_decimal(value) {
        None => Err(format!(
            "'{value}' is not a decimal number like \"1.0\" or \"0.45\""
        )),
        Some(number) if number <= Decimal::ZERO => {
            Err(format!("'{value}' must be greater than zero"))
        }
        Some(number) => match unit {
            Some(unit) if is_count_unit(unit) && !number.fract().is_zero() => Err(format!(
                "'{value}' must be a whole number for unit '{unit}'"
            )),
            _ => Ok(()),
        },
    }
}

fn trip_times_rule(start: &Timestamp, end: &Timestamp) -> Rule {
    if end.instant() < start.instant() {
        return Err(format!(
            "must not be before startTime ({} is before {})",
            end.as_str(),
            start.as_str()
        ));
    }
    Ok(())
}

/// Whether a request that deserialized cleanly also keeps every rule serde cannot express.
fn follows_field_rules(request: &CreatePurchasesRequest) -> bool {
    let trip = &request.shopping_trip;
    uuid_rule(&request.request_id).is_ok()
        && id_rule(&request.idempotent_shopping_trip_id).is_ok()
        && store_id_rule(&request.store_id).is_ok()
        && trip_times_rule(&trip.start_time, &trip.end_time).is_ok()
        && trip.auth_events.iter().all(|event| {
            uuid_rule(&event.id).is_ok()
                && event
                    .scan_result
                    .as_ref()
                    .is_none_or(|scan| scan.id.as_ref().is_none_or(|id| text_rule(&id.0).is_ok()))
        })
        && request.cart_items.iter().all(|item| {
            id_rule(&item.id).is_ok()
                && id_rule(&item.quantity.unit).is_ok()
                && quantity_rule(&item.quantity.value, Some(&item.quantity.unit)).is_ok()
                && item
                    .external_identifiers
                    .iter()
                    .all(|identifier| id_rule(&identifier.id).is_ok())
                && item
                    .line_item_id
                    .as_deref()
                    .is_none_or(|id| text_rule(id).is_ok())
        })
        && line_item_ids_are_unique(&request.cart_items)
        && request
            .shopper_identity
            .as_ref()
            .is_none_or(|identity| text_rule(&identity.id.0).is_ok())
        && request
            .shopper_device_id
            .as_ref()
            .is_none_or(|id| text_rule(&id.0).is_ok())
        && request
            .payment_source
            .as_ref()
            .is_none_or(|payment| text_rule(&payment.id.0).is_ok())
}

/// Sorting beats hashing here: a few hundred short ids at most.
fn line_item_ids_are_unique(items: &[CartItem]) -> bool {
    let mut ids: Vec<&str> = items
        .iter()
        .filter_map(|item| item.line_item_id.as_deref())
        .collect();
    ids.sort_unstable();
    ids.windows(2).all(|pair| pair[0] != pair[1])
}

// ---------------------------------------------------------------------------------------------
// The walk.

fn walk(body: &[u8]) -> Result<CreatePurchasesRequest, InvalidRequest> {
    let root = Path::root("body");
    let single = |reason: String| {
        InvalidRequest::new(vec![FieldError {
            field: root.render(),
            reason,
        }])
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(single(
            "is empty; a Create Purchases JSON object is required".into(),
        ));
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
    let request_id = read_required(fields, body, "requestId", root, uuid_rule);
    let trip_id = read_required(fields, body, "idempotentShoppingTripId", root, id_rule);
    let store_id = read_required(fields, body, "storeId", root, store_id_rule);
    let trip_path = root.key("shoppingTrip");
    let shopping_trip = fields
        .required(body, "shoppingTrip", &trip_path)
        .and_then(|value| fields.object(value, &trip_path))
        .and_then(|trip| read_shopping_trip(fields, trip, &trip_path));
    let cart_items = read_cart_items(fields, body, root);
    let shopper_identity = read_optional_id_object(fields, body, "shopperIdentity", root);
    let shopper_device_id = read_optional(fields, body, "shopperDeviceId", root, text_rule);
    let payment_source = read_optional_id_object(fields, body, "paymentSource", root);
    Some(CreatePurchasesRequest {
        request_id: request_id?.to_owned(),
        idempotent_shopping_trip_id: trip_id?.to_owned(),
        store_id: store_id?.to_owned(),
        shopping_trip: shopping_trip?,
        cart_items: cart_items?,
        shopper_identity: shopper_identity?.map(|id| ShopperIdentity { id }),
        shopper_device_id: shopper_device_id?.map(|id| Redacted(id.to_owned())),
        payment_source: payment_source?.map(|id| PaymentSource { id }),
    })
}

/// `shopperIdentity` / `paymentSource`: an optional object whose `id` is required.
fn read_optional_id_object(
    fields: &mut Fields,
    body: &Map<String, Value>,
    key: &'static str,
    root: &Path<'_>,
) -> Option<Option<Redacted>> {
    read_optional_with(fields, body, key, root, |fields, value, path| {
        let object = fields.object(value, path)?;
        let id = read_required(fields, object, "id", path, text_rule)?;
        Some(Redacted(id.to_owned()))
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
        && let Err(reason) = trip_times_rule(start, end)
    {
        fields.error(&path.key("endTime"), reason);
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
    let id = read_required(fields, event, "id", path, uuid_rule);
    let timestamp = read_optional_with(fields, event, "timestamp", path, read_timestamp);
    let location = read_optional_enum(
        fields,
        event,
        "location",
        path,
        AuthLocation::parse,
        AuthLocation::ALL,
    );
    let payload_type_path = path.key("payloadType");
    let payload_type = fields
        .required(event, "payloadType", &payload_type_path)
        .and_then(|value| {
            read_enum(
                fields,
                value,
                &payload_type_path,
                PayloadType::parse,
                PayloadType::ALL,
            )
        });
    let scan_path = path.key("scanResult");
    let scan_result = match Fields::optional(event, "scanResult") {
        None => Some(None),
        Some(value) => fields.object(value, &scan_path).and_then(|scan| {
            let id = read_optional(fields, scan, "id", &scan_path, text_rule);
            let scan_type = read_optional_enum(
                fields,
                scan,
                "type",
                &scan_path,
                ScanResultType::parse,
                ScanResultType::ALL,
            );
            Some(Some(ScanResult {
                id: id?.map(|id| Redacted(id.to_owned())),
                scan_type: scan_type?,
            }))
        }),
    };
    Some(AuthEvent {
        id: id?.to_owned(),
        timestamp: timestamp?,
        location: location?,
        payload_type: payload_type?,
        scan_result: scan_result?,
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
                format!("duplicates cartItems[{first}].lineItemId '{}'; lineItemId must be unique within the cart", shorten(line_item_id)),
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
    let id = read_required(fields, item, "id", path, id_rule);
    let type_path = path.key("type");
    let item_type = fields.required(item, "type", &type_path).and_then(|value| {
        read_enum(
            fields,
            value,
            &type_path,
            CartItemType::parse,
            CartItemType::ALL,
        )
    });
    let quantity_path = path.key("quantity");
    let quantity = fields
        .required(item, "quantity", &quantity_path)
        .and_then(|value| fields.object(value, &quantity_path))
        .and_then(|quantity| read_quantity(fields, quantity, &quantity_path));
    let identifiers_path = path.key("externalIdentifiers");
    let external_identifiers = match Fields::optional(item, "externalIdentifiers") {
        None => Some(Vec::new()),
        Some(value) => fields
            .array(value, &identifiers_path)
            .and_then(|identifiers| {
                let read: Vec<Option<ExternalIdentifier>> = identifiers
                    .iter()
                    .enumerate()
                    .map(|(index, identifier)| {
                        let identifier_path = identifiers_path.index(index);
                        let identifier = fields.object(identifier, &identifier_path)?;
                        let id = read_required(fields, identifier, "id", &identifier_path, id_rule);
                        let type_path = identifier_path.key("type");
                        let id_type =
                            fields
                                .required(identifier, "type", &type_path)
                                .and_then(|value| {
                                    read_enum(
                                        fields,
                                        value,
                                        &type_path,
                                        ExternalIdentifierType::parse,
                                        ExternalIdentifierType::ALL,
                                    )
                                });
                        Some(ExternalIdentifier {
                            id: id?.to_owned(),
                            id_type: id_type?,
                        })
                    })
                    .collect();
                read.into_iter().collect()
            }),
    };
    let line_item_id = read_optional(fields, item, "lineItemId", path, text_rule);
    Some(CartItem {
        id: id?.to_owned(),
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
    let unit = read_required(fields, quantity, "unit", path, id_rule);
    let value = read_required(fields, quantity, "value", path, |value| {
        quantity_rule(value, unit)
    });
    Some(Quantity {
        value: value?.to_owned(),
        unit: unit?.to_owned(),
    })
}

/// A required string member that keeps `rule`.
fn read_required<'v>(
    fields: &mut Fields,
    object: &'v Map<String, Value>,
    key: &'static str,
    parent: &Path<'_>,
    rule: impl Fn(&str) -> Rule,
) -> Option<&'v str> {
    let path = parent.key(key);
    let value = fields.required(object, key, &path)?;
    read_checked(fields, value, &path, rule)
}

/// An optional member: `Some(None)` when absent (or `null`), `Some(Some(_))` when present and
/// valid, `None` when present but invalid (the error is recorded).
fn read_optional_with<'v, T>(
    fields: &mut Fields,
    object: &'v Map<String, Value>,
    key: &'static str,
    parent: &Path<'_>,
    read: impl FnOnce(&mut Fields, &'v Value, &Path<'_>) -> Option<T>,
) -> Option<Option<T>> {
    match Fields::optional(object, key) {
        None => Some(None),
        Some(value) => read(fields, value, &parent.key(key)).map(Some),
    }
}

/// An optional string member that keeps `rule`.
fn read_optional<'v>(
    fields: &mut Fields,
    object: &'v Map<String, Value>,
    key: &'static str,
    parent: &Path<'_>,
    rule: impl Fn(&str) -> Rule,
) -> Option<Option<&'v str>> {
    read_optional_with(fields, object, key, parent, |fields, value, path| {
        read_checked(fields, value, path, rule)
    })
}

fn read_checked<'v>(
    fields: &mut Fields,
    value: &'v Value,
    path: &Path<'_>,
    rule: impl Fn(&str) -> Rule,
) -> Option<&'v str> {
    let text = fields.string(value, path)?;
    match rule(text) {
        Ok(()) => Some(text),
        Err(reason) => {
            fields.error(path, reason);
            None
        }
    }
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

fn read_timestamp(fields: &mut Fields, value: &Value, path: &Path<'_>) -> Option<Timestamp> {
    let text = fields.string(value, path)?;
    match Timestamp::parse(text) {
        Ok(timestamp) => Some(timestamp),
        Err(_) => {
            fields.error(
                path,
                format!(
                    "'{}' is not an ISO-8601 UTC timestamp like 2024-03-22T17:09:39Z",
                    shorten(text)
                ),
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
    read_optional_with(fields, object, key, parent, |fields, value, path| {
        read_enum(fields, value, path, parse, accepted)
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> serde_json::Value {
        json!({
            "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
            "idempotentShoppingTripId": "trip-1",
            "storeId": "STORE-001",
            "shoppingTrip": {
                "startTime": "2024-03-22T17:00:00Z",
                "endTime": "2024-03-22T17:09:39.250Z",
                "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL",
                                 "scanResult": { "id": "shopper-secret-1", "type": "SHOPPER" } }]
            },
            "cartItems": [{ "id": "SKU-001", "type": "SKU", "quantity": { "value": "2", "unit": "each" } }],
            "shopperIdentity": { "id": "shopper-secret-2" },
            "shopperDeviceId": "device-secret-3",
            "paymentSource": { "id": "payment-secret-4" }
        })
    }

    fn fields_of(body: serde_json::Value) -> Vec<String> {
        match validate_create_purchases(body.to_string().as_bytes()) {
            Ok(_) => vec![],
            Err(error) => error.errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn unknown_fields_are_tolerated_everywhere() {
        let mut body = valid();
        body["newTopLevel"] = json!({ "x": 1 });
        body["shoppingTrip"]["newTrip"] = json!(true);
        body["shoppingTrip"]["authEvents"][0]["newEvent"] = json!("y");
        body["cartItems"][0]["newItem"] = json!([1, 2]);
        body["cartItems"][0]["quantity"]["precision"] = json!(2);
        assert_eq!(fields_of(body), Vec::<String>::new());
    }

    #[test]
    fn null_optional_fields_count_as_absent_and_null_required_ones_as_missing() {
        let mut body = valid();
        body["shopperIdentity"] = json!(null);
        body["paymentSource"] = json!(null);
        assert_eq!(fields_of(body.clone()), Vec::<String>::new());
        body["storeId"] = json!(null);
        assert_eq!(fields_of(body), vec!["storeId"]);
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let mut body = valid();
        body["idempotentShoppingTripId"] = json!("é".repeat(255));
        assert_eq!(fields_of(body.clone()), Vec::<String>::new());
        body["idempotentShoppingTripId"] = json!("é".repeat(256));
        assert_eq!(fields_of(body), vec!["idempotentShoppingTripId"]);
    }

    #[test]
    fn quantities_are_positive_plain_decimals_and_whole_for_count_units() {
        for (value, unit, ok) in [
            ("1.0", "unit", true),
            ("0.45", "lb", true),
            ("1.5", "lb", true),
            ("1.5", "EACH", false),
            ("0", "lb", false),
            ("1e2", "each", false),
            (" 1", "each", false),
            ("12345678901", "each", false),
        ] {
            let mut body = valid();
            body["cartItems"][0]["quantity"] = json!({ "value": value, "unit": unit });
            let fields = fields_of(body);
            assert_eq!(fields.is_empty(), ok, "{value} {unit}: {fields:?}");
        }
    }

    #[test]
    fn an_empty_cart_is_valid() {
        let mut body = valid();
        body["cartItems"] = json!([]);
        assert_eq!(fields_of(body), Vec::<String>::new());
    }

    #[test]
    fn debug_output_never_shows_payment_or_shopper_identifiers() {
        let request = validate_create_purchases(valid().to_string().as_bytes()).unwrap();
        let printed = format!("{request:?}");
        for secret in [
            "shopper-secret-1",
            "shopper-secret-2",
            "device-secret-3",
            "payment-secret-4",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        // ...but they are kept for the wire.
        let wire = serde_json::to_string(&request).unwrap();
        assert!(wire.contains("payment-secret-4"));
    }

    /// The fast path must never accept what the walk refuses, and both must build the same
    /// request.
    fn fast_path_agrees_with_the_walk(body: &[u8]) -> Result<(), String> {
        let fast = serde_json::from_slice::<ObjectOnly<CreatePurchasesRequest>>(body)
            .ok()
            .map(|ObjectOnly(request)| request)
            .filter(follows_field_rules);
        match (fast, walk(body)) {
            (Some(fast), Ok(walked)) if fast == walked => Ok(()),
            (Some(fast), Ok(walked)) => Err(format!("fast {fast:?} != walked {walked:?}")),
            (Some(_), Err(error)) => Err(format!(
                "fast path accepted what the walk refuses: {error:?}"
            )),
            (None, _) => Ok(()),
        }
    }

    fn fixture_bodies() -> Vec<(String, Vec<u8>)> {
        let dir = jwo_test_support::fixtures("create_purchases");
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| !path.ends_with("cases.json"))
            .map(|path| (path.display().to_string(), std::fs::read(path).unwrap()))
            .collect()
    }

    #[test]
    fn both_ways_agree_on_every_fixture() {
        for (name, body) in fixture_bodies() {
            fast_path_agrees_with_the_walk(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
            // And the public entry point answers as the walk does.
            assert_eq!(
                validate_create_purchases(&body).is_ok(),
                walk(&body).is_ok(),
                "{name}"
            );
        }
    }

    /// Every JSON pointer inside `value`.
    fn pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    let here = format!("{at}/{key}");
                    out.push(here.clone());
                    pointers(child, here, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    let here = format!("{at}/{index}");
                    out.push(here.clone());
                    pointers(child, here, out);
                }
            }
            _ => {}
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]
        #[test]
        fn both_ways_agree_on_mutated_bodies(fixture in 0usize..100, target in 0usize..1000, mutation in 0usize..12) {
            let bodies = fixture_bodies();
            let (_, body) = &bodies[fixture % bodies.len()];
            let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else { return Ok(()) };
            let mut all = Vec::new();
            pointers(&value, String::new(), &mut all);
            if all.is_empty() { return Ok(()) }
            let pointer = &all[target % all.len()];
            let replacement = match mutation {
                0 => json!(null), 1 => json!(""), 2 => json!("x".repeat(256)), 3 => json!(1),
                4 => json!(true), 5 => json!("NOT_AN_ENUM"), 6 => json!({}), 7 => json!([]),
                8 => json!("1.5"), 9 => json!("2024-03-22T16:00:00Z"), 10 => json!("line-1"),
                _ => {
                    // Remove the member or element.
                    let (parent, last) = pointer.rsplit_once('/').unwrap();
                    match value.pointer_mut(parent).unwrap() {
                        serde_json::Value::Object(map) => { map.remove(last); }
                        serde_json::Value::Array(items) => { items.remove(last.parse::<usize>().unwrap()); }
                        _ => {}
                    }
                    let body = serde_json::to_vec(&value).unwrap();
                    proptest::prop_assert!(fast_path_agrees_with_the_walk(&body).is_ok(), "{:?}", fast_path_agrees_with_the_walk(&body));
                    return Ok(());
                }
            };
            *value.pointer_mut(pointer).unwrap() = replacement;
            let body = serde_json::to_vec(&value).unwrap();
            let agreed = fast_path_agrees_with_the_walk(&body);
            proptest::prop_assert!(agreed.is_ok(), "{} := mutation {}: {:?}", pointer, mutation, agreed);
        }
    }

    #[test]
    fn duplicate_keys_take_the_last_value_either_way() {
        let body = br#"{"storeId": "BAD STORE", "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "idempotentShoppingTripId": "t", "storeId": "S",
            "shoppingTrip": {"startTime": "2024-03-22T17:00:00Z", "endTime": "2024-03-22T17:09:39Z", "authEvents": []}, "cartItems": []}"#;
        assert_eq!(validate_create_purchases(body).unwrap().store_id, "S");
    }

    #[test]
    fn enum_errors_list_the_accepted_values() {
        let mut body = valid();
        body["cartItems"][0]["type"] = json!("UPC");
        let error = validate_create_purchases(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(error.errors[0].reason, "'UPC' is not one of SKU, SCANCODE");
    }
}
