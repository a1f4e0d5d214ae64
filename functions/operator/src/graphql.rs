//! The operator routes as GraphQL (`POST /graphql` on the operator Lambda and `jwo serve`).
//!
//! An adapter with no logic of its own: each query and mutation becomes the REST request it
//! stands for ([`OperatorRoutes`]), and the REST answer becomes the GraphQL result, so every
//! rule (validation naming the field, states, leases) is the service's. A refusal is a GraphQL
//! error with `extensions {code, status, field, state}`; its `path` is the query's own.
//!
//! The schema's SDL is committed (`functions/operator/schema.graphql`); a test fails when the
//! code's schema and the committed one differ.

use async_graphql::{
    Context, EmptySubscription, Enum, ErrorExtensions, ID, InputObject, Json, Object, Schema,
    SimpleObject,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::rest::{
    OperatorRequest, OperatorResponse, OperatorRoutes, PRICE_PATH, PURCHASES_PATH, percent_encode,
};

/// Where GraphQL is served.
pub const GRAPHQL_PATH: &str = "/graphql";
/// Depth and complexity a request may have. The depth admits the standard introspection
/// query. Each root field costs what it may do (a listing reads up to a thousand index
/// entries, a mutation may submit to Amazon), so one request holds at most four listings or
/// cart pricings, or one mutation: aliases cannot multiply the work.
const MAX_DEPTH: usize = 16;
const MAX_COMPLEXITY: usize = 1000;
/// The largest body `/graphql` takes: a cart to price and the query around it.
pub const MAX_GRAPHQL_BYTES: usize = crate::rest::MAX_CART_BYTES + crate::rest::MAX_BODY_BYTES;

pub type OperatorSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Who asks, per request: recorded in the purchase's history with every change.
pub struct Actor(pub String);

/// The schema over `routes` (the service in this process, or a connector over HTTP).
pub fn schema(routes: std::sync::Arc<dyn OperatorRoutes>) -> OperatorSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .data(routes)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The schema without a service: for the SDL and its test.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .finish()
        .sdl()
}

/// Answers one `POST /graphql` body for `actor`: always 200 with `{data, errors}` (GraphQL
/// over HTTP), or 400 when the body is not a GraphQL request at all.
pub async fn execute(schema: &OperatorSchema, actor: &str, body: &[u8]) -> OperatorResponse {
    if body.len() > MAX_GRAPHQL_BYTES {
        return OperatorResponse {
            status: 413,
            body: serde_json::to_vec(&json!({
                "errors": [{ "message": format!("{} bytes; at most {MAX_GRAPHQL_BYTES}", body.len()) }]
            }))
            .expect("JSON"),
        };
    }
    let request = match serde_json::from_slice::<async_graphql::Request>(body) {
        Ok(request) => request,
        Err(error) => {
            return OperatorResponse {
                status: 400,
                body: serde_json::to_vec(&json!({
                    "errors": [{ "message": format!("not a GraphQL request (JSON with a \"query\"): {error}") }]
                }))
                .expect("JSON"),
            };
        }
    };
    let response = schema.execute(request.data(Actor(actor.to_owned()))).await;
    OperatorResponse {
        status: 200,
        body: serde_json::to_vec(&response).expect("a GraphQL response serializes"),
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[graphql(rename_items = "PascalCase")]
pub enum PurchaseState {
    Open,
    Completed,
    Canceled,
}

#[derive(SimpleObject, Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetail {
    pub state: PurchaseState,
    /// EmptyCart, Declined, Expired or OperatorCanceled, once Canceled.
    pub reason_code: Option<String>,
    pub reason_description: Option<String>,
    pub last_updated_timestamp: String,
}

/// What blocks completion.
#[derive(SimpleObject, Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Constraint {
    /// UnknownSku, MissingTaxRate, NoPriceBook, CheckoutOutcomeUnknown, CheckoutRefused, ...
    pub constraint_id: String,
    /// The cart field it is about (`cartItems[1].id`).
    pub field: String,
    pub description: String,
}

/// An amount as on the wire: a string with exactly two decimals.
#[derive(SimpleObject, Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: String,
    pub currency_code: String,
}

#[derive(SimpleObject, Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTotals {
    pub sub_total: Money,
    pub promotions_total: Money,
    pub sales_tax_total: Money,
    pub price_total: Money,
}

#[derive(SimpleObject, Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantMetadata {
    pub merchant_reference_id: Option<String>,
    pub custom_information: Option<String>,
}

