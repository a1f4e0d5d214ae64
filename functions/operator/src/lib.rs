//! The operator surface: what a person uses to look at purchases and resolve what the
//! connector holds back (docs/design.md "The operator surface").
//!
//! [`Operator`] is the one service: get, list, update, complete, cancel, over the checkout's
//! own ports (its store, its Checkout Service client, its price book), so completing a purchase
//! submits it exactly as the checkout would. [`rest`] is its HTTP shape, the same under the
//! operator Lambda and `jwo serve`; the `jwo purchases` command, MCP and GraphQL call the
//! same functions. The changes themselves are the domain's (`checkout_session`).

pub mod config;
pub mod graphql;
pub mod lambda;
pub mod rest;

use std::sync::Arc;
use std::time::{Duration, Instant};

use checkout::{CheckedOut, Checkout, CheckoutError};
use chrono::Utc;
use jwo_domain::catalog::price_book_versions::VersionedPriceBook;
use jwo_domain::checkout_session::{CheckoutSession, Refusal, SessionConstraint};
use jwo_domain::contract::checkout::{AmountBasis, CheckoutRequest};
use jwo_domain::json::FieldError;
use jwo_domain::money::Money;
use jwo_domain::ports::{Alerts, CheckoutService, CurrentPriceBook, PurchaseStore};
use jwo_domain::pricing::{CartExplanation, Unpriced, explain_cart};
use jwo_domain::pricing::{ConstraintKind, LinePrice};
use jwo_domain::purchase::{MerchantMetadata, Purchase, PurchaseState, purchase_id};
use jwo_domain::store::{HistoryCursor, HistoryQuery, StoreError, Updated, creation_key};
use jwo_domain::validation::validate_create_purchases;
use serde::Serialize;
use thiserror::Error;

/// How long a `complete` may take to submit and record: the checkout's own window.
pub const COMPLETE_WINDOW: Duration = Duration::from_secs(20);
/// A list answers at most this many purchases a page.
pub const MAX_PAGE: usize = 100;
/// A list reads at most about this many index entries for one answer, so a filter that
/// matches little answers in bounded time (with a `nextToken` to go on).
pub const LIST_READ_BUDGET: usize = 1_000;
/// A page stops growing past this many bytes of JSON: under Lambda's 6 MB answer however large
/// the carts (a purchase's lines and their explanations can run to a megabyte).
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Why an operation changed nothing.
#[derive(Debug, Error)]
pub enum OperatorError {
    /// 400: the request names what is wrong.
    #[error("{message}")]
    BadRequest {
        message: String,
        errors: Vec<FieldError>,
    },
    /// 404.
    #[error("no purchase {0}")]
    NotFound(String),
    /// 409: the purchase is not in a state that allows it (leased, closed, held, changed
    /// meanwhile, a total other than the one expected).
    #[error("{reason}")]
    Conflict {
        state: PurchaseState,
        /// What kind of conflict, for scripts: `NotOpen`, `Leased`, `NotApplicable`,
        /// `NotReady`, `Changed`, `AmountMismatch`.
        code: &'static str,
        reason: String,
    },
    /// 503: the store could not be reached; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OperatorError {
    pub fn bad_request(field: &str, reason: impl Into<String>) -> OperatorError {
        let reason = reason.into();
        OperatorError::BadRequest {
            message: format!("{field}: {reason}"),
            errors: vec![FieldError {
                field: field.to_owned(),
                reason,
            }],
        }
    }

    fn refused(purchase: &Purchase, refusal: Refusal) -> OperatorError {
        OperatorError::Conflict {
            state: purchase.state,
            code: match refusal {
                Refusal::NotOpen { .. } => "NotOpen",
                Refusal::Leased { .. } => "Leased",
                Refusal::NotApplicable { .. } => "NotApplicable",
            },
            reason: refusal.to_string(),
        }
    }
}

/// Which purchases to list: the Open ones (from the index of what is open), or with a
/// `window`, a store's history (from the index by store and creation time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Required with `window`.
    pub store_id: Option<String>,
    pub constraint: Option<ConstraintKind>,
    /// Only purchases in this state (a history of any state when `None`; the Open listing is
    /// always of Open purchases).
    pub state: Option<PurchaseState>,
    /// Created at or after `since`, before `until`.
    pub window: Option<Window>,
    pub limit: usize,
    /// Where the previous page stopped (opaque to callers).
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: chrono::DateTime<Utc>,
    /// Now when `None` (fixed by the first page: its `nextToken` keeps it).
    pub until: Option<chrono::DateTime<Utc>>,
}

