//! The operator routes as MCP tools (the official Rust SDK, `rmcp`): one tool per operation,
//! with hints saying which are read-only, idempotent or destructive. Served over stdio by
//! `jwo mcp --endpoint URL [--sign]` and over streamable HTTP at `/mcp` on `jwo serve`.
//!
//! An adapter with no logic of its own: each tool call becomes the REST request it stands for
//! ([`OperatorRoutes`]: the service in this process, or a connector over HTTP), so validation
//! (naming the field), states and leases are the service's. Arguments are passed on as they
//! came, so a bad one is a tool error naming its field, never a protocol error.

use std::sync::Arc;

use operator::rest::{
    OperatorRequest, OperatorResponse, OperatorRoutes, RouteAnswer, percent_encode,
};
use rmcp::handler::server::common::schema_for_type;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use schemars::JsonSchema;
use serde_json::{Map, Value, json};

use crate::purchases_endpoint::PurchasesEndpoint;

/// The six tools over `routes`, for `actor` (recorded in each purchase's history; a connector
/// over HTTP records its own caller instead).
#[derive(Clone)]
pub struct OperatorTools {
    routes: Arc<dyn OperatorRoutes>,
    actor: String,
}

impl OperatorTools {
    pub fn new(routes: Arc<dyn OperatorRoutes>, actor: impl Into<String>) -> OperatorTools {
        OperatorTools {
            routes,
            actor: actor.into(),
        }
    }
}

/// A connector's operator routes over HTTP (signed with `--sign`).
pub struct RemoteRoutes(pub PurchasesEndpoint);

impl OperatorRoutes for RemoteRoutes {
    fn call<'a>(&'a self, request: OperatorRequest<'a>) -> RouteAnswer<'a> {
        Box::pin(async move {
            let path = match request.query {
                Some(query) if !query.is_empty() => format!("{}?{query}", request.path),
                _ => request.path.to_owned(),
            };
            let method =
                http::Method::from_bytes(request.method.as_bytes()).unwrap_or(http::Method::GET);
            match self.0.call(method, &path, request.body).await {
                Ok((status, body)) => OperatorResponse { status, body },
                Err(reason) => OperatorResponse {
                    status: 502,
                    body: serde_json::to_vec(
                        &json!({ "message": format!("the connector cannot be reached: {reason}") }),
                    )
                    .expect("JSON"),
                },
            }
        })
    }
}

/// `get_purchase`: by id, or by store and shopping trip.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // A schema: the arguments are passed on as they came.
struct GetPurchase {
    /// The purchase id (a UUID); or give storeId and idempotentShoppingTripId.
    purchase_id: Option<String>,
    /// The store of the shopping trip.
    store_id: Option<String>,
    /// Amazon's shopping trip id, unique within its store.
    idempotent_shopping_trip_id: Option<String>,
}

/// `list_purchases`: what is Open (held back or on its way), or with `since` a store's
/// history.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct ListPurchases {
    /// Open (the default without since), Completed or Canceled; with since, any state unless
    /// given.
    state: Option<String>,
    /// Only this store's purchases; required with since.
    store_id: Option<String>,
    /// Only those held by this constraint: UnknownSku, MissingTaxRate, NoPriceBook,
    /// CheckoutOutcomeUnknown, CheckoutRefused, ...
    constraint_id: Option<String>,
    /// A store's purchases created at or after this UTC time (2026-12-01T00:00:00Z).
    since: Option<String>,
    /// ... and before this one (default: now).
    until: Option<String>,
    /// At most this many (1 to 100, default 20).
    limit: Option<u32>,
    /// The nextToken of the page before.
    next_token: Option<String>,
}

/// One line priced by a person.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct LineOverride {
    /// The cart line's position (0-based); or give lineItemId.
    line: Option<u32>,
    /// The cart item's id, when it is on one line only.
    line_item_id: Option<String>,
    /// The unit price, a string with two decimals ("2.49").
    unit_price: String,
    /// A tax code with a rate at the store ("STD").
    tax_code: String,
    /// Why (kept in the purchase's history).
    reason: String,
}

