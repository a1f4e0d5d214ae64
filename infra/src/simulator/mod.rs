//! A Checkout Service simulator (`jwo simulate checkout`, and inside `jwo serve`): it answers
//! `POST /v1/checkout/carts` the way docs/contract.md §2 says Amazon does. It verifies the SigV4
//! signature, knows the carts sent to Create Purchases (so "line items match the cart" is
//! really checked), applies the six rules with the shared checker, charges a trip once (a
//! repeat gets the same orderId and counts as a duplicate), can inject faults, and counts
//! everything so tests can prove "exactly once".

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use http::HeaderMap;
use jwo_aws::amazon::sigv4;
use jwo_domain::checkout_rules::{CheckoutRule, check_checkout_request};
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::contract::create_purchases::CartItem;
use jwo_domain::ports::PurchaseStore;
use jwo_domain::purchase::purchase_id;
use serde::Serialize;
use serde_json::{Value, json};

mod faults;
mod ledger;

pub use faults::{Faults, InjectedFault, RepeatAnswer};
pub use ledger::{Charge, ChargeLedger};

/// Where the simulator finds the cart Amazon sent to Create Purchases for a trip: `Ok(None)` for
/// a trip it does not know, `Err` when it cannot look (answered 503, never as an unknown trip).
pub trait Carts: Send + Sync + 'static {
    fn cart(
        &self,
        store_id: &str,
        trip_id: &str,
    ) -> impl Future<Output = Result<Option<Vec<CartItem>>, String>> + Send;
}

/// The carts of the purchases a connector stored (the embedded store under `jwo serve`).
pub struct StoredCarts<S>(pub S);

impl<S: PurchaseStore> Carts for StoredCarts<S> {
    async fn cart(&self, store_id: &str, trip_id: &str) -> Result<Option<Vec<CartItem>>, String> {
        let purchase = self
            .0
            .get(&purchase_id(store_id, trip_id))
            .await
            .map_err(|error| error.to_string())?;
        Ok(purchase.map(|purchase| purchase.cart_items))
    }
}

/// The carts Amazon knows because its Ordering Gateway sent them: told to the simulator by
/// `POST /_simulator/carts` with each Create Purchases body (`jwo load --checkout-simulator`
/// does, before its clock starts), for a simulator in another process than the connector,
/// whatever store that keeps.
#[derive(Clone, Default)]
pub struct ToldCarts(std::sync::Arc<Mutex<HashMap<String, Vec<CartItem>>>>);

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToldCart {
    store_id: String,
    idempotent_shopping_trip_id: String,
    cart_items: Vec<CartItem>,
}

impl ToldCarts {
    /// Learns the cart of a Create Purchases `body`; an error names what is missing.
    pub fn tell(&self, body: &[u8]) -> Result<(), String> {
        let cart: ToldCart = serde_json::from_slice(body).map_err(|error| {
            format!("not a Create Purchases body (storeId, idempotentShoppingTripId, cartItems): {error}")
        })?;
        lock(&self.0).insert(
            trip_key(&cart.store_id, &cart.idempotent_shopping_trip_id),
            cart.cart_items,
        );
        Ok(())
    }

    /// `POST /_simulator/carts`: 204 once learnt, 400 naming what is wrong.
    pub fn router(&self) -> axum::Router {
        use axum::extract::State;
        use axum::http::StatusCode;
        async fn tell(State(carts): State<ToldCarts>, body: bytes::Bytes) -> (StatusCode, String) {
            match carts.tell(&body) {
                Ok(()) => (StatusCode::NO_CONTENT, String::new()),
                Err(error) => (StatusCode::BAD_REQUEST, error),
            }
        }
        axum::Router::new()
            .route("/_simulator/carts", axum::routing::post(tell))
            .with_state(self.clone())
    }
}

impl Carts for ToldCarts {
    async fn cart(&self, store_id: &str, trip_id: &str) -> Result<Option<Vec<CartItem>>, String> {
        Ok(lock(&self.0).get(&trip_key(store_id, trip_id)).cloned())
    }
}