/// Where a listing stopped, in the index it reads.
enum Cursor {
    Open(String),
    History(HistoryCursor),
}

/// A cart priced without storing anything: the body that would be submitted, and how it came
/// about; or why the book cannot price it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedCart {
    pub price_book_version: String,
    pub amount_basis: AmountBasis,
    /// The Checkout Service body; `None` for an empty cart (nothing would be submitted) or one
    /// the book cannot price.
    pub checkout: Option<CheckoutRequest>,
    pub explanation: Option<CartExplanation>,
    /// What the book lacks to price it (as a purchase's constraints); empty when priced.
    pub constraints: Vec<SessionConstraint>,
    /// The shopper took nothing: nothing would be charged.
    pub empty_cart: bool,
}

/// One page of purchases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchasePage {
    pub purchases: Vec<CheckoutSession>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// What to change with an update; the same request twice has the effect of once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    pub reprice: bool,
    pub line_overrides: Vec<LineOverride>,
    pub merchant_metadata: Option<MerchantMetadata>,
}

/// A price a person sets for one cart line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOverride {
    pub line: LineRef,
    /// Exactly two decimals, not negative (checked when parsed).
    pub unit_price: String,
    pub tax_code: String,
    pub reason: String,
}

/// Which cart line: by position, or by its id (the cart item's `id`, the line item's
/// `productId`), which must then be on exactly one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineRef {
    Position(usize),
    LineItemId(String),
}

/// How to complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Complete {
    /// Submit it now (it must be ready), only if its `priceTotal` is the one given (what the
    /// person approved), when one is.
    Submit { expected_total: Option<Money> },
    /// Release a purchase the checkout held and submit it again (with the same check).
    Resubmit { expected_total: Option<Money> },
    /// Record the charge Amazon confirmed for a purchase whose outcome is unknown.
    Confirmed { order_id: String },
}

/// What a `complete` did, with the purchase as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// `Completed`, `Declined`, `Held`, `Retry` when the Checkout Service gave only
    /// transient answers (the sweep tries again), or `Unknown` when the purchase was changed
    /// (released) but what followed cannot be told (read it again).
    pub outcome: &'static str,
    pub detail: String,
    pub purchase: CheckoutSession,
}

pub struct Operator<S, A, C, B> {
    checkout: Arc<Checkout<S, A, C, B>>,
}

impl<S: PurchaseStore, A: Alerts, C: CheckoutService, B: CurrentPriceBook> Operator<S, A, C, B> {
    /// The operator service over the checkout's ports.
    pub fn new(checkout: Arc<Checkout<S, A, C, B>>) -> Self {
        Operator { checkout }
    }

    fn store(&self) -> &S {
        &self.checkout.store
    }

    async fn purchase(&self, purchase_id: &str) -> Result<Purchase, OperatorError> {
        self.store()
            .get(purchase_id)
            .await?
            .ok_or_else(|| OperatorError::NotFound(purchase_id.to_owned()))
    }

    /// The purchase as people see it, each line explained from the price book version that
    /// priced it (when that version can still be read).
    pub async fn session(&self, purchase: &Purchase) -> CheckoutSession {
        self.session_with(purchase, &mut Vec::new()).await
    }

    /// [`Operator::session`], reading each price book version once for all the purchases
    /// `books` is kept across (a page).
    async fn session_with(
        &self,
        purchase: &Purchase,
        books: &mut Vec<(String, Option<Arc<VersionedPriceBook>>)>,
    ) -> CheckoutSession {
        let book = match (&purchase.checkout, &purchase.price_book_version) {
            (Some(_), Some(label)) => match books.iter().find(|(read, _)| read == label) {
                Some((_, book)) => book.clone(),
                None => {
                    let book = match self.checkout.price_books.version(label).await {
                        Ok(book) => book,
                        Err(error) => {
                            tracing::warn!(%error, version = %label, "price book version unreadable; purchase shown without explanation");
                            None
                        }
                    };
                    books.push((label.clone(), book.clone()));
                    book
                }
            },
            _ => None,
        };
        CheckoutSession::explained(purchase, book.as_deref(), Utc::now())
    }

    pub async fn get(&self, purchase_id: &str) -> Result<CheckoutSession, OperatorError> {
        Ok(self.session(&self.purchase(purchase_id).await?).await)
    }