/// The retailer's own references.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct MerchantMetadata {
    /// At most 256 characters.
    merchant_reference_id: Option<String>,
    /// At most 4096 characters.
    custom_information: Option<String>,
}

/// `update_purchase`: only while Open and not being checked out.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct UpdatePurchase {
    /// The purchase id.
    purchase_id: String,
    /// Price again from the current price book (after a missing SKU was imported).
    reprice: Option<bool>,
    /// Lines a person prices, when the book cannot.
    line_overrides: Option<Vec<LineOverride>>,
    /// The retailer's own references to set.
    merchant_metadata: Option<MerchantMetadata>,
}

/// An amount and its currency.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Money {
    /// Two decimals, as a string ("12.34").
    amount: String,
    /// ISO 4217 ("USD").
    currency_code: String,
}

/// `complete_purchase`: submit now, or settle one held for reconciliation.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CompletePurchase {
    /// The purchase id.
    purchase_id: String,
    /// Submit only if its priceTotal is this (the total you read); otherwise nothing is sent.
    expected_total: Option<Money>,
    /// For a purchase held for reconciliation: the orderId Amazon confirmed (nothing is sent).
    order_id: Option<String>,
    /// For a purchase held for reconciliation: submit it again.
    resubmit: Option<bool>,
}

/// `cancel_purchase`: never while being checked out, never once Completed.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CancelPurchase {
    /// The purchase id.
    purchase_id: String,
    /// Why (kept in the purchase's history).
    reason: String,
    /// Required for a purchase Amazon may have charged: true only once Amazon confirmed it
    /// did not.
    not_charged: Option<bool>,
}

/// `price_cart`: what a cart would be charged; nothing is stored.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PriceCart {
    /// A Create Purchases body (storeId, idempotentShoppingTripId, shoppingTrip, cartItems ...).
    cart: Map<String, Value>,
}

/// The tools, their hints (read-only, destructive, idempotent, open-world) and argument
/// schemas: worked out once, not for every call.
pub fn tools() -> &'static [Tool] {
    static TOOLS: std::sync::LazyLock<Vec<Tool>> = std::sync::LazyLock::new(describe_tools);
    &TOOLS
}

fn describe_tools() -> Vec<Tool> {
    let hints = |read_only: bool, destructive: bool, idempotent: bool| {
        ToolAnnotations::new()
            .read_only(read_only)
            .destructive(destructive)
            .idempotent(idempotent)
            .open_world(false)
    };
    vec![
        Tool::new(
            "get_purchase",
            "One purchase as a Checkout Session: its state and why, what blocks it (constraints), its totals, each priced line with how it was priced, the cart, and its history.",
            schema_for_type::<GetPurchase>(),
        )
        .with_annotations(hints(true, false, true)),
        Tool::new(
            "list_purchases",
            "The purchases that are Open (what is held back and why, or on its way to checkout), filtered by store and constraint; or with since, a store's history in any state. Page with nextToken.",
            schema_for_type::<ListPurchases>(),
        )
        .with_annotations(hints(true, false, true)),
        Tool::new(
            "update_purchase",
            "Change an Open purchase nobody is checking out: price it again from the current price book, price lines yourself, or set the retailer's references. The same change twice acts once. A purchase left with no constraint is submitted by the sweep unless completed first.",
            schema_for_type::<UpdatePurchase>(),
        )
        .with_annotations(hints(false, false, true)),
        Tool::new(
            "complete_purchase",
            "Submit a purchase to Amazon's Checkout Service now and answer the outcome (at the expected total only, when given); or for one held for reconciliation, record the orderId Amazon confirmed, or submit it again.",
            schema_for_type::<CompletePurchase>(),
        )
        // It reaches Amazon's Checkout Service: the one tool with effects outside the connector.
        .with_annotations(hints(false, false, false).open_world(true)),
        Tool::new(
            "cancel_purchase",
            "Cancel an Open purchase (Canceled, OperatorCanceled): nothing will be charged for it. Refused while it is being checked out or once Completed; one Amazon may have charged needs notCharged.",
            schema_for_type::<CancelPurchase>(),
        )
        .with_annotations(hints(false, true, true)),
        Tool::new(
            "price_cart",
            "Price a Create Purchases body with the current price book and explain every amount (what-if); nothing is stored or sent.",
            schema_for_type::<PriceCart>(),
        )
        .with_annotations(hints(true, false, true)),
    ]
}

