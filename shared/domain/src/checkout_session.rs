//! The purchase as people see and resolve it: Amazon Pay's Checkout Session, in our words
//! (docs/design.md "The operator surface"). [`CheckoutSession`] is the view; the `impl
//! Purchase` below holds the changes a person may make, each one refused with a reason unless
//! the purchase is Open and no checkout holds it, and each one recorded in the purchase's
//! history with who made it. Every adapter (REST, the `jwo` command, MCP, GraphQL) calls these.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::catalog::price_book_versions::VersionedPriceBook;
use crate::checkout_rules::check_checkout_request;
use crate::contract::checkout::{AmountBasis, LineItem, OrderTotals};
use crate::contract::create_purchases::CartItem;
use crate::pricing::{
    Charged, Constraint, ConstraintKind, LineExplanation, LinePrice, ThresholdStep,
};
use crate::purchase::{CancelReason, Change, MerchantMetadata, Purchase, PurchaseState};

/// A purchase in the Checkout Session's shape. Never carries payment, shopper or device ids:
/// the purchase does not keep them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutSession {
    pub purchase_id: String,
    pub store_id: String,
    pub idempotent_shopping_trip_id: String,
    pub status_detail: StatusDetail,
    /// What blocks completion; empty when nothing does.
    pub constraints: Vec<SessionConstraint>,
    pub creation_timestamp: String,
    /// When the record may be deleted: set only once it is Completed or Canceled.
    pub expiration_timestamp: Option<String>,
    /// Amazon's, once Completed.
    pub order_id: Option<String>,
    pub price_book_version: Option<String>,
    /// The basis the purchase is priced in, when it was set for it (otherwise the book's).
    pub amount_basis: Option<AmountBasis>,
    pub order_totals: Option<OrderTotals>,
    /// The priced lines, exactly as submitted (or to be submitted), each with how it was
    /// priced.
    pub line_items: Vec<SessionLineItem>,
    /// How the cart was priced as a whole (the threshold, and the totals the lines add up
    /// to); `None` with `explanationUnavailable` saying why when it cannot be shown.
    pub pricing: Option<PricingSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation_unavailable: Option<String>,
    /// The cart as Amazon sent it.
    pub cart: SessionCart,
    pub merchant_metadata: MerchantMetadata,
    pub checkout: CheckoutProgress,
    pub history: Vec<Change>,
}

