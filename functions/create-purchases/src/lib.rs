//! Create Purchases (docs/contract.md §1): Amazon's Ordering Gateway posts each shopping trip's cart
//! to `POST /v1/order/purchases` once the shopper has left.
//!
//! [`CreatePurchases::handle`] is the whole behaviour, over plain request parts, generic over
//! the store, the alerts and the price book source. The Lambda ([`lambda`]) and `jwo serve`
//! both call it, so there is one code path.

pub mod config;
pub mod lambda;

use chrono::{Duration, Utc};
use jwo_domain::alerts::{Alert, AlertError, AlertKind, OncePerCause};
use jwo_domain::contract::ErrorBody;
use jwo_domain::contract::create_purchases::CreatePurchasesResponse;
use jwo_domain::json::FieldError;
use jwo_domain::ports::{Alerts, CurrentPriceBook, PurchaseStore};
use jwo_domain::pricing::{Constraint, PricingOutcome, price_cart};
use jwo_domain::purchase::Purchase;
use jwo_domain::store::{Inserted, StoreError, Updated};
use jwo_domain::validation::{InvalidRequest, validate_create_purchases};
use thiserror::Error;
use tracing::Instrument;

pub use config::{AllowedCallers, Config};

/// The one route.
pub const PATH: &str = "/v1/order/purchases";
/// Bodies above this are refused with 413 before they are parsed.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The parts of an HTTP request the handler needs, whatever carried it.
#[derive(Debug, Clone, Copy)]
pub struct PurchaseRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub content_type: Option<&'a str>,
    /// The IAM principal that signed the request (API Gateway's `requestContext.identity.userArn`).
    pub caller_arn: Option<&'a str>,
    pub body: &'a [u8],
}

/// What to answer: a status and a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseResponse {
    pub status: u16,
    pub body: Vec<u8>,
    /// The `Allow` header of a 405.
    pub allow: Option<&'static str>,
}

impl PurchaseResponse {
    /// The answer as an HTTP response: its status, `content-type: application/json`, the
    /// `Allow` header of a 405, and the body. One shape for every transport.
    pub fn into_http(self) -> lambda_http::http::Response<Vec<u8>> {
        use lambda_http::http::header::{ALLOW, CONTENT_TYPE};
        let mut response = lambda_http::http::Response::builder()
            .status(self.status)
            .header(CONTENT_TYPE, "application/json");
        if let Some(allow) = self.allow {
            response = response.header(ALLOW, allow);
        }
        response
            .body(self.body)
            .expect("a status from the handler and fixed headers always build")
    }

    fn json(status: u16, body: &impl serde::Serialize) -> PurchaseResponse {
        PurchaseResponse {
            status,
            body: serde_json::to_vec(body).expect("response bodies always serialize"),
            allow: None,
        }
    }
}

/// Every way a request can fail, and (in [`CreatePurchasesError::status`]) the one place that
/// maps each to its HTTP status.
#[derive(Debug, Error)]
pub enum CreatePurchasesError {
    #[error("no such resource: {0}; the ordering connector serves POST {PATH}")]
    NotFound(String),
    #[error("method {0} is not allowed on {PATH}; use POST")]
    MethodNotAllowed(String),
    #[error("the caller is not allowed to create purchases")]
    Forbidden,
    #[error("content type {0} is not supported; send application/json")]
    UnsupportedMediaType(String),
    #[error("the body is {0} bytes; at most {MAX_BODY_BYTES} are accepted")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    Invalid(InvalidRequest),
    #[error(
        "shopping trip {trip_id} of store {store_id} was already recorded with a different cart (purchase {purchase_id}); nothing was changed"
    )]
    CartMismatch {
        store_id: String,
        trip_id: String,
        purchase_id: String,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error(
        "the purchase is stored, but its alert could not be published ({0}); retry to publish it"
    )]
    Alert(#[from] AlertError),
}