    /// The purchase of a store's shopping trip.
    pub async fn find(
        &self,
        store_id: &str,
        idempotent_shopping_trip_id: &str,
    ) -> Result<CheckoutSession, OperatorError> {
        self.get(&purchase_id(store_id, idempotent_shopping_trip_id))
            .await
    }

    /// The Open purchases (what needs a person or is on its way to checkout), or with a window
    /// a store's history, filtered by store, state and constraint, page by page. A selective
    /// filter reads at most [`LIST_READ_BUDGET`] index entries for one answer: the page may
    /// then be short (even empty) with a `nextToken` to go on from.
    pub async fn list(&self, filter: &ListFilter) -> Result<PurchasePage, OperatorError> {
        let listing = listing_of(filter);
        let token = match &filter.next_token {
            Some(token) => Some(decode_token(token, &listing)?),
            None => None,
        };
        let history = match (&filter.window, &filter.store_id) {
            (None, _) => None,
            (Some(window), Some(store_id)) => {
                let until = match (window.until, token.as_ref().and_then(|t| t.until)) {
                    (Some(given), Some(kept)) if given != kept => {
                        return Err(OperatorError::bad_request(
                            "nextToken",
                            "was given out for another until; give the same until, or none",
                        ));
                    }
                    (Some(until), _) | (None, Some(until)) => until,
                    (None, None) => Utc::now(),
                };
                if window.since >= until {
                    return Err(OperatorError::bad_request(
                        "until",
                        "must be later than since",
                    ));
                }
                Some(HistoryQuery {
                    store_id: store_id.clone(),
                    since: window.since,
                    until,
                })
            }
            (Some(_), None) => {
                return Err(OperatorError::bad_request(
                    "storeId",
                    "required with since: a history is a store's",
                ));
            }
        };
        // The Open index also holds closed purchases with an alert still to publish.
        let state = match history {
            Some(_) => filter.state,
            None => Some(PurchaseState::Open),
        };
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let mut after = token.map(|token| token.cursor);
        let token_of = |cursor: &Cursor| {
            encode_token(&listing, history.as_ref().map(|query| query.until), cursor)
        };
        let cursor_of = |purchase: &Purchase| match history {
            Some(_) => Cursor::History(HistoryCursor {
                created: creation_key(purchase.created_at),
                purchase_id: purchase.purchase_id.clone(),
            }),
            None => Cursor::Open(purchase.purchase_id.clone()),
        };
        let mut wanted_purchases = Vec::new();
        let mut read = 0;
        loop {
            let (entries, next) = match (&history, &after) {
                (Some(query), after) => {
                    let after = match after {
                        Some(Cursor::History(cursor)) => Some(cursor),
                        _ => None,
                    };
                    let page = self.store().list_history(query, after, MAX_PAGE).await?;
                    (page.purchases, page.next.map(Cursor::History))
                }
                (None, after) => {
                    let after = match after {
                        Some(Cursor::Open(id)) => Some(id.as_str()),
                        _ => None,
                    };
                    let page = self.store().list_open(after, MAX_PAGE).await?;
                    (page.purchases, page.next.map(Cursor::Open))
                }
            };
            for entry in entries {
                read += 1;
                // A record that cannot be read is the sweep's to report, and skipped here; one
                // the store could not answer now fails the page, so nothing is left out silently.
                let purchase = match entry {
                    Ok(purchase) => purchase,
                    Err(StoreError::Unavailable(reason)) => {
                        return Err(StoreError::Unavailable(reason).into());
                    }
                    Err(_) => continue,
                };
                let wanted = state.is_none_or(|state| state == purchase.state)
                    && filter
                        .store_id
                        .as_ref()
                        .is_none_or(|store| *store == purchase.store_id)
                    && filter
                        .constraint
                        .is_none_or(|kind| purchase.constraints.iter().any(|c| c.kind == kind));
                if wanted {
                    wanted_purchases.push(purchase);
                    if wanted_purchases.len() == limit {
                        let next = token_of(&cursor_of(&wanted_purchases[limit - 1]));
                        return Ok(self
                            .page(&wanted_purchases, Some(next), |p| token_of(&cursor_of(p)))
                            .await);
                    }
                }
            }
            match next {
                Some(next) if read >= LIST_READ_BUDGET => {
                    return Ok(self
                        .page(&wanted_purchases, Some(token_of(&next)), |p| {
                            token_of(&cursor_of(p))
                        })
                        .await);
                }
                Some(next) => after = Some(next),
                None => {
                    return Ok(self
                        .page(&wanted_purchases, None, |p| token_of(&cursor_of(p)))
                        .await);
                }
            }
        }
    }