/// A stand-in's state: a panic in one request must not take the counts down with it.
pub(crate) fn lock<T>(state: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Verifies a stand-in's incoming `POST` as API Gateway would: SigV4 by one of `credentials`,
/// for `region`, now. Answers the access key.
pub(crate) fn verify_signature(
    credentials: &[Credentials],
    region: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, sigv4::SignatureError> {
    let known = |access_key: &str| {
        credentials
            .iter()
            .find(|c| c.access_key_id() == access_key)
            .cloned()
    };
    sigv4::verify_request(
        "POST",
        path_and_query,
        headers,
        body,
        known,
        region,
        SystemTime::now(),
    )
}

pub struct SimulatorConfig {
    pub region: String,
    /// Accepted signing credentials (access key → secret).
    pub credentials: Vec<Credentials>,
    pub basis: AmountBasis,
    pub faults: Faults,
}

/// What the simulator has seen; `GET /_simulator/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Charges per `storeId/tripId`: exactly once means every value is 1.
    pub charges: BTreeMap<String, u32>,
    /// Repeats of an already charged trip (answered with its orderId, not charged again).
    pub duplicates: u64,
    /// Refused carts, by the rule they broke.
    pub rejections: BTreeMap<String, u64>,
    pub unknown_trips: u64,
    pub signature_failures: u64,
    pub faults_injected: u64,
    /// Charges whose answer was lost (`Faults::lose_answer_every`).
    pub lost_answers: u64,
}

/// An answer: status, extra headers, JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

impl axum::response::IntoResponse for Answer {
    fn into_response(self) -> axum::response::Response {
        let status = http::StatusCode::from_u16(self.status)
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.body)).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = http::HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

impl Answer {
    pub(crate) fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// Amazon's error shape: `{"__type": "...Exception", "message": "..."}`.
    fn error(status: u16, exception: &str, message: impl Into<String>) -> Answer {
        Answer::json(
            status,
            json!({ "__type": exception, "message": message.into() }),
        )
    }
}

pub struct CheckoutSimulator<C> {
    config: SimulatorConfig,
    carts: C,
    state: Mutex<State>,
    ledger: Option<ChargeLedger>,
}

#[derive(Default)]
struct State {
    /// `storeId/tripId` → orderId of the charge.
    orders: HashMap<String, String>,
    stats: Stats,
}

impl<C: Carts> CheckoutSimulator<C> {
    /// A simulator that forgets its charges when it stops.
    pub fn new(config: SimulatorConfig, carts: C) -> Self {
        CheckoutSimulator {
            config,
            carts,
            state: Mutex::new(State::default()),
            ledger: None,
        }
    }

    /// A simulator that remembers its charges across restarts in `ledger`, as Amazon would:
    /// after a restart, a trip charged before is a duplicate, not a second charge.
    pub fn remembering(config: SimulatorConfig, carts: C, ledger: ChargeLedger) -> Self {
        let mut state = State::default();
        for charge in ledger.charges() {
            let key = charge.key();
            *state.stats.charges.entry(key.clone()).or_default() += 1;
            state.orders.insert(key, charge.order_id.clone());
        }
        CheckoutSimulator {
            config,
            carts,
            state: Mutex::new(state),
            ledger: Some(ledger),
        }
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `POST /v1/checkout/carts`.
    pub async fn checkout(&self, path_and_query: &str, headers: &HeaderMap, body: &[u8]) -> Answer {
        let verified = verify_signature(
            &self.config.credentials,
            &self.config.region,
            path_and_query,
            headers,
            body,
        );
        if let Err(error) = verified {
            self.lock().stats.signature_failures += 1;
            return Answer::error(403, "AccessDeniedException", error.to_string());
        }
        if let Some(fault) = self.inject_fault().await {
            return fault;
        }
        tokio::time::sleep(self.config.faults.latency).await;

        let request: Value = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(error) => {
                return self.reject(
                    CheckoutRule::WellFormed,
                    format!("the body is not JSON: {error}"),
                );
            }
        };
        let (Some(store_id), Some(trip_id)) = (
            request["storeId"].as_str(),
            request["idempotentShoppingTripId"].as_str(),
        ) else {
            return self.reject(
                CheckoutRule::WellFormed,
                "storeId and idempotentShoppingTripId are required",
            );
        };
        let key = trip_key(store_id, trip_id);
        // Bound first: a guard in an `if let` condition lives through its block.
        let charged = self.lock().orders.get(&key).cloned();
        if let Some(order_id) = charged {
            return self.repeat(&order_id);
        }
        let cart = match self.carts.cart(store_id, trip_id).await {
            Ok(Some(cart)) => cart,
            Ok(None) => {
                self.lock().stats.unknown_trips += 1;
                return Answer::error(
                    400,
                    "UnknownShoppingTripException",
                    format!("no shopping trip {trip_id} at store {store_id}"),
                );
            }
            // The simulator's own fault: transient, so the client retries; never a decline.
            Err(error) => {
                return Answer::error(
                    503,
                    "ServiceUnavailableException",
                    format!("cannot read the carts: {error}"),
                );
            }
        };
        let violations = check_checkout_request(&request, &cart, self.config.basis);
        if let Some(first) = violations.first() {
            let mut state = self.lock();
            for violation in &violations {
                *state
                    .stats
                    .rejections
                    .entry(format!("{:?}", violation.rule))
                    .or_default() += 1;
            }
            let message: Vec<String> = violations.iter().map(ToString::to_string).collect();
            let exception = if first.rule == CheckoutRule::NotEmpty {
                "EmptyCartException"
            } else {
                "InvalidCartException"
            };
            return Answer::error(400, exception, message.join("; "));
        }
        // Checked again under the lock: two concurrent first submissions charge once.
        let order_id = {
            let mut state = self.lock();
            if let Some(order_id) = state.orders.get(&key).cloned() {
                drop(state);
                return self.repeat(&order_id);
            }
            let order_id = uuid::Uuid::new_v4().to_string();
            state.orders.insert(key.clone(), order_id.clone());
            *state.stats.charges.entry(key.clone()).or_default() += 1;
            order_id
        };
        if let Some(ledger) = &self.ledger {
            let charge = Charge {
                store_id: store_id.to_owned(),
                trip_id: trip_id.to_owned(),
                order_id: order_id.clone(),
            };
            if let Err(error) = ledger.record(charge).await {
                // Not durably charged: undo, and answer as a transient fault.
                let mut state = self.lock();
                state.orders.remove(&key);
                if let Some(charges) = state.stats.charges.get_mut(&key) {
                    *charges -= 1;
                    if *charges == 0 {
                        state.stats.charges.remove(&key);
                    }
                }
                return Answer::error(
                    503,
                    "ServiceUnavailableException",
                    format!("cannot record the charge: {error}"),
                );
            }
        }
        let every = self.config.faults.lose_answer_every;
        let lose = every > 0 && {
            let mut state = self.lock();
            let first_charges: u32 = state.stats.charges.values().sum();
            let lose = first_charges.is_multiple_of(every);
            state.stats.lost_answers += u64::from(lose);
            lose
        };
        if lose {
            // Charged; the answer comes after the client stopped waiting.
            tokio::time::sleep(self.config.faults.hang).await;
        }
        Answer::json(201, json!({ "orderId": order_id }))
    }

    /// The answer to a repeat of a trip charged as `order_id`, as the configuration says.
    fn repeat(&self, order_id: &str) -> Answer {
        self.lock().stats.duplicates += 1;
        match self.config.faults.repeat {
            RepeatAnswer::SameOrder => Answer::json(201, json!({ "orderId": order_id })),
            RepeatAnswer::Conflict => Answer::error(
                409,
                "ConflictException",
                "this shopping trip was already checked out",
            ),
            RepeatAnswer::AlreadyCheckedOut => Answer::error(
                400,
                "AlreadyCheckedOutException",
                "this shopping trip was already checked out",
            ),
        }
    }

    /// The orderId of a charged trip, as Amazon would confirm it to a person.
    pub fn order_id(&self, store_id: &str, trip_id: &str) -> Option<String> {
        self.lock()
            .orders
            .get(&trip_key(store_id, trip_id))
            .cloned()
    }

    fn reject(&self, rule: CheckoutRule, message: impl Into<String>) -> Answer {
        *self
            .lock()
            .stats
            .rejections
            .entry(format!("{rule:?}"))
            .or_default() += 1;
        Answer::error(400, "InvalidCartException", message)
    }

    /// A fault for this request, if the dice say so. Nothing is charged.
    async fn inject_fault(&self) -> Option<Answer> {
        let fault = self.config.faults.inject().await?;
        self.lock().stats.faults_injected += 1;
        Some(match fault {
            InjectedFault::Timeout => {
                Answer::error(504, "GatewayTimeoutException", "injected timeout")
            }
            InjectedFault::Status(status, retry_after) => {
                let mut answer = Answer::error(
                    status,
                    "InjectedFaultException",
                    format!("injected {status}"),
                );
                answer.headers.extend(retry_after);
                answer
            }
        })
    }
}

/// How the simulator names a trip in its orders and stats: `storeId/tripId`.
fn trip_key(store_id: &str, trip_id: &str) -> String {
    format!("{store_id}/{trip_id}")
}

/// The simulator over HTTP: `POST /v1/checkout/carts` and `GET /_simulator/stats`.
pub fn router<C: Carts>(simulator: std::sync::Arc<CheckoutSimulator<C>>) -> axum::Router {
    use axum::extract::State;
    use axum::response::IntoResponse;
    use axum::routing::{get, post};

    async fn checkout<C: Carts>(
        State(simulator): State<std::sync::Arc<CheckoutSimulator<C>>>,
        uri: http::Uri,
        headers: HeaderMap,
        body: bytes::Bytes,
    ) -> axum::response::Response {
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        simulator
            .checkout(path, &headers, &body)
            .await
            .into_response()
    }

    async fn stats<C: Carts>(
        State(simulator): State<std::sync::Arc<CheckoutSimulator<C>>>,
    ) -> axum::Json<Stats> {
        axum::Json(simulator.stats())
    }

    axum::Router::new()
        .route("/v1/checkout/carts", post(checkout::<C>))
        .route("/_simulator/stats", get(stats::<C>))
        .with_state(simulator)
}
