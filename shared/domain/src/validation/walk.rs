//! The walk: the body read as untyped JSON field by field, naming every problem at once.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::contract::create_purchases::{
    AuthEvent, AuthLocation, CartItem, CartItemType, CreatePurchasesRequest, ExternalIdentifier,
    ExternalIdentifierType, PayloadType, PaymentSource, Quantity, ScanResult, ScanResultType,
    ShopperIdentity, ShoppingTrip,
};
use crate::contract::{Redacted, Timestamp};
use crate::json::FieldError;
use crate::json::fields::{Fields, Path};

use super::InvalidRequest;
use super::rules::*;

pub(super) fn walk(body: &[u8]) -> Result<CreatePurchasesRequest, InvalidRequest> {
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
        id: id?.into(),
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
        value: value?.into(),
        unit: unit?.into(),
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