    /// The page of `purchases`, cut short once its JSON passes [`MAX_PAGE_BYTES`] (the next
    /// page then starts after the last one shown: `token_after`).
    async fn page(
        &self,
        purchases: &[Purchase],
        next_token: Option<String>,
        token_after: impl Fn(&Purchase) -> String,
    ) -> PurchasePage {
        let mut sessions = Vec::with_capacity(purchases.len());
        let mut books = Vec::new();
        let mut bytes = 0;
        for (shown, purchase) in purchases.iter().enumerate() {
            if shown > 0 && bytes > MAX_PAGE_BYTES {
                return PurchasePage {
                    purchases: sessions,
                    next_token: Some(token_after(&purchases[shown - 1])),
                };
            }
            let session = self.session_with(purchase, &mut books).await;
            bytes += serde_json::to_vec(&session).map_or(0, |json| json.len());
            sessions.push(session);
        }
        PurchasePage {
            purchases: sessions,
            next_token,
        }
    }

    /// Applies `update` to an Open purchase no checkout holds; nothing changes on any refusal.
    pub async fn update(
        &self,
        purchase_id: &str,
        update: &Update,
        actor: &str,
    ) -> Result<CheckoutSession, OperatorError> {
        if !update.reprice && update.line_overrides.is_empty() && update.merchant_metadata.is_none()
        {
            return Err(OperatorError::bad_request(
                "body",
                "nothing to change: give reprice, lineOverrides or merchantMetadata",
            ));
        }
        let book = if update.reprice || !update.line_overrides.is_empty() {
            Some(self.checkout.price_books.current().await?)
        } else {
            None
        };
        let current = self.purchase(purchase_id).await?;
        let now = Utc::now();
        let mut next = current.clone();
        let mut changed = false;
        let refused = |refusal| OperatorError::refused(&current, refusal);
        if let Some(book) = &book {
            // Line prices price the cart again too: one reprice, with them.
            let repriced = if update.line_overrides.is_empty() {
                next.repriced_by(actor, book, now).map_err(refused)?
            } else {
                let prices = line_prices(&current, &update.line_overrides, book, actor, now)?;
                match next
                    .priced_by_person(actor, &prices, book, now)
                    .map_err(refused)?
                {
                    // Those prices are set already; a reprice asked for still happens.
                    None if update.reprice => {
                        next.repriced_by(actor, book, now).map_err(refused)?
                    }
                    priced => priced,
                }
            };
            if let Some(repriced) = repriced {
                next = repriced;
                changed = true;
            }
        }
        if let Some(metadata) = &update.merchant_metadata
            && let Some(mut tagged) = next
                .with_metadata_by(actor, metadata, now)
                .map_err(refused)?
        {
            // One write: the version goes up once for the whole update.
            tagged.version = current.version + 1;
            next = tagged;
            changed = true;
        }
        if changed {
            self.write(&current, &next).await?;
        }
        Ok(self.session(&next).await)
    }

