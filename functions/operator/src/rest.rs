//! The operator service over HTTP, one shape for the operator Lambda and `jwo serve`:
//!
//! | request | operation |
//! |---|---|
//! | `GET /v1/purchases/{purchaseId}` | get |
//! | `GET /v1/purchases?storeId=…&idempotentShoppingTripId=…` | get, by the shopping trip |
//! | `GET /v1/purchases?state=Open[&storeId][&constraintId][&limit][&nextToken]` | list |
//! | `GET /v1/purchases?storeId=…&since=…[&until][&state][&constraintId][&limit][&nextToken]` | a store's history |
//! | `PATCH /v1/purchases/{purchaseId}` `{"reprice": true, "lineOverrides": […], "merchantMetadata": {…}}` | update |
//! | `POST /v1/purchases/{purchaseId}/complete` `{}` \| `{"resubmit": true}` \| `{"orderId": "…"}`, with `orderTotals.priceTotal` to check | complete |
//! | `POST /v1/purchases/{purchaseId}/cancel` `{"reason": "…"}` | cancel |
//! | `POST /v1/price` (a Create Purchases body) | what-if pricing, nothing stored |
//!
//! (`POST /graphql` is the same service as GraphQL: [`crate::graphql`].)
//!
//! Answers: 200 with the purchase (or the page); 400 `{message, errors[{field, reason}]}`;
//! 404; 405; 409 `{message, state, code, reason}`; 503 when the store cannot be reached (502
//! from an adapter that cannot reach a connector). Nothing changes on any error.

use jwo_domain::contract::ErrorBody;
use jwo_domain::json::FieldError;
use jwo_domain::money::{Money, parse_money_amount};
use jwo_domain::ports::{Alerts, CheckoutService, CurrentPriceBook, PurchaseStore};
use jwo_domain::pricing::{ConstraintKind, MAX_BOOK_AMOUNT};
use jwo_domain::purchase::{MerchantMetadata, PurchaseState};
use serde_json::{Map, Value, json};

use crate::{Complete, LineOverride, LineRef, ListFilter, Operator, OperatorError, Update, Window};

/// The collection every purchase route is under.
pub const PURCHASES_PATH: &str = "/v1/purchases";
/// What-if pricing: a Create Purchases body priced with the current book; nothing is stored.
pub const PRICE_PATH: &str = "/v1/price";
/// Every route of the operator Lambda, as API Gateway must expose them (the template test
/// checks each is a method with IAM auth, integrated with the operator function, and allowed
/// to the operator roles only).
pub const ROUTES: [(&str, &str); 7] = [
    ("GET", "/v1/purchases"),
    ("GET", "/v1/purchases/{purchaseId}"),
    ("PATCH", "/v1/purchases/{purchaseId}"),
    ("POST", "/v1/purchases/{purchaseId}/complete"),
    ("POST", "/v1/purchases/{purchaseId}/cancel"),
    ("POST", "/v1/price"),
    ("POST", "/graphql"),
];
/// A cart to price may be as large as Create Purchases takes.
pub const MAX_CART_BYTES: usize = 1024 * 1024;
/// The longest `merchantReferenceId` and `customInformation` (the Checkout Session's limits).
pub const MAX_REFERENCE_CHARS: usize = 256;
pub const MAX_CUSTOM_INFORMATION_CHARS: usize = 4096;
/// Bodies above this are refused: an operator's request is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A 400 names at most this many problems.
pub const MAX_ERRORS: usize = 20;
/// Line prices one update may set.
pub const MAX_LINE_OVERRIDES: usize = 100;
/// The longest `reason` (cancel, line override) and `taxCode`.
pub const MAX_REASON_CHARS: usize = 1000;
pub const MAX_TAX_CODE_CHARS: usize = 64;