#[derive(SimpleObject, Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutProgress {
    pub attempts: u32,
    /// False once a submission went unanswered: Amazon may have charged the trip.
    pub outcome_known: bool,
    pub not_before: Option<String>,
    pub leased_until: Option<String>,
}

/// One change in the purchase's history.
#[derive(SimpleObject, Clone, Debug, Deserialize)]
pub struct Change {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// A purchase as a Checkout Session (the REST answer of `GET /v1/purchases/{id}`). The priced
/// lines, their explanations and the cart are JSON, exactly as the REST answer carries them.
#[derive(SimpleObject, Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    pub purchase_id: String,
    pub store_id: String,
    pub idempotent_shopping_trip_id: String,
    pub status_detail: StatusDetail,
    pub constraints: Vec<Constraint>,
    pub creation_timestamp: String,
    pub expiration_timestamp: Option<String>,
    /// Amazon's, once Completed.
    pub order_id: Option<String>,
    pub price_book_version: Option<String>,
    /// `line` or `unit`, when set for this purchase (otherwise the book's).
    pub amount_basis: Option<String>,
    pub order_totals: Option<OrderTotals>,
    /// The priced lines as submitted, each with its `explanation`.
    pub line_items: Json<Value>,
    /// The threshold and the totals the lines add up to.
    pub pricing: Option<Json<Value>>,
    #[serde(default)]
    pub explanation_unavailable: Option<String>,
    /// The cart as received (no payment, shopper or device ids).
    pub cart: Json<Value>,
    pub merchant_metadata: MerchantMetadata,
    pub checkout: CheckoutProgress,
    pub history: Vec<Change>,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    pub has_next_page: bool,
    /// Give it as `after` for the next page.
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct PurchaseConnection {
    pub nodes: Vec<Purchase>,
    pub page_info: PageInfo,
}

/// What a `completePurchase` did.
#[derive(SimpleObject, Clone, Debug, Deserialize)]
pub struct Completion {
    /// Completed, Declined, Held, Retry or Unknown.
    pub outcome: String,
    pub detail: String,
    pub purchase: Purchase,
}

/// A cart priced without storing anything.
#[derive(SimpleObject, Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedCart {
    pub price_book_version: String,
    /// `line` or `unit`.
    pub amount_basis: String,
    /// The Checkout Service body; null for an empty cart or one the book cannot price.
    pub checkout: Option<Json<Value>>,
    pub explanation: Option<Json<Value>>,
    /// What the book lacks to price it.
    pub constraints: Vec<Constraint>,
    pub empty_cart: bool,
}

#[derive(InputObject, Clone, Debug)]
pub struct LineOverrideInput {
    /// The cart line's position (0-based); or give `lineItemId`.
    pub line: Option<i32>,
    /// The cart item's id, when it is on one line only.
    pub line_item_id: Option<String>,
    /// Per unit, two decimals.
    pub unit_price: String,
    /// A tax code of the store's rates.
    pub tax_code: String,
    pub reason: String,
}

#[derive(InputObject, Clone, Debug)]
pub struct MerchantMetadataInput {
    pub merchant_reference_id: Option<String>,
    pub custom_information: Option<String>,
}

/// What to change; the same input twice acts once.
#[derive(InputObject, Clone, Debug)]
pub struct UpdatePurchaseInput {
    /// Price again from the current price book version.
    pub reprice: Option<bool>,
    pub line_overrides: Option<Vec<LineOverrideInput>>,
    pub merchant_metadata: Option<MerchantMetadataInput>,
}