    /// Completes an Open purchase: submits it now (answering Amazon's outcome), releases a
    /// held one and submits it again, or records a charge a person confirmed with Amazon.
    pub async fn complete(
        &self,
        purchase_id: &str,
        how: &Complete,
        actor: &str,
    ) -> Result<Completion, OperatorError> {
        let current = self.purchase(purchase_id).await?;
        let now = Utc::now();
        let expected_total = match how {
            Complete::Confirmed { order_id } => {
                let completed = current
                    .confirmed_by(actor, order_id, now)
                    .map_err(|refusal| OperatorError::refused(&current, refusal))?;
                self.write(&current, &completed).await?;
                return Ok(Completion {
                    outcome: "Completed",
                    detail: format!("recorded orderId {order_id}; nothing was submitted"),
                    purchase: self.session(&completed).await,
                });
            }
            Complete::Submit { expected_total } | Complete::Resubmit { expected_total } => {
                if let (Some(expected), Some(priced)) = (expected_total, &current.checkout)
                    && priced.order_totals.price_total != *expected
                {
                    return Err(amount_mismatch(
                        &current,
                        expected,
                        &priced.order_totals.price_total,
                    ));
                }
                expected_total.as_ref()
            }
        };
        // After a release is written, every answer is 200: the purchase has changed.
        let released = match how {
            Complete::Resubmit { .. } => {
                let released = current
                    .released_by(actor, now)
                    .map_err(|refusal| OperatorError::refused(&current, refusal))?;
                self.write(&current, &released).await?;
                Some(released)
            }
            Complete::Submit { .. } | Complete::Confirmed { .. } => {
                if let Some((code, refusal)) = not_submittable(&current, now) {
                    return Err(OperatorError::Conflict {
                        state: current.state,
                        code,
                        reason: refusal,
                    });
                }
                None
            }
        };
        let deadline = Instant::now() + COMPLETE_WINDOW;
        let checked_out = self
            .checkout
            .check_out_expecting(purchase_id, deadline, expected_total)
            .await;
        let (outcome, detail) = match checked_out {
            Ok(CheckedOut::Completed { order_id }) => ("Completed", format!("orderId {order_id}")),
            Ok(CheckedOut::Declined { message }) => ("Declined", message),
            Ok(CheckedOut::Held { reason }) => ("Held", reason),
            Ok(CheckedOut::AmountMismatch { stored }) if released.is_none() => {
                return Err(amount_mismatch(
                    &current,
                    expected_total.expect("checked against one"),
                    &stored,
                ));
            }
            Ok(CheckedOut::NothingToDo { state }) if released.is_none() => {
                return Err(OperatorError::Conflict {
                    state,
                    code: "NotReady",
                    reason: format!("purchase {purchase_id} is not ready for checkout"),
                });
            }
            Err(CheckoutError::Busy) if released.is_none() => {
                return Err(OperatorError::Conflict {
                    state: PurchaseState::Open,
                    code: "Leased",
                    reason: format!("purchase {purchase_id} is being checked out right now"),
                });
            }
            Ok(CheckedOut::AmountMismatch { stored }) => (
                "Unknown",
                format!("released, then not submitted: its total changed to {stored} meanwhile"),
            ),
            Ok(CheckedOut::NothingToDo { state }) => (
                "Unknown",
                format!("released, then not submitted: it is {state} now"),
            ),
            // Charged, and not recorded here: a person was alerted with the orderId.
            Err(CheckoutError::LeaseLost {
                order_id: Some(order_id),
            }) => (
                "Unknown",
                format!(
                    "Amazon accepted it as order {order_id} (the shopper is charged), but that could not be recorded on the purchase; an alert went out. Read the purchase: if it is not Completed, complete it with that orderId"
                ),
            ),
            // Whatever else happened after a claim, the sweep reconciles it; say so, with the
            // purchase as it is now.
            Err(error) => (
                if released.is_some() || matches!(error, CheckoutError::Store(_)) {
                    "Unknown"
                } else {
                    "Retry"
                },
                error.to_string(),
            ),
        };
        let purchase = match self.store().get(purchase_id).await {
            Ok(Some(purchase)) => purchase,
            // The outcome is told; the view is the last one known.
            Ok(None) | Err(_) => released.unwrap_or(current),
        };
        Ok(Completion {
            outcome,
            detail,
            purchase: self.session(&purchase).await,
        })
    }

    /// What a cart would be charged: a Create Purchases body validated as Create Purchases
    /// does (400 naming each field), priced with the current book in its basis, and explained.
    /// Nothing is stored.
    pub async fn price_cart(&self, body: &[u8]) -> Result<PricedCart, OperatorError> {
        let request =
            validate_create_purchases(body).map_err(|invalid| OperatorError::BadRequest {
                message: invalid.message,
                errors: invalid.errors,
            })?;
        let book = self.checkout.price_books.current().await?;
        let basis = book.book.amount_basis;
        let mut priced = PricedCart {
            price_book_version: book.version.clone(),
            amount_basis: basis,
            checkout: None,
            explanation: None,
            constraints: Vec::new(),
            empty_cart: false,
        };
        match explain_cart(&book.book, &request, basis, &[]) {
            Ok((checkout, explanation)) => {
                priced.checkout = Some(checkout);
                priced.explanation = Some(explanation);
            }
            Err(Unpriced::EmptyCart) => priced.empty_cart = true,
            Err(Unpriced::Unpriceable(constraints)) => {
                priced.constraints = constraints.iter().map(SessionConstraint::of).collect();
            }
        }
        Ok(priced)
    }