/// The parts of an HTTP request the service needs, whatever carried it.
#[derive(Debug, Clone, Copy)]
pub struct OperatorRequest<'a> {
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
    /// Who asks: the caller's IAM ARN in AWS, the local user under `jwo serve`. Recorded in
    /// the purchase's history with every change.
    pub actor: &'a str,
}

/// A status and a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl OperatorResponse {
    fn json(status: u16, body: &impl serde::Serialize) -> OperatorResponse {
        OperatorResponse {
            status,
            body: serde_json::to_vec(body).expect("answers serialize"),
        }
    }

    /// The body as JSON (for tests and the `jwo` command).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// The operator routes as the MCP and GraphQL adapters call them: the REST shape, answered in
/// this process by the service, or over HTTP by a deployed connector. The adapters translate
/// and nothing more, so every rule (validation, state, lease) is the service's.
pub trait OperatorRoutes: Send + Sync + 'static {
    fn call<'a>(&'a self, request: OperatorRequest<'a>) -> RouteAnswer<'a>;
}

/// The answer of an [`OperatorRoutes::call`]; a transport failure is an answer too (502).
pub type RouteAnswer<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = OperatorResponse> + Send + 'a>>;

impl<S: PurchaseStore, A: Alerts, C: CheckoutService, B: CurrentPriceBook> OperatorRoutes
    for Operator<S, A, C, B>
{
    fn call<'a>(&'a self, request: OperatorRequest<'a>) -> RouteAnswer<'a> {
        Box::pin(self.handle(request))
    }
}

impl<R: OperatorRoutes + ?Sized> OperatorRoutes for std::sync::Arc<R> {
    fn call<'a>(&'a self, request: OperatorRequest<'a>) -> RouteAnswer<'a> {
        (**self).call(request)
    }
}

/// Whether `path` is one of the operator's routes.
pub fn is_operator_path(path: &str) -> bool {
    path == PURCHASES_PATH || path.starts_with("/v1/purchases/") || path == PRICE_PATH
}