#[derive(InputObject, Clone, Debug)]
pub struct MoneyInput {
    pub amount: String,
    pub currency_code: String,
}

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// One purchase, by id or by its store's shopping trip; null when there is none.
    #[graphql(complexity = 50)]
    async fn purchase(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        store_id: Option<String>,
        idempotent_shopping_trip_id: Option<String>,
    ) -> async_graphql::Result<Option<Purchase>> {
        let (path, query) = match (id, store_id, idempotent_shopping_trip_id) {
            (Some(id), None, None) if !id.is_empty() => (
                format!("{PURCHASES_PATH}/{}", percent_encode(id.as_str())),
                None,
            ),
            (None, Some(store), Some(trip)) => (
                PURCHASES_PATH.to_owned(),
                Some(query_string(&[
                    ("storeId", Some(store)),
                    ("idempotentShoppingTripId", Some(trip)),
                ])),
            ),
            _ => {
                return Err(refusal(
                    "BAD_REQUEST",
                    400,
                    Some("id"),
                    "give id, or storeId with idempotentShoppingTripId",
                ));
            }
        };
        match call::<Purchase>(ctx, "GET", &path, query.as_deref(), None).await {
            Err(error) if is_not_found(&error) => Ok(None),
            other => other.map(Some),
        }
    }

    /// The Open purchases (what needs a person), or with `since` a store's history; `first`
    /// at most 100 a page, `after` the `endCursor` of the page before.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = 250)]
    async fn purchases(
        &self,
        ctx: &Context<'_>,
        state: Option<PurchaseState>,
        store_id: Option<String>,
        constraint_id: Option<String>,
        since: Option<String>,
        until: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PurchaseConnection> {
        // What is asked most: what is held back (as the MCP tool does).
        let state = match (state, &since) {
            (Some(state), _) => Some(format!("{state:?}")),
            (None, None) => Some("Open".to_owned()),
            (None, Some(_)) => None,
        };
        let query = query_string(&[
            ("state", state),
            ("storeId", store_id),
            ("constraintId", constraint_id),
            ("since", since),
            ("until", until),
            ("limit", first.map(|n| n.to_string())),
            ("nextToken", after),
        ]);
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            purchases: Vec<Purchase>,
            next_token: Option<String>,
        }
        let page: Page = call(ctx, "GET", PURCHASES_PATH, Some(&query), None).await?;
        Ok(PurchaseConnection {
            nodes: page.purchases,
            page_info: PageInfo {
                has_next_page: page.next_token.is_some(),
                end_cursor: page.next_token,
            },
        })
    }

    /// What-if pricing of a Create Purchases body with the current price book, explained;
    /// nothing is stored.
    #[graphql(complexity = 250)]
    async fn price_cart(
        &self,
        ctx: &Context<'_>,
        cart: Json<Value>,
    ) -> async_graphql::Result<PricedCart> {
        call(ctx, "POST", PRICE_PATH, None, Some(cart.0)).await
    }
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Reprice, price lines by hand, or set the retailer's references: only while Open and
    /// not leased.
    #[graphql(complexity = 600)]
    async fn update_purchase(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePurchaseInput,
    ) -> async_graphql::Result<Purchase> {
        let mut body = Map::new();
        if let Some(reprice) = input.reprice {
            body.insert("reprice".into(), json!(reprice));
        }
        if let Some(lines) = input.line_overrides {
            let lines: Vec<Value> = lines
                .into_iter()
                .map(|line| {
                    let mut entry = Map::new();
                    if let Some(position) = line.line {
                        entry.insert("line".into(), json!(position));
                    }
                    if let Some(item) = line.line_item_id {
                        entry.insert("lineItemId".into(), json!(item));
                    }
                    entry.insert("unitPrice".into(), json!(line.unit_price));
                    entry.insert("taxCode".into(), json!(line.tax_code));
                    entry.insert("reason".into(), json!(line.reason));
                    Value::Object(entry)
                })
                .collect();
            body.insert("lineOverrides".into(), json!(lines));
        }
        if let Some(metadata) = input.merchant_metadata {
            let mut entry = Map::new();
            if let Some(reference) = metadata.merchant_reference_id {
                entry.insert("merchantReferenceId".into(), json!(reference));
            }
            if let Some(custom) = metadata.custom_information {
                entry.insert("customInformation".into(), json!(custom));
            }
            body.insert("merchantMetadata".into(), Value::Object(entry));
        }
        let path = format!("{PURCHASES_PATH}/{}", purchase_segment(&id)?);
        call(ctx, "PATCH", &path, None, Some(Value::Object(body))).await
    }

    /// Submit now (only at `expectedTotal` when given); for a purchase held for
    /// reconciliation, record the `orderId` Amazon confirmed, or `resubmit`.
    #[graphql(complexity = 600)]
    async fn complete_purchase(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_total: Option<MoneyInput>,
        order_id: Option<String>,
        resubmit: Option<bool>,
    ) -> async_graphql::Result<Completion> {
        let mut body = Map::new();
        if let Some(total) = expected_total {
            body.insert(
                "orderTotals".into(),
                json!({ "priceTotal": { "amount": total.amount, "currencyCode": total.currency_code } }),
            );
        }
        if let Some(order_id) = order_id {
            body.insert("orderId".into(), json!(order_id));
        }
        if let Some(resubmit) = resubmit {
            body.insert("resubmit".into(), json!(resubmit));
        }
        let path = format!("{PURCHASES_PATH}/{}/complete", purchase_segment(&id)?);
        call(ctx, "POST", &path, None, Some(Value::Object(body))).await
    }

    /// Canceled / OperatorCanceled: never while leased or once Completed; one Amazon may have
    /// charged only with `notCharged` (Amazon confirmed no charge).
    #[graphql(complexity = 600)]
    async fn cancel_purchase(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        not_charged: Option<bool>,
    ) -> async_graphql::Result<Purchase> {
        let mut body = Map::new();
        body.insert("reason".into(), json!(reason));
        if let Some(not_charged) = not_charged {
            body.insert("notCharged".into(), json!(not_charged));
        }
        let path = format!("{PURCHASES_PATH}/{}/cancel", purchase_segment(&id)?);
        call(ctx, "POST", &path, None, Some(Value::Object(body))).await
    }
}