impl CreatePurchasesError {
    pub fn status(&self) -> u16 {
        match self {
            CreatePurchasesError::NotFound(_) => 404,
            CreatePurchasesError::MethodNotAllowed(_) => 405,
            CreatePurchasesError::Forbidden => 403,
            CreatePurchasesError::UnsupportedMediaType(_) => 415,
            CreatePurchasesError::PayloadTooLarge(_) => 413,
            CreatePurchasesError::Invalid(_) => 400,
            CreatePurchasesError::CartMismatch { .. } => 409,
            // Transient: Amazon's retry will help.
            CreatePurchasesError::Store(StoreError::Unavailable(_) | StoreError::Conflict(_))
            | CreatePurchasesError::Alert(_) => 503,
            CreatePurchasesError::Store(
                StoreError::Corrupt { .. } | StoreError::Rejected { .. },
            ) => 500,
        }
    }

    fn into_response(self) -> PurchaseResponse {
        let status = self.status();
        let (message, errors) = match self {
            CreatePurchasesError::Invalid(invalid) => (invalid.message, invalid.errors),
            other => (other.to_string(), Vec::<FieldError>::new()),
        };
        let mut response = PurchaseResponse::json(status, &ErrorBody { message, errors });
        if status == 405 {
            response.allow = Some("POST");
        }
        response
    }
}

pub struct CreatePurchases<S, A, B> {
    pub store: S,
    pub alerts: A,
    pub price_books: B,
    pub config: Config,
    /// Alerts about causes many carts share, sent once.
    causes: OncePerCause,
}

impl<S: PurchaseStore, A: Alerts, B: CurrentPriceBook> CreatePurchases<S, A, B> {
    pub fn new(store: S, alerts: A, price_books: B, config: Config) -> Self {
        CreatePurchases {
            store,
            alerts,
            price_books,
            config,
            causes: OncePerCause::default(),
        }
    }

    /// Answers one request. Never panics on input; every failure is a response.
    pub async fn handle(&self, request: PurchaseRequest<'_>) -> PurchaseResponse {
        match self.create(request).await {
            Ok(response) => response,
            Err(error) => {
                if error.status() >= 500 {
                    tracing::error!(status = error.status(), error = %error, "create purchases failed");
                } else {
                    tracing::info!(status = error.status(), error = %error, "create purchases refused");
                }
                error.into_response()
            }
        }
    }

    async fn create(
        &self,
        request: PurchaseRequest<'_>,
    ) -> Result<PurchaseResponse, CreatePurchasesError> {
        check_route(&request)?;
        if !self.config.allowed_callers.allows(request.caller_arn) {
            return Err(CreatePurchasesError::Forbidden);
        }
        check_content_type(request.content_type)?;
        if request.body.len() > MAX_BODY_BYTES {
            return Err(CreatePurchasesError::PayloadTooLarge(request.body.len()));
        }
        let cart =
            validate_create_purchases(request.body).map_err(CreatePurchasesError::Invalid)?;

        // A cart is kept whether or not a price book can be read now: without one it is
        // stored unpriced, and the checkout's sweep prices it once a book can be read.
        let (pricing, version) = match self.price_books.current().await {
            // An empty cart needs no price book: it is answered "" whatever the catalog holds.
            _ if cart.cart_items.is_empty() => (PricingOutcome::EmptyCart, None),
            Ok(price_book) => {
                let basis = self.config.basis.unwrap_or(price_book.book.amount_basis);
                (
                    price_cart(&price_book.book, &cart, basis),
                    Some(price_book.version.clone()),
                )
            }
            Err(error) => {
                tracing::warn!(error = %error, "no price book can be read; storing the cart unpriced");
                (
                    PricingOutcome::Unpriceable(vec![Constraint::no_price_book(
                        &error.to_string(),
                    )]),
                    None,
                )
            }
        };
        let candidate = Purchase::new(
            &cart,
            pricing,
            version.as_deref(),
            self.config.basis,
            Utc::now(),
            self.config.retention,
        );

        let span = tracing::info_span!(
            "purchase",
            purchase_id = %candidate.purchase_id,
            store_id = %candidate.store_id,
            shopping_trip = %candidate.idempotent_shopping_trip_id,
        );
        async move {
            let purchase = match self.store.insert_if_absent(&candidate).await? {
                Inserted::New => {
                    tracing::info!(state = %candidate.state, lines = candidate.cart_items.len(), constraints = candidate.constraints.len(), "purchase stored");
                    candidate
                }
                Inserted::Existing(existing) if existing.cart_fingerprint == candidate.cart_fingerprint => {
                    tracing::info!(state = %existing.state, "replay of a recorded trip");
                    *existing
                }
                Inserted::Existing(existing) => {
                    return Err(CreatePurchasesError::CartMismatch {
                        store_id: existing.store_id,
                        trip_id: existing.idempotent_shopping_trip_id,
                        purchase_id: existing.purchase_id,
                    });
                }
            };
            if purchase.awaits_price_book() {
                self.alert_no_price_book(&purchase).await?;
            } else if purchase.needs_attention() && !purchase.was_alerted(AlertKind::PurchaseBlocked) {
                self.alert_blocked(&purchase).await?;
            }
            Ok(PurchaseResponse::json(
                201,
                &CreatePurchasesResponse {
                    purchase_id: purchase.answered_id().to_owned(),
                    order_totals: purchase.checkout.map(|checkout| checkout.order_totals),
                },
            ))
        }
        .instrument(span)
        .await
    }

