//! The operator surface: what a person uses to look at purchases and resolve what the
//! connector holds back (docs/design.md "The operator surface").
//!
//! [`Operator`] is the one service: get, list, update, complete, cancel, over the checkout's
//! own ports (its store, its Checkout Service client, its price book), so completing a purchase
//! submits it exactly as the checkout would. [`rest`] is its HTTP shape, the same under the
//! operator Lambda and `jwo serve`; the `jwo purchases` command, MCP and GraphQL call the
//! same functions. The changes themselves are the domain's (`checkout_session`).

pub mod config;
pub mod lambda;
pub mod rest;

use std::sync::Arc;
use std::time::{Duration, Instant};

use checkout::{CheckedOut, Checkout, CheckoutError};
use chrono::Utc;
use jwo_domain::checkout_session::{CheckoutSession, Refusal};
use jwo_domain::json::FieldError;
use jwo_domain::ports::{Alerts, CheckoutService, CurrentPriceBook, PurchaseStore};
use jwo_domain::pricing::ConstraintKind;
use jwo_domain::purchase::{MerchantMetadata, Purchase, PurchaseState, purchase_id};
use jwo_domain::store::{StoreError, Updated};
use serde::Serialize;
use thiserror::Error;

/// How long a `complete` may take to submit and record: the checkout's own window.
pub const COMPLETE_WINDOW: Duration = Duration::from_secs(20);
/// A list answers at most this many purchases a page.
pub const MAX_PAGE: usize = 100;

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
    /// meanwhile).
    #[error("{reason}")]
    Conflict {
        state: PurchaseState,
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
            reason: refusal.to_string(),
        }
    }
}

/// Which purchases to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub store_id: Option<String>,
    pub constraint: Option<ConstraintKind>,
    pub limit: usize,
    /// Where the previous page stopped (opaque to callers).
    pub next_token: Option<String>,
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
    pub merchant_metadata: Option<MerchantMetadata>,
}

/// How to complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Complete {
    /// Submit it now (it must be ready).
    Submit,
    /// Release a purchase the checkout held and submit it again.
    Resubmit,
    /// Record the charge Amazon confirmed for a purchase whose outcome is unknown.
    Confirmed { order_id: String },
}