/// A REST request: method, path, query, JSON body.
type RestCall = (&'static str, String, Option<String>, Option<Value>);

/// A tool call as the REST request it stands for, or the argument that is wrong (field,
/// reason).
fn request_of(tool: &str, mut arguments: Map<String, Value>) -> Result<RestCall, (String, String)> {
    let bad = |field: &str, reason: &str| (field.to_owned(), reason.to_owned());
    // An optional argument sent as null (the schemas allow it) is an argument not given.
    arguments.retain(|_, value| !value.is_null());
    let take_id = |arguments: &mut Map<String, Value>| match arguments.remove("purchaseId") {
        Some(Value::String(id)) if !id.is_empty() => Ok(percent_encode(&id)),
        Some(_) => Err(bad("purchaseId", "must be a non-empty string")),
        None => Err(bad("purchaseId", "required")),
    };
    Ok(match tool {
        "get_purchase" => {
            if arguments.contains_key("purchaseId") {
                let id = take_id(&mut arguments)?;
                if let Some(extra) = arguments.keys().next() {
                    return Err(bad(extra, "not an argument with purchaseId"));
                }
                ("GET", format!("/v1/purchases/{id}"), None, None)
            } else {
                let query = query_of(&arguments, false)?;
                if !(arguments.contains_key("storeId")
                    && arguments.contains_key("idempotentShoppingTripId"))
                {
                    return Err(bad(
                        "purchaseId",
                        "give purchaseId, or storeId with idempotentShoppingTripId",
                    ));
                }
                ("GET", "/v1/purchases".into(), Some(query), None)
            }
        }
        "list_purchases" => {
            // What an assistant asks for most: what is held back.
            if !arguments.contains_key("state") && !arguments.contains_key("since") {
                arguments.insert("state".into(), json!("Open"));
            }
            (
                "GET",
                "/v1/purchases".into(),
                Some(query_of(&arguments, true)?),
                None,
            )
        }
        "update_purchase" => {
            let id = take_id(&mut arguments)?;
            (
                "PATCH",
                format!("/v1/purchases/{id}"),
                None,
                Some(Value::Object(arguments)),
            )
        }
        "complete_purchase" => {
            let id = take_id(&mut arguments)?;
            if let Some(total) = arguments.remove("expectedTotal") {
                arguments.insert("orderTotals".into(), json!({ "priceTotal": total }));
            }
            (
                "POST",
                format!("/v1/purchases/{id}/complete"),
                None,
                Some(Value::Object(arguments)),
            )
        }
        "cancel_purchase" => {
            let id = take_id(&mut arguments)?;
            (
                "POST",
                format!("/v1/purchases/{id}/cancel"),
                None,
                Some(Value::Object(arguments)),
            )
        }
        "price_cart" => match arguments.remove("cart") {
            Some(cart @ Value::Object(_)) => {
                if let Some(extra) = arguments.keys().next() {
                    return Err(bad(extra, "not an argument of price_cart; give cart only"));
                }
                ("POST", "/v1/price".into(), None, Some(cart))
            }
            Some(_) => return Err(bad("cart", "must be a Create Purchases body (an object)")),
            None => return Err(bad("cart", "required: a Create Purchases body")),
        },
        other => return Err(bad("name", &format!("no tool {other}"))),
    })
}

/// The arguments as query parameters (strings, and numbers as written); the service names
/// any it does not take.
fn query_of(arguments: &Map<String, Value>, numbers: bool) -> Result<String, (String, String)> {
    let mut pairs = Vec::new();
    for (name, value) in arguments {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) if numbers => number.to_string(),
            _ => return Err((name.clone(), "must be a string".into())),
        };
        pairs.push(format!(
            "{}={}",
            percent_encode(name),
            percent_encode(&text)
        ));
    }
    Ok(pairs.join("&"))
}