    /// No price book: one alert for the cause (once an hour per instance), not one per cart.
    /// Like the blocked alert, a failure to publish is a 503 and Amazon's retry sends it.
    async fn alert_no_price_book(&self, purchase: &Purchase) -> Result<(), CreatePurchasesError> {
        const CAUSE: &str = "NoPriceBook";
        if !self.causes.take(CAUSE) {
            return Ok(());
        }
        let why = purchase
            .constraints
            .first()
            .map_or("", |constraint| constraint.detail.as_str());
        let alert = Alert {
            kind: AlertKind::NoPriceBook,
            subject: "Carts are stored unpriced: no price book can be read".into(),
            detail: format!(
                "Carts are being received (store {}, purchase {} among them) but {why}. Each is stored Open with the constraint NoPriceBook and acknowledged to Amazon; none is lost. Import a price book (`jwo catalog import`) or restore access to the catalog table: the checkout's sweep then prices and checks them out. This alert is sent at most once an hour by each running instance.",
                purchase.store_id, purchase.purchase_id
            ),
            purchase_id: None,
            store_id: None,
        };
        if let Err(error) = self.alerts.publish(&alert).await {
            self.causes.failed(CAUSE);
            return Err(error.into());
        }
        Ok(())
    }

    /// A stored purchase that cannot go to checkout needs a person. The alert is published
    /// before Amazon gets its 201; if publishing fails the answer is 503, and Amazon's retry
    /// (a replay) publishes it then. Marking it sent keeps later replays quiet.
    async fn alert_blocked(&self, purchase: &Purchase) -> Result<(), CreatePurchasesError> {
        let alert = purchase.blocked_alert();
        self.alerts.publish(&alert).await?;
        match self
            .store
            .update(&purchase.with_alert_sent(AlertKind::PurchaseBlocked, Utc::now()))
            .await?
        {
            Updated::Done => {}
            // Changed meanwhile (a concurrent replay marked it): the alert went out either way.
            Updated::Conflict(_) => tracing::debug!("purchase changed while alerting"),
        }
        Ok(())
    }
}

fn check_route(request: &PurchaseRequest<'_>) -> Result<(), CreatePurchasesError> {
    if request.path.trim_end_matches('/') != PATH {
        return Err(CreatePurchasesError::NotFound(request.path.to_owned()));
    }
    if !request.method.eq_ignore_ascii_case("POST") {
        return Err(CreatePurchasesError::MethodNotAllowed(
            request.method.to_owned(),
        ));
    }
    Ok(())
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn check_content_type(content_type: Option<&str>) -> Result<(), CreatePurchasesError> {
    let Some(content_type) = content_type else {
        return Err(CreatePurchasesError::UnsupportedMediaType("(none)".into()));
    };
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(CreatePurchasesError::UnsupportedMediaType(
            content_type.to_owned(),
        ))
    }
}

/// Retention of purchase records (the table's TTL), unless configured.
pub const DEFAULT_RETENTION: Duration = Duration::days(30);