/// A priced line as on the wire, with its explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionLineItem {
    #[serde(flatten)]
    pub priced: LineItem,
    pub explanation: Option<LineExplanation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingSummary {
    pub amount_basis: AmountBasis,
    pub threshold: Option<ThresholdStep>,
    pub totals: Charged,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetail {
    pub state: PurchaseState,
    pub reason_code: Option<CancelReason>,
    pub reason_description: Option<String>,
    pub last_updated_timestamp: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionConstraint {
    pub constraint_id: ConstraintKind,
    pub field: String,
    pub description: String,
}

impl SessionConstraint {
    pub fn of(constraint: &Constraint) -> SessionConstraint {
        SessionConstraint {
            constraint_id: constraint.kind,
            field: constraint.field.clone(),
            description: constraint.detail.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCart {
    pub trip_end_time: String,
    pub cart_items: Vec<CartItem>,
}

/// Where the submission to the Checkout Service stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutProgress {
    pub attempts: u32,
    /// False once a submission went unanswered: Amazon may have charged the trip.
    pub outcome_known: bool,
    /// Not submitted before this (the Checkout Service asked to wait).
    pub not_before: Option<String>,
    /// A checkout holds the purchase until then; nobody else changes it meanwhile.
    pub leased_until: Option<String>,
}

/// UTC ISO 8601 with a `Z`, to the second, as the Checkout Session's timestamps.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl CheckoutSession {
    /// The view of `purchase` as it is at `now` (a lease that ran out is not shown).
    pub fn of(purchase: &Purchase, now: DateTime<Utc>) -> CheckoutSession {
        CheckoutSession {
            purchase_id: purchase.purchase_id.clone(),
            store_id: purchase.store_id.clone(),
            idempotent_shopping_trip_id: purchase.idempotent_shopping_trip_id.clone(),
            status_detail: StatusDetail {
                state: purchase.state,
                reason_code: purchase.reason_code,
                reason_description: purchase.reason.clone(),
                last_updated_timestamp: timestamp(purchase.updated_at),
            },
            constraints: purchase
                .constraints
                .iter()
                .map(SessionConstraint::of)
                .collect(),
            creation_timestamp: timestamp(purchase.created_at),
            expiration_timestamp: purchase.expires_at.map(timestamp),
            order_id: purchase.order_id.clone(),
            price_book_version: purchase.price_book_version.clone(),
            amount_basis: purchase.amount_basis,
            order_totals: purchase.checkout.as_ref().map(|c| c.order_totals.clone()),
            line_items: purchase
                .checkout
                .as_ref()
                .map(|c| {
                    c.line_items
                        .iter()
                        .map(|line| SessionLineItem {
                            priced: line.clone(),
                            explanation: None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            pricing: None,
            explanation_unavailable: None,
            cart: SessionCart {
                trip_end_time: purchase.trip_end_time.as_str().to_owned(),
                cart_items: purchase.cart_items.clone(),
            },
            merchant_metadata: purchase.merchant_metadata.clone(),
            checkout: CheckoutProgress {
                attempts: purchase.checkout_attempts,
                outcome_known: !purchase.may_be_charged(),
                not_before: purchase.not_before.map(timestamp),
                leased_until: purchase.lease(now).map(|lease| timestamp(lease.until)),
            },
            history: purchase.history.clone(),
        }
    }

    /// The view with each line's explanation, worked out from `book` (the version the cart
    /// was priced with, when it can still be read).
    pub fn explained(
        purchase: &Purchase,
        book: Option<&VersionedPriceBook>,
        now: DateTime<Utc>,
    ) -> CheckoutSession {
        let mut session = CheckoutSession::of(purchase, now);
        if purchase.checkout.is_none() {
            return session;
        }
        let version = purchase.price_book_version.as_deref().unwrap_or("unknown");
        match book.and_then(|book| purchase.explanation(book)) {
            Some(explanation) => {
                for (line, explained) in session.line_items.iter_mut().zip(explanation.lines) {
                    line.explanation = Some(explained);
                }
                session.pricing = Some(PricingSummary {
                    amount_basis: explanation.amount_basis,
                    threshold: explanation.threshold,
                    totals: explanation.totals,
                });
            }
            None => {
                session.explanation_unavailable = Some(format!(
                    "price book {version}, which priced this cart, cannot be read, or no longer prices it to the body stored"
                ));
            }
        }
        session
    }
}

/// Why a person's change was refused; nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "purchase {purchase_id} is {state}; only an Open purchase can be changed ({action} refused)"
    )]
    NotOpen {
        purchase_id: String,
        state: PurchaseState,
        action: &'static str,
    },
    #[error(
        "purchase {purchase_id} is being checked out until {until}; try again after that ({action} refused)"
    )]
    Leased {
        purchase_id: String,
        until: DateTime<Utc>,
        action: &'static str,
    },
    #[error("purchase {purchase_id}: {why}")]
    NotApplicable { purchase_id: String, why: String },
}

impl Purchase {
    /// Open and not held by a checkout: the only purchases a person may change.
    fn changeable(&self, action: &'static str, now: DateTime<Utc>) -> Result<(), Refusal> {
        if self.state != PurchaseState::Open {
            return Err(Refusal::NotOpen {
                purchase_id: self.purchase_id.clone(),
                state: self.state,
                action,
            });
        }
        if let Some(lease) = self.lease(now) {
            return Err(Refusal::Leased {
                purchase_id: self.purchase_id.clone(),
                until: lease.until,
                action,
            });
        }
        Ok(())
    }

    fn not_applicable(&self, why: impl Into<String>) -> Refusal {
        Refusal::NotApplicable {
            purchase_id: self.purchase_id.clone(),
            why: why.into(),
        }
    }

    /// A person cancels the purchase (Canceled / OperatorCanceled), never while a checkout
    /// holds it. One Amazon may have charged is canceled only when the person says Amazon
    /// confirmed it was not (`not_charged`).
    pub fn canceled_by(
        &self,
        actor: &str,
        reason: &str,
        not_charged: bool,
        now: DateTime<Utc>,
    ) -> Result<Purchase, Refusal> {
        self.changeable("cancel", now)?;
        if self.may_be_charged() && !not_charged {
            return Err(self.not_applicable(
                "Amazon may have charged this trip (a submission got no answer): ask Amazon first; cancel it with notCharged only once Amazon confirms no charge, or complete it with the orderId Amazon gives",
            ));
        }
        let canceled = self
            .cancel(CancelReason::OperatorCanceled, reason, now)
            .map_err(|error| self.not_applicable(error.to_string()))?;
        Ok(canceled.recorded(now, actor, "cancel", reason.to_owned()))
    }

    /// A person records the charge Amazon confirmed for a purchase whose outcome is unknown:
    /// Completed with that orderId, nothing submitted.
    pub fn confirmed_by(
        &self,
        actor: &str,
        order_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Purchase, Refusal> {
        self.changeable("complete with an orderId", now)?;
        if !self.may_be_charged() {
            return Err(self.not_applicable(
                "its outcome is known (no submission went unanswered); complete it by submitting it",
            ));
        }
        if order_id.trim().is_empty() {
            return Err(self.not_applicable("orderId is empty"));
        }
        let completed = self
            .complete(order_id, now)
            .map_err(|error| self.not_applicable(error.to_string()))?;
        Ok(completed.recorded(
            now,
            actor,
            "complete",
            format!("orderId {order_id} confirmed with Amazon; nothing submitted"),
        ))
    }

    /// A person releases a purchase the checkout held (an outcome to reconcile, a refusal) to
    /// be submitted again. Its outcome stays unknown if it was, so a 4xx holds it again rather
    /// than decline it.
    pub fn released_by(&self, actor: &str, now: DateTime<Utc>) -> Result<Purchase, Refusal> {
        self.changeable("resubmit", now)?;
        let held = |kind: ConstraintKind| {
            matches!(
                kind,
                ConstraintKind::CheckoutOutcomeUnknown | ConstraintKind::CheckoutRefused
            )
        };
        if !self.constraints.iter().any(|c| held(c.kind)) {
            return Err(self.not_applicable("it is not held by the checkout"));
        }
        let mut next = self.next(now);
        next.constraints.retain(|c| !held(c.kind));
        Ok(next.recorded(
            now,
            actor,
            "resubmit",
            "released for another submission".into(),
        ))
    }

    /// A person prices the cart again from `book` (after a missing SKU was imported, say).
    /// `None`: the same prices, nothing to change.
    pub fn repriced_by(
        &self,
        actor: &str,
        book: &VersionedPriceBook,
        now: DateTime<Utc>,
    ) -> Result<Option<Purchase>, Refusal> {
        self.changeable("reprice", now)?;
        let repriced = self
            .repriced(book, now)
            .map_err(|error| self.not_applicable(error.to_string()))?;
        if repriced.checkout == self.checkout
            && repriced.constraints == self.constraints
            && repriced.state == self.state
            && repriced.price_book_version == self.price_book_version
        {
            return Ok(None);
        }
        let detail = format!(
            "priced with price book {}: {}",
            book.version,
            match (&repriced.state, &repriced.checkout) {
                (PurchaseState::Canceled, _) => "an empty cart".to_owned(),
                (_, Some(checkout)) =>
                    format!("total {}", checkout.order_totals.price_total.amount_text()),
                (_, None) => format!("{} constraints left", repriced.constraints.len()),
            }
        );
        Ok(Some(repriced.recorded(now, actor, "reprice", detail)))
    }

    /// A person prices lines the book cannot (`prices`, each replacing any earlier price of its
    /// line), and the cart is priced again from `book` with them. Refused when the result
    /// would break a checkout rule. `None`: those prices are already set and nothing changes.
    pub fn priced_by_person(
        &self,
        actor: &str,
        prices: &[LinePrice],
        book: &VersionedPriceBook,
        now: DateTime<Utc>,
    ) -> Result<Option<Purchase>, Refusal> {
        self.changeable("lineOverrides", now)?;
        let same = |a: &LinePrice, b: &LinePrice| {
            a.line == b.line
                && a.unit_price == b.unit_price
                && a.tax_code == b.tax_code
                && a.reason == b.reason
        };
        let already = prices.iter().all(|price| {
            self.line_overrides
                .iter()
                .rev()
                .find(|set| set.line == price.line)
                .is_some_and(|set| same(set, price))
        });
        if already {
            return Ok(None);
        }
        let mut with_prices = self.clone();
        for price in prices {
            with_prices
                .line_overrides
                .retain(|set| set.line != price.line);
            with_prices.line_overrides.push(price.clone());
        }
        with_prices.line_overrides.sort_by_key(|price| price.line);
        let mut repriced = with_prices
            .repriced(book, now)
            .map_err(|error| self.not_applicable(error.to_string()))?;
        if let Some(checkout) = &repriced.checkout {
            let body = serde_json::to_value(checkout).expect("a checkout request serializes");
            let basis = repriced.amount_basis.unwrap_or(book.book.amount_basis);
            let violations = check_checkout_request(&body, &repriced.cart_items, basis);
            if !violations.is_empty() {
                let listed: Vec<String> =
                    violations.iter().take(5).map(|v| v.to_string()).collect();
                return Err(self.not_applicable(format!(
                    "with those prices the cart would break {} checkout rule(s): {}",
                    violations.len(),
                    listed.join("; ")
                )));
            }
        }
        repriced.version = self.version + 1;
        let detail = prices
            .iter()
            .map(|price| {
                format!(
                    "line {} at {} ({}): {}",
                    price.line, price.unit_price, price.tax_code, price.reason
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        Ok(Some(repriced.recorded(now, actor, "lineOverrides", detail)))
    }

    /// A person sets the retailer's references. `None`: they are already so.
    pub fn with_metadata_by(
        &self,
        actor: &str,
        metadata: &MerchantMetadata,
        now: DateTime<Utc>,
    ) -> Result<Option<Purchase>, Refusal> {
        self.changeable("update merchantMetadata", now)?;
        if &self.merchant_metadata == metadata {
            return Ok(None);
        }
        let mut next = self.next(now);
        next.merchant_metadata = metadata.clone();
        Ok(Some(next.recorded(
            now,
            actor,
            "update merchantMetadata",
            serde_json::to_string(metadata).expect("metadata serializes"),
        )))
    }
}

#[cfg(test)]
mod tests;