    /// Cancels an Open purchase no checkout holds (Canceled / OperatorCanceled); one Amazon
    /// may have charged only with `not_charged` (Amazon confirmed no charge).
    pub async fn cancel(
        &self,
        purchase_id: &str,
        reason: &str,
        not_charged: bool,
        actor: &str,
    ) -> Result<CheckoutSession, OperatorError> {
        let current = self.purchase(purchase_id).await?;
        let now = Utc::now();
        let canceled = current
            .canceled_by(actor, reason, not_charged, now)
            .map_err(|refusal| OperatorError::refused(&current, refusal))?;
        self.write(&current, &canceled).await?;
        Ok(self.session(&canceled).await)
    }

    /// Writes `next` over `current` only: a purchase changed meanwhile (a claim, most likely)
    /// is a 409 and nothing is written.
    async fn write(&self, current: &Purchase, next: &Purchase) -> Result<(), OperatorError> {
        match self.store().update(next).await? {
            Updated::Done => Ok(()),
            Updated::Conflict(fresh) => Err(OperatorError::Conflict {
                state: fresh.map_or(current.state, |fresh| fresh.state),
                code: "Changed",
                reason: format!(
                    "purchase {} changed while it was being updated; read it again",
                    current.purchase_id
                ),
            }),
        }
    }
}

fn amount_mismatch(purchase: &Purchase, expected: &Money, stored: &Money) -> OperatorError {
    OperatorError::Conflict {
        state: purchase.state,
        code: "AmountMismatch",
        reason: format!(
            "purchase {}: its priceTotal is {stored}, not the {expected} given; nothing was submitted. Read it again and complete with the total it shows",
            purchase.purchase_id
        ),
    }
}