impl<S: PurchaseStore, A: Alerts, C: CheckoutService, B: CurrentPriceBook> Operator<S, A, C, B> {
    /// Answers one request. Never panics on input; every failure is an answer.
    pub async fn handle(&self, request: OperatorRequest<'_>) -> OperatorResponse {
        match self.route(request).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::info!(error = %error, method = request.method, path = request.path, "operator request refused");
                error_response(error)
            }
        }
    }

    async fn route(&self, request: OperatorRequest<'_>) -> Result<OperatorResponse, OperatorError> {
        let method = request.method.to_ascii_uppercase();
        let limit = if request.path == PRICE_PATH {
            MAX_CART_BYTES
        } else {
            MAX_BODY_BYTES
        };
        if request.body.len() > limit {
            return Err(OperatorError::bad_request(
                "body",
                format!("{} bytes; at most {limit}", request.body.len()),
            ));
        }
        if request.path == PRICE_PATH {
            return match method.as_str() {
                "POST" => Ok(OperatorResponse::json(
                    200,
                    &self.price_cart(request.body).await?,
                )),
                _ => Ok(not_allowed(&request)),
            };
        }
        let rest = request
            .path
            .trim_end_matches('/')
            .strip_prefix(PURCHASES_PATH)
            .ok_or_else(|| OperatorError::NotFound(request.path.to_owned()))?;
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let query = Query::parse(request.query)?;
        match (method.as_str(), segments.as_slice()) {
            ("GET", []) => self.get_collection(&query).await,
            ("GET", [id]) => Ok(OperatorResponse::json(200, &self.get(id).await?)),
            ("PATCH", [id]) => {
                let update = parse_update(request.body)?;
                Ok(OperatorResponse::json(
                    200,
                    &self.update(id, &update, request.actor).await?,
                ))
            }
            ("POST", [id, "complete"]) => {
                let how = parse_complete(request.body)?;
                Ok(OperatorResponse::json(
                    200,
                    &self.complete(id, &how, request.actor).await?,
                ))
            }
            ("POST", [id, "cancel"]) => {
                let (reason, not_charged) = parse_cancel(request.body)?;
                Ok(OperatorResponse::json(
                    200,
                    &self.cancel(id, &reason, not_charged, request.actor).await?,
                ))
            }
            (_, [] | [_] | [_, "complete" | "cancel"]) => Ok(not_allowed(&request)),
            _ => Err(OperatorError::NotFound(request.path.to_owned())),
        }
    }

    async fn get_collection(&self, query: &Query) -> Result<OperatorResponse, OperatorError> {
        if let Some((unknown, _)) = query
            .0
            .iter()
            .find(|(name, _)| !LIST_PARAMETERS.contains(&name.as_str()))
        {
            return Err(OperatorError::bad_request(
                unknown,
                format!(
                    "not a parameter of this listing; these are: {}",
                    LIST_PARAMETERS.join(", ")
                ),
            ));
        }
        if let Some((empty, _)) = query.0.iter().find(|(_, value)| value.is_empty()) {
            return Err(OperatorError::bad_request(empty, "given, but empty"));
        }
        if let Some(trip) = query.get("idempotentShoppingTripId") {
            let store = query.get("storeId").ok_or_else(|| {
                OperatorError::bad_request(
                    "storeId",
                    "required with idempotentShoppingTripId: a trip id is unique within its store",
                )
            })?;
            return Ok(OperatorResponse::json(200, &self.find(store, trip).await?));
        }
        let time = |name: &str| {
            query
                .get(name)
                .map(|text| {
                    chrono::DateTime::parse_from_rfc3339(text)
                        .map(|at| at.with_timezone(&chrono::Utc))
                        .map_err(|_| {
                            OperatorError::bad_request(
                                name,
                                format!("'{text}' is not a UTC ISO 8601 time such as 2026-12-01T00:00:00Z"),
                            )
                        })
                })
                .transpose()
        };
        let window = match (time("since")?, time("until")?) {
            (Some(since), until) => Some(Window { since, until }),
            (None, Some(_)) => {
                return Err(OperatorError::bad_request("since", "required with until"));
            }
            (None, None) => None,
        };
        let state = match (query.get("state"), window) {
            (Some(text), _) => Some(PurchaseState::parse(text).ok_or_else(|| {
                OperatorError::bad_request(
                    "state",
                    format!("'{text}' is not a state: Open, Completed or Canceled"),
                )
            })?),
            (None, Some(_)) => None,
            (None, None) => {
                return Err(OperatorError::bad_request(
                    "state",
                    "required: state=Open lists what is open; storeId with since (and until) lists a store's history; storeId with idempotentShoppingTripId finds one purchase",
                ));
            }
        };
        if window.is_none() && state != Some(PurchaseState::Open) {
            return Err(OperatorError::bad_request(
                "state",
                "only Open purchases are listed without a window; give storeId and since for a store's Completed or Canceled purchases",
            ));
        }
        let constraint = query
            .get("constraintId")
            .map(|id| {
                ConstraintKind::parse(id).ok_or_else(|| {
                    OperatorError::bad_request(
                        "constraintId",
                        format!("'{id}' is not a constraint"),
                    )
                })
            })
            .transpose()?;
        let limit = match query.get("limit") {
            None => 20,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=crate::MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    OperatorError::bad_request(
                        "limit",
                        format!(
                            "'{text}' is not a whole number from 1 to {}",
                            crate::MAX_PAGE
                        ),
                    )
                })?,
        };
        let filter = ListFilter {
            store_id: query.get("storeId").map(str::to_owned),
            constraint,
            state,
            window,
            limit,
            next_token: query.get("nextToken").map(str::to_owned),
        };
        Ok(OperatorResponse::json(200, &self.list(&filter).await?))
    }
}