/// One line saying what the answer holds.
fn summary(tool: &str, answer: &Value) -> String {
    let purchase = |p: &Value| {
        let constraints: Vec<&str> = p["constraints"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["constraintId"].as_str())
            .collect();
        format!(
            "purchase {} (store {}, trip {}): {}{}, total {}{}",
            p["purchaseId"].as_str().unwrap_or("?"),
            p["storeId"].as_str().unwrap_or("?"),
            p["idempotentShoppingTripId"].as_str().unwrap_or("?"),
            p["statusDetail"]["state"].as_str().unwrap_or("?"),
            p["statusDetail"]["reasonCode"]
                .as_str()
                .map(|code| format!(" ({code})"))
                .unwrap_or_default(),
            p["orderTotals"]["priceTotal"]["amount"]
                .as_str()
                .map(|amount| {
                    format!(
                        "{amount} {}",
                        p["orderTotals"]["priceTotal"]["currencyCode"]
                            .as_str()
                            .unwrap_or("")
                    )
                })
                .unwrap_or_else(|| "not priced".into()),
            if constraints.is_empty() {
                String::new()
            } else {
                format!("; held by {}", constraints.join(", "))
            }
        )
    };
    match tool {
        "list_purchases" => {
            let count = answer["purchases"].as_array().map_or(0, Vec::len);
            let held = answer["purchases"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["constraints"].as_array().is_some_and(|c| !c.is_empty()))
                .count();
            format!(
                "{count} purchase(s), {held} held by a constraint{}",
                if answer["nextToken"].is_string() {
                    "; more with nextToken"
                } else {
                    ""
                }
            )
        }
        "complete_purchase" => format!(
            "{}: {}",
            answer["outcome"].as_str().unwrap_or("?"),
            answer["detail"].as_str().unwrap_or("")
        ),
        "price_cart" => match (
            answer["checkout"]["orderTotals"]["priceTotal"].as_object(),
            answer["emptyCart"].as_bool(),
        ) {
            (Some(total), _) => format!(
                "priced with price book {}: total {} {} over {} line(s)",
                answer["priceBookVersion"].as_str().unwrap_or("?"),
                total["amount"].as_str().unwrap_or("?"),
                total["currencyCode"].as_str().unwrap_or(""),
                answer["checkout"]["lineItems"]
                    .as_array()
                    .map_or(0, Vec::len)
            ),
            (None, Some(true)) => "an empty cart: nothing would be charged".into(),
            _ => format!(
                "cannot be priced with price book {}: {}",
                answer["priceBookVersion"].as_str().unwrap_or("?"),
                answer["constraints"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| format!(
                        "{} {}",
                        c["constraintId"].as_str().unwrap_or("?"),
                        c["field"].as_str().unwrap_or("")
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        _ => purchase(answer),
    }
}

/// A tool result: the one-line summary, then the JSON, and the JSON as structured content.
fn result(summary: String, value: Value, is_error: bool) -> CallToolResult {
    let mut result = if is_error {
        CallToolResult::structured_error(value.clone())
    } else {
        CallToolResult::structured(value.clone())
    };
    result.content = vec![
        ContentBlock::text(summary),
        ContentBlock::text(value.to_string()),
    ];
    result
}

impl ServerHandler for OperatorTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(rmcp::model::Implementation::new(
                "jwo",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
            "The Just Walk Out ordering connector's purchases. list_purchases shows what is held back at a store and why (constraints); get_purchase explains one; update_purchase reprices or prices lines; complete_purchase submits (pass the expectedTotal you read); cancel_purchase cancels. Money is strings with two decimals.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools().iter().find(|tool| tool.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let tool = request.name.as_ref();
        if !tools().iter().any(|known| known.name == tool) {
            return Err(ErrorData::invalid_params(
                format!("no tool {tool}; tools/list names them"),
                None,
            ));
        }
        let arguments = request.arguments.unwrap_or_default();
        let (method, path, query, body) = match request_of(tool, arguments) {
            Ok(request) => request,
            Err((field, reason)) => {
                let value = json!({
                    "message": format!("{field}: {reason}"),
                    "errors": [{ "field": field, "reason": reason }],
                });
                return Ok(result(format!("refused: {field}: {reason}"), value, true).into());
            }
        };
        let body = body
            .map(|body| body.to_string().into_bytes())
            .unwrap_or_default();
        let answer = self
            .routes
            .call(OperatorRequest {
                method,
                path: &path,
                query: query.as_deref(),
                body: &body,
                actor: &self.actor,
            })
            .await;
        let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if answer.status == 200 {
            return Ok(result(summary(tool, &value), value, false).into());
        }
        let mut said = format!(
            "refused ({}): {}",
            answer.status,
            value["message"].as_str().unwrap_or("no message")
        );
        if let Some(field) = value["errors"][0]["field"].as_str() {
            said = format!(
                "refused ({}): {field}: {}",
                answer.status,
                value["errors"][0]["reason"].as_str().unwrap_or("")
            );
        }
        let mut value = value;
        if let Value::Object(map) = &mut value {
            map.insert("status".into(), json!(answer.status));
        }
        Ok(result(said, value, true).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_tools_with_the_hints_of_the_operator_surface() {
        type Hints = (String, Option<bool>, Option<bool>, Option<bool>);
        let hints: Vec<Hints> = tools()
            .iter()
            .map(|tool| {
                let a = tool.annotations.clone().unwrap();
                (
                    tool.name.to_string(),
                    a.read_only_hint,
                    a.idempotent_hint,
                    a.destructive_hint,
                )
            })
            .collect();
        assert_eq!(
            hints,
            [
                (
                    "get_purchase".to_owned(),
                    Some(true),
                    Some(true),
                    Some(false)
                ),
                (
                    "list_purchases".to_owned(),
                    Some(true),
                    Some(true),
                    Some(false)
                ),
                (
                    "update_purchase".to_owned(),
                    Some(false),
                    Some(true),
                    Some(false)
                ),
                (
                    "complete_purchase".to_owned(),
                    Some(false),
                    Some(false),
                    Some(false)
                ),
                (
                    "cancel_purchase".to_owned(),
                    Some(false),
                    Some(true),
                    Some(true)
                ),
                ("price_cart".to_owned(), Some(true), Some(true), Some(false)),
            ]
        );
        // Every argument is described.
        for tool in tools() {
            let properties = tool.input_schema["properties"].as_object().unwrap().clone();
            for (name, property) in properties {
                assert!(
                    property.get("description").is_some(),
                    "{}.{name} has no description",
                    tool.name
                );
            }
        }
    }

    #[test]
    fn a_bad_argument_is_named_before_anything_is_sent() {
        for (tool, arguments, field) in [
            ("update_purchase", json!({ "reprice": true }), "purchaseId"),
            (
                "cancel_purchase",
                json!({ "purchaseId": 7, "reason": "x" }),
                "purchaseId",
            ),
            ("price_cart", json!({ "cart": "[]" }), "cart"),
            ("list_purchases", json!({ "storeId": ["a"] }), "storeId"),
            ("get_purchase", json!({ "storeId": "S" }), "purchaseId"),
        ] {
            let Value::Object(arguments) = arguments else {
                unreachable!()
            };
            let refused = request_of(tool, arguments).unwrap_err();
            assert_eq!(refused.0, field, "{tool}");
        }
    }
}
