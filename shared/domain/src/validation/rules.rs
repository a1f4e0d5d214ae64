//! The field rules of a Create Purchases body, shared by the fast path and the walk. Each says
//! what is wrong, or nothing.

use rust_decimal::Decimal;

use crate::contract::create_purchases::{CartItem, CreatePurchasesRequest};
use crate::contract::{MAX_ID_CHARS, MAX_QUANTITY_CHARS, Timestamp};
use crate::money::parse_plain_decimal;

use super::is_count_unit;

pub(super) type Rule = Result<(), String>;

pub(super) fn length_rule(text: &str, max_chars: usize) -> Rule {
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
pub(super) fn text_rule(text: &str) -> Rule {
    length_rule(text, MAX_ID_CHARS)
}

/// Required identifiers: at most 255 characters and not empty.
pub(super) fn id_rule(text: &str) -> Rule {
    text_rule(text)?;
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(())
}

/// A hyphenated UUID (`a1b2c3d4-e5f6-7890-abcd-ef1234567890`).
pub(super) fn uuid_rule(text: &str) -> Rule {
    text_rule(text)?;
    if text.len() == 36 && uuid::Uuid::try_parse(text).is_ok() {
        return Ok(());
    }
    Err(format!(
        "'{}' is not a UUID like a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        shorten(text)
    ))
}

pub(super) fn store_id_rule(text: &str) -> Rule {
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
pub(super) fn quantity_rule(value: &str, unit: Option<&str>) -> Rule {
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

pub(super) fn trip_times_rule(start: &Timestamp, end: &Timestamp) -> Rule {
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
pub(super) fn follows_field_rules(request: &CreatePurchasesRequest) -> bool {
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
pub(super) fn line_item_ids_are_unique(items: &[CartItem]) -> bool {
    let mut ids: Vec<&str> = items
        .iter()
        .filter_map(|item| item.line_item_id.as_deref())
        .collect();
    ids.sort_unstable();
    ids.windows(2).all(|pair| pair[0] != pair[1])
}

/// Echoes a bad value in an error without echoing a 10 kB one.
pub(super) fn shorten(text: &str) -> String {
    const SHOWN: usize = 40;
    if text.chars().count() <= SHOWN {
        text.to_owned()
    } else {
        let head: String = text.chars().take(SHOWN).collect();
        format!("{head}…")
    }
}