fn not_allowed(request: &OperatorRequest<'_>) -> OperatorResponse {
    OperatorResponse::json(
        405,
        &ErrorBody {
            message: format!(
                "{} is not allowed on {}; see the operator routes in the README",
                request.method, request.path
            ),
            errors: Vec::new(),
        },
    )
}

fn error_response(error: OperatorError) -> OperatorResponse {
    match error {
        OperatorError::BadRequest { message, errors } => {
            OperatorResponse::json(400, &ErrorBody { message, errors })
        }
        OperatorError::NotFound(what) => OperatorResponse::json(
            404,
            &ErrorBody {
                message: format!("no such purchase or route: {what}"),
                errors: Vec::new(),
            },
        ),
        OperatorError::Conflict {
            state,
            code,
            reason,
        } => OperatorResponse::json(
            409,
            &json!({ "message": reason, "state": state, "code": code, "reason": reason }),
        ),
        OperatorError::Store(error) => OperatorResponse::json(
            503,
            &ErrorBody {
                message: format!(
                    "the purchase store cannot be reached; nothing was changed: {error}"
                ),
                errors: Vec::new(),
            },
        ),
    }
}

/// The query parameters of `GET /v1/purchases`.
const LIST_PARAMETERS: [&str; 8] = [
    "state",
    "storeId",
    "constraintId",
    "since",
    "until",
    "limit",
    "nextToken",
    "idempotentShoppingTripId",
];

/// A query string's parameters, percent-decoded; a parameter given twice is refused.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Result<Query, OperatorError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name);
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(OperatorError::bad_request(&name, "given more than once"));
            }
            pairs.push((name, decode(value)));
        }
        Ok(Query(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Percent-encodes a path segment or query value: everything but the unreserved characters
/// (the inverse of the decoding the routes apply).
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// `%XX` and `+` decoded; anything malformed is kept as it is.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| char::from(b).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push(u8::try_from(high * 16 + low).expect("two hex digits"));
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The body as a JSON object (an empty body is `{}`), every field not in `known` refused.
fn object(body: &[u8], known: &[&str]) -> Result<Map<String, Value>, OperatorError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| OperatorError::bad_request("body", format!("not JSON: {error}")))?;
    let Value::Object(map) = value else {
        return Err(OperatorError::bad_request("body", "must be a JSON object"));
    };
    let unknown: Vec<FieldError> = map
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .map(|key| FieldError {
            field: key.clone(),
            reason: format!(
                "not a field of this request; the fields are {}",
                known.join(", ")
            ),
        })
        .collect();
    if !unknown.is_empty() {
        return Err(OperatorError::BadRequest {
            message: format!("{} unknown field(s)", unknown.len()),
            errors: unknown,
        });
    }
    Ok(map)
}

fn parse_update(body: &[u8]) -> Result<Update, OperatorError> {
    let map = object(body, &["reprice", "merchantMetadata", "lineOverrides"])?;
    let line_overrides = match map.get("lineOverrides") {
        None => Vec::new(),
        Some(value) => parse_line_overrides(value)?,
    };
    let reprice = match map.get("reprice") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => {
            return Err(OperatorError::bad_request(
                "reprice",
                "must be true or false",
            ));
        }
    };
    let merchant_metadata = match map.get("merchantMetadata") {
        None => None,
        Some(value) => Some(
            serde_json::from_value::<MerchantMetadata>(value.clone()).map_err(|error| {
                OperatorError::bad_request(
                    "merchantMetadata",
                    format!(
                        "{error}; its fields are merchantReferenceId and customInformation, strings"
                    ),
                )
            })?,
        ),
    };
    // Bounded, so no run of updates can grow a purchase past what the store writes.
    if let Some(metadata) = &merchant_metadata {
        for (field, value, max) in [
            (
                "merchantMetadata.merchantReferenceId",
                &metadata.merchant_reference_id,
                MAX_REFERENCE_CHARS,
            ),
            (
                "merchantMetadata.customInformation",
                &metadata.custom_information,
                MAX_CUSTOM_INFORMATION_CHARS,
            ),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                return Err(OperatorError::bad_request(
                    field,
                    format!("at most {max} characters"),
                ));
            }
        }
    }
    Ok(Update {
        reprice,
        line_overrides,
        merchant_metadata,
    })
}