/// A purchase id as a path segment; an empty one is refused naming `id`.
fn purchase_segment(id: &ID) -> async_graphql::Result<String> {
    if id.is_empty() {
        return Err(refusal("BAD_REQUEST", 400, Some("id"), "must not be empty"));
    }
    Ok(percent_encode(id.as_str()))
}

/// `name=value&…` of the parameters given, percent-encoded.
fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(name, value)| {
            value
                .as_ref()
                .map(|value| format!("{name}={}", percent_encode(value)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Sends the REST request and reads its answer as `T`, or the refusal as a GraphQL error.
async fn call<T: DeserializeOwned>(
    ctx: &Context<'_>,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: Option<Value>,
) -> async_graphql::Result<T> {
    let routes = ctx.data::<std::sync::Arc<dyn OperatorRoutes>>()?;
    let actor = ctx
        .data_opt::<Actor>()
        .map_or("graphql", |actor| actor.0.as_str());
    let body = body
        .map(|body| body.to_string().into_bytes())
        .unwrap_or_default();
    let answer = routes
        .call(OperatorRequest {
            method,
            path,
            query,
            body: &body,
            actor,
        })
        .await;
    let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if answer.status != 200 {
        let field = value["errors"][0]["field"].as_str();
        let code = match answer.status {
            400 | 405 | 413 => "BAD_REQUEST",
            403 => "FORBIDDEN",
            404 => "NOT_FOUND",
            409 => value["code"].as_str().unwrap_or("CONFLICT"),
            502 | 503 => "UNAVAILABLE",
            _ => "INTERNAL",
        };
        let message = value["message"]
            .as_str()
            .unwrap_or("the operator service refused");
        let mut error = refusal(code, answer.status, field, message);
        if let Some(state) = value["state"].as_str() {
            error = error.extend_with(|_, extensions| extensions.set("state", state));
        }
        // Every problem the service named, each with its field and reason.
        if let Some(problems) = value.get("errors").filter(|errors| errors.is_array()) {
            let problems = async_graphql::Value::from_json(problems.clone()).unwrap_or_default();
            error = error.extend_with(|_, extensions| extensions.set("errors", problems.clone()));
        }
        return Err(error);
    }
    serde_json::from_value(value).map_err(|error| {
        refusal(
            "INTERNAL",
            500,
            None,
            &format!("the operator service's answer does not read as expected: {error}"),
        )
    })
}

fn refusal(code: &str, status: u16, field: Option<&str>, message: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, extensions| {
        extensions.set("code", code);
        extensions.set("status", status);
        if let Some(field) = field {
            extensions.set("field", field);
        }
    })
}

fn is_not_found(error: &async_graphql::Error) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"))
        .is_some_and(|code| *code == async_graphql::Value::from("NOT_FOUND"))
}

#[cfg(test)]
mod tests {
    /// The committed SDL is the schema the code serves; after a deliberate change,
    /// `JWO_WRITE_SDL=1 cargo test -p operator sdl` writes the new one to review and commit.
    #[test]
    fn the_committed_sdl_is_the_schema_of_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let code = super::sdl();
        if std::env::var_os("JWO_WRITE_SDL").is_some() {
            std::fs::write(path, &code).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == code,
            "functions/operator/schema.graphql differs from the code's schema; review the change, then JWO_WRITE_SDL=1 cargo test -p operator sdl"
        );
    }
}