/// What a `complete` did, with the purchase as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// `Completed`, `Declined`, `Held`, or `Retry` when the Checkout Service gave only
    /// transient answers (the sweep tries again).
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

    pub async fn get(&self, purchase_id: &str) -> Result<CheckoutSession, OperatorError> {
        Ok(CheckoutSession::of(
            &self.purchase(purchase_id).await?,
            Utc::now(),
        ))
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

    /// The Open purchases (what needs a person or is on its way to checkout), from the index
    /// of Open purchases, filtered by store and constraint, page by page.
    pub async fn list_open(&self, filter: &ListFilter) -> Result<PurchasePage, OperatorError> {
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let mut after = match &filter.next_token {
            Some(token) => Some(decode_token(token)?),
            None => None,
        };
        let now = Utc::now();
        let mut purchases = Vec::new();
        loop {
            let page = self.store().list_open(after.as_deref(), MAX_PAGE).await?;
            for entry in page.purchases {
                // A record that cannot be read is the sweep's to report; it is skipped here.
                let Ok(purchase) = entry else { continue };
                let wanted = purchase.state == PurchaseState::Open
                    && filter
                        .store_id
                        .as_ref()
                        .is_none_or(|store| *store == purchase.store_id)
                    && filter
                        .constraint
                        .is_none_or(|kind| purchase.constraints.iter().any(|c| c.kind == kind));
                if wanted {
                    purchases.push(CheckoutSession::of(&purchase, now));
                    if purchases.len() == limit {
                        return Ok(PurchasePage {
                            purchases,
                            next_token: Some(encode_token(&purchase.purchase_id)),
                        });
                    }
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => {
                    return Ok(PurchasePage {
                        purchases,
                        next_token: None,
                    });
                }
            }
        }
    }

    /// Applies `update` to an Open purchase no checkout holds; nothing changes on any refusal.
    pub async fn update(
        &self,
        purchase_id: &str,
        update: &Update,
        actor: &str,
    ) -> Result<CheckoutSession, OperatorError> {
        if !update.reprice && update.merchant_metadata.is_none() {
            return Err(OperatorError::bad_request(
                "body",
                "nothing to change: give reprice or merchantMetadata",
            ));
        }
        let book = if update.reprice {
            Some(self.checkout.price_books.current().await?)
        } else {
            None
        };
        let current = self.purchase(purchase_id).await?;
        let now = Utc::now();
        let mut next = current.clone();
        let mut changed = false;
        let refused = |refusal| OperatorError::refused(&current, refusal);
        if let Some(book) = &book
            && let Some(repriced) = next.repriced_by(actor, book, now).map_err(refused)?
        {
            next = repriced;
            changed = true;
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
        Ok(CheckoutSession::of(&next, now))
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
        match how {
            Complete::Confirmed { order_id } => {
                let completed = current
                    .confirmed_by(actor, order_id, now)
                    .map_err(|refusal| OperatorError::refused(&current, refusal))?;
                self.write(&current, &completed).await?;
                return Ok(Completion {
                    outcome: "Completed",
                    detail: format!("recorded orderId {order_id}; nothing was submitted"),
                    purchase: CheckoutSession::of(&completed, now),
                });
            }
            Complete::Resubmit => {
                let released = current
                    .released_by(actor, now)
                    .map_err(|refusal| OperatorError::refused(&current, refusal))?;
                self.write(&current, &released).await?;
            }
            Complete::Submit => {
                if let Some(refusal) = not_submittable(&current, now) {
                    return Err(OperatorError::Conflict {
                        state: current.state,
                        reason: refusal,
                    });
                }
            }
        }
        let deadline = Instant::now() + COMPLETE_WINDOW;
        let (outcome, detail) = match self.checkout.check_out(purchase_id, deadline).await {
            Ok(CheckedOut::Completed { order_id }) => ("Completed", format!("orderId {order_id}")),
            Ok(CheckedOut::Declined { message }) => ("Declined", message),
            Ok(CheckedOut::Held { reason }) => ("Held", reason),
            Ok(CheckedOut::NothingToDo { state }) => {
                return Err(OperatorError::Conflict {
                    state,
                    reason: format!("purchase {purchase_id} is not ready for checkout"),
                });
            }
            Err(CheckoutError::Busy) => {
                return Err(OperatorError::Conflict {
                    state: PurchaseState::Open,
                    reason: format!("purchase {purchase_id} is being checked out right now"),
                });
            }
            Err(CheckoutError::Store(error)) => return Err(error.into()),
            Err(error) => ("Retry", error.to_string()),
        };
        let purchase = self.purchase(purchase_id).await?;
        Ok(Completion {
            outcome,
            detail,
            purchase: CheckoutSession::of(&purchase, Utc::now()),
        })
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
        Ok(CheckoutSession::of(&canceled, now))
    }

    /// Writes `next` over `current` only: a purchase changed meanwhile (a claim, most likely)
    /// is a 409 and nothing is written.
    async fn write(&self, current: &Purchase, next: &Purchase) -> Result<(), OperatorError> {
        match self.store().update(next).await? {
            Updated::Done => Ok(()),
            Updated::Conflict(fresh) => Err(OperatorError::Conflict {
                state: fresh.map_or(current.state, |fresh| fresh.state),
                reason: format!(
                    "purchase {} changed while it was being updated; read it again",
                    current.purchase_id
                ),
            }),
        }
    }
}

/// Why `purchase` cannot be submitted now, if it cannot.
fn not_submittable(purchase: &Purchase, now: chrono::DateTime<Utc>) -> Option<String> {
    if purchase.state != PurchaseState::Open {
        return Some(format!(
            "purchase {} is {}; only an Open purchase is submitted",
            purchase.purchase_id, purchase.state
        ));
    }
    if let Some(lease) = purchase.lease(now) {
        return Some(format!(
            "purchase {} is being checked out until {}",
            purchase.purchase_id, lease.until
        ));
    }
    if purchase.outcome_unknown
        && purchase
            .constraints
            .iter()
            .any(|c| c.kind == ConstraintKind::CheckoutOutcomeUnknown)
    {
        return Some(format!(
            "purchase {} is held for reconciliation: Amazon may have charged it. Complete it with the orderId Amazon confirms, or with resubmit",
            purchase.purchase_id
        ));
    }
    if !purchase.constraints.is_empty() {
        let kinds: Vec<String> = purchase
            .constraints
            .iter()
            .map(|c| c.kind.to_string())
            .collect();
        return Some(format!(
            "purchase {} is held back by {}; resolve them first (reprice, or resubmit a held one)",
            purchase.purchase_id,
            kinds.join(", ")
        ));
    }
    if purchase.checkout.is_none() {
        return Some(format!(
            "purchase {} has no priced cart",
            purchase.purchase_id
        ));
    }
    None
}

fn encode_token(after: &str) -> String {
    hex::encode(after)
}

fn decode_token(token: &str) -> Result<String, OperatorError> {
    hex::decode(token)
        .ok()
        .filter(|bytes| !bytes.is_empty())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| OperatorError::bad_request("nextToken", "not a token this service gave out"))
}

#[cfg(test)]
mod tests;