/// `[{"line": 1 | "lineItemId": "…", "unitPrice": "2.49", "taxCode": "STD", "reason": "…"}]`,
/// every problem named.
fn parse_line_overrides(value: &Value) -> Result<Vec<LineOverride>, OperatorError> {
    let Value::Array(entries) = value else {
        return Err(OperatorError::bad_request(
            "lineOverrides",
            "must be a list of {line or lineItemId, unitPrice, taxCode, reason}",
        ));
    };
    if entries.is_empty() || entries.len() > MAX_LINE_OVERRIDES {
        return Err(OperatorError::bad_request(
            "lineOverrides",
            format!("give 1 to {MAX_LINE_OVERRIDES} line prices"),
        ));
    }
    let known = ["line", "lineItemId", "unitPrice", "taxCode", "reason"];
    let mut errors = Vec::new();
    let mut overrides = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let field = |name: &str| format!("lineOverrides[{index}].{name}");
        let mut problem = |name: &str, reason: String| {
            errors.push(FieldError {
                field: field(name),
                reason,
            })
        };
        let Value::Object(entry) = entry else {
            problem("", "must be an object".into());
            continue;
        };
        for key in entry.keys().filter(|key| !known.contains(&key.as_str())) {
            problem(
                key,
                format!(
                    "not a field of a line price; the fields are {}",
                    known.join(", ")
                ),
            );
        }
        let line = match (entry.get("line"), entry.get("lineItemId")) {
            (Some(_), Some(_)) => {
                problem("line", "give line or lineItemId, not both".into());
                None
            }
            (Some(line), None) => match line.as_u64().and_then(|n| usize::try_from(n).ok()) {
                Some(line) => Some(LineRef::Position(line)),
                None => {
                    problem(
                        "line",
                        "must be the line's position, a whole number from 0".into(),
                    );
                    None
                }
            },
            (None, Some(Value::String(id))) if !id.is_empty() => {
                Some(LineRef::LineItemId(id.clone()))
            }
            (None, Some(_)) => {
                problem(
                    "lineItemId",
                    "must be the cart item's id, a non-empty string".into(),
                );
                None
            }
            (None, None) => {
                problem(
                    "line",
                    "required: the line's position (or lineItemId)".into(),
                );
                None
            }
        };
        let unit_price = match entry.get("unitPrice") {
            Some(Value::String(text)) => match parse_money_amount(text) {
                Ok(price) if price.is_sign_negative() => {
                    problem("unitPrice", format!("'{text}' is negative"));
                    None
                }
                Ok(price) if price > MAX_BOOK_AMOUNT => {
                    problem(
                        "unitPrice",
                        format!(
                            "'{text}' is more than any price book may charge ({MAX_BOOK_AMOUNT})"
                        ),
                    );
                    None
                }
                Ok(_) => Some(text.clone()),
                Err(reason) => {
                    problem("unitPrice", reason);
                    None
                }
            },
            _ => {
                problem(
                    "unitPrice",
                    "required: a string with exactly two decimals, like \"2.49\"".into(),
                );
                None
            }
        };
        let text = |name: &str, max: usize, problem: &mut dyn FnMut(&str, String)| match entry
            .get(name)
        {
            Some(Value::String(text)) if !text.trim().is_empty() && text.chars().count() <= max => {
                Some(text.trim().to_owned())
            }
            _ => {
                problem(
                    name,
                    format!("required: a non-empty string of at most {max} characters"),
                );
                None
            }
        };
        let tax_code = text("taxCode", MAX_TAX_CODE_CHARS, &mut problem);
        let reason = text("reason", MAX_REASON_CHARS, &mut problem);
        if let (Some(line), Some(unit_price), Some(tax_code), Some(reason)) =
            (line, unit_price, tax_code, reason)
        {
            overrides.push(LineOverride {
                line,
                unit_price,
                tax_code,
                reason,
            });
        }
    }
    if errors.is_empty() {
        Ok(overrides)
    } else {
        let count = errors.len();
        errors.truncate(MAX_ERRORS);
        Err(OperatorError::BadRequest {
            message: format!("{count} problem(s) with lineOverrides"),
            errors,
        })
    }
}