/// The line prices of `overrides`, checked against the purchase's cart and `book`: each line
/// exists (by position, or by an id on exactly one line) and each tax code has a rate at the
/// purchase's store. Every problem is named (a bounded list).
fn line_prices(
    purchase: &Purchase,
    overrides: &[LineOverride],
    book: &VersionedPriceBook,
    actor: &str,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<LinePrice>, OperatorError> {
    let mut errors = Vec::new();
    let mut prices = Vec::new();
    let rates = book.book.tax_rates.get(&purchase.store_id);
    for (index, wanted) in overrides.iter().enumerate() {
        let field = |name: &str| format!("lineOverrides[{index}].{name}");
        let line = match &wanted.line {
            LineRef::Position(line) if *line < purchase.cart_items.len() => Some(*line),
            LineRef::Position(line) => {
                errors.push(FieldError {
                    field: field("line"),
                    reason: format!(
                        "the cart has {} lines (0 to {}); there is no line {line}",
                        purchase.cart_items.len(),
                        purchase.cart_items.len().saturating_sub(1)
                    ),
                });
                None
            }
            LineRef::LineItemId(id) => {
                let matching: Vec<usize> = purchase
                    .cart_items
                    .iter()
                    .enumerate()
                    .filter(|(_, item)| *item.id == **id)
                    .map(|(line, _)| line)
                    .collect();
                match matching.as_slice() {
                    [line] => Some(*line),
                    [] => {
                        errors.push(FieldError {
                            field: field("lineItemId"),
                            reason: format!("no line of the cart has id '{id}'"),
                        });
                        None
                    }
                    lines => {
                        errors.push(FieldError {
                            field: field("lineItemId"),
                            reason: format!(
                                "'{id}' is on lines {lines:?}; give line (the position) instead"
                            ),
                        });
                        None
                    }
                }
            }
        };
        if !rates.is_some_and(|rates| rates.contains_key(&wanted.tax_code)) {
            errors.push(FieldError {
                field: field("taxCode"),
                reason: format!(
                    "'{}' has no rate at store {} in price book {}",
                    wanted.tax_code, purchase.store_id, book.version
                ),
            });
        }
        let line = line.filter(|line| {
            let twice = prices.iter().any(|price: &LinePrice| price.line == *line);
            if twice {
                errors.push(FieldError {
                    field: field("line"),
                    reason: format!("line {line} is priced twice in this request"),
                });
            }
            !twice
        });
        if let Some(line) = line {
            prices.push(LinePrice {
                line,
                unit_price: wanted.unit_price.clone(),
                tax_code: wanted.tax_code.clone(),
                reason: wanted.reason.clone(),
                actor: actor.to_owned(),
                at: now,
            });
        }
    }
    if errors.is_empty() {
        Ok(prices)
    } else {
        errors.truncate(crate::rest::MAX_ERRORS);
        Err(OperatorError::BadRequest {
            message: format!("{} problem(s) with lineOverrides", errors.len()),
            errors,
        })
    }
}

/// Why `purchase` cannot be submitted now, if it cannot: a conflict code and the reason.
fn not_submittable(
    purchase: &Purchase,
    now: chrono::DateTime<Utc>,
) -> Option<(&'static str, String)> {
    if purchase.state != PurchaseState::Open {
        return Some((
            "NotOpen",
            format!(
                "purchase {} is {}; only an Open purchase is submitted",
                purchase.purchase_id, purchase.state
            ),
        ));
    }
    if let Some(lease) = purchase.lease(now) {
        return Some((
            "Leased",
            format!(
                "purchase {} is being checked out until {}",
                purchase.purchase_id, lease.until
            ),
        ));
    }
    if purchase.outcome_unknown
        && purchase
            .constraints
            .iter()
            .any(|c| c.kind == ConstraintKind::CheckoutOutcomeUnknown)
    {
        return Some((
            "NotReady",
            format!(
                "purchase {} is held for reconciliation: Amazon may have charged it. Complete it with the orderId Amazon confirms, or with resubmit",
                purchase.purchase_id
            ),
        ));
    }
    if !purchase.constraints.is_empty() {
        let kinds: Vec<String> = purchase
            .constraints
            .iter()
            .map(|c| c.kind.to_string())
            .collect();
        return Some((
            "NotReady",
            format!(
                "purchase {} is held back by {}; resolve them first (reprice, line overrides, or resubmit a held one)",
                purchase.purchase_id,
                kinds.join(", ")
            ),
        ));
    }
    if purchase.checkout.is_none() {
        return Some((
            "NotReady",
            format!("purchase {} has no priced cart", purchase.purchase_id),
        ));
    }
    None
}

/// Which listing a filter asks for, as its page tokens name it: the index and every filter
/// but `until` (kept in the token on its own, so a default "now" stays fixed across pages).
fn listing_of(filter: &ListFilter) -> String {
    let constraint = filter
        .constraint
        .map(|kind| kind.to_string())
        .unwrap_or_default();
    let store = filter.store_id.as_deref().unwrap_or_default();
    match &filter.window {
        None => format!("open\u{1}{store}\u{1}{constraint}"),
        Some(window) => format!(
            "history\u{1}{store}\u{1}{}\u{1}{}\u{1}{constraint}",
            creation_key(window.since),
            filter
                .state
                .map(|state| state.to_string())
                .unwrap_or_default()
        ),
    }
}

/// A page token, decoded.
struct PageToken {
    until: Option<chrono::DateTime<Utc>>,
    cursor: Cursor,
}

/// A page token: hex of `{listing}\0{until}\0{position}`, the position a purchase id, or a
/// creation key and a purchase id (NUL and U+0001 are in none of them).
fn encode_token(listing: &str, until: Option<chrono::DateTime<Utc>>, after: &Cursor) -> String {
    let until = until.map(creation_key).unwrap_or_default();
    let position = match after {
        Cursor::Open(id) => id.clone(),
        Cursor::History(cursor) => format!("{}\u{1}{}", cursor.created, cursor.purchase_id),
    };
    hex::encode(format!("{listing}\0{until}\0{position}"))
}

fn decode_token(token: &str, listing: &str) -> Result<PageToken, OperatorError> {
    let refused = || {
        OperatorError::bad_request(
            "nextToken",
            "not a token this service gave out for this listing",
        )
    };
    let text = hex::decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(refused)?;
    let mut parts = text.splitn(3, '\0');
    let (Some(given_for), Some(until), Some(position)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(refused());
    };
    if given_for != listing || position.is_empty() {
        return Err(refused());
    }
    let until = match until {
        "" => None,
        text => Some(
            chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|_| refused())?
                .with_timezone(&Utc),
        ),
    };
    let cursor = if listing.starts_with("history") {
        let (created, id) = position.split_once('\u{1}').ok_or_else(refused)?;
        Cursor::History(HistoryCursor {
            created: created.to_owned(),
            purchase_id: id.to_owned(),
        })
    } else {
        Cursor::Open(position.to_owned())
    };
    Ok(PageToken { until, cursor })
}

#[cfg(test)]
mod tests;