/// `orderTotals.priceTotal` as GET shows it (`{"amount": "12.34", "currencyCode": "USD"}`):
/// the total the person approved.
fn parse_expected_total(map: &Map<String, Value>) -> Result<Option<Money>, OperatorError> {
    let Some(totals) = map.get("orderTotals") else {
        return Ok(None);
    };
    let Some(total) = totals.as_object().and_then(|totals| {
        (totals.len() == 1)
            .then(|| totals.get("priceTotal"))
            .flatten()
    }) else {
        return Err(OperatorError::bad_request(
            "orderTotals",
            "must be {\"priceTotal\": {\"amount\", \"currencyCode\"}}, the total the purchase shows",
        ));
    };
    serde_json::from_value::<Money>(total.clone())
        .map(Some)
        .map_err(|error| OperatorError::bad_request("orderTotals.priceTotal", error.to_string()))
}

fn parse_complete(body: &[u8]) -> Result<Complete, OperatorError> {
    let map = object(body, &["orderId", "resubmit", "orderTotals"])?;
    let expected_total = parse_expected_total(&map)?;
    if expected_total.is_some() && map.contains_key("orderId") {
        return Err(OperatorError::bad_request(
            "orderTotals",
            "nothing is submitted with orderId, so there is no total to check",
        ));
    }
    match (map.get("orderId"), map.get("resubmit")) {
        (Some(_), Some(_)) => Err(OperatorError::bad_request(
            "orderId",
            "give orderId (a charge confirmed with Amazon) or resubmit, not both",
        )),
        (Some(Value::String(order_id)), None) if !order_id.trim().is_empty() => {
            Ok(Complete::Confirmed {
                order_id: order_id.trim().to_owned(),
            })
        }
        (Some(_), None) => Err(OperatorError::bad_request(
            "orderId",
            "must be the non-empty orderId Amazon confirmed",
        )),
        (None, Some(Value::Bool(true))) => Ok(Complete::Resubmit { expected_total }),
        (None, Some(Value::Bool(false)) | None) => Ok(Complete::Submit { expected_total }),
        (None, Some(_)) => Err(OperatorError::bad_request(
            "resubmit",
            "must be true or false",
        )),
    }
}

/// The reason, and whether Amazon confirmed it did not charge the trip (`notCharged`).
fn parse_cancel(body: &[u8]) -> Result<(String, bool), OperatorError> {
    let map = object(body, &["reason", "notCharged"])?;
    let not_charged = match map.get("notCharged") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => {
            return Err(OperatorError::bad_request(
                "notCharged",
                "must be true or false",
            ));
        }
    };
    let reason = match map.get("reason") {
        Some(Value::String(reason))
            if !reason.trim().is_empty() && reason.chars().count() <= MAX_REASON_CHARS =>
        {
            Ok(reason.trim().to_owned())
        }
        Some(Value::String(reason)) if reason.chars().count() > MAX_REASON_CHARS => Err(
            OperatorError::bad_request("reason", format!("at most {MAX_REASON_CHARS} characters")),
        ),
        _ => Err(OperatorError::bad_request(
            "reason",
            "required: say why the purchase is canceled (it is kept in its history)",
        )),
    }?;
    Ok((reason, not_charged))
}
