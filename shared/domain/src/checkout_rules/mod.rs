//! Amazon's checkout rules (docs/contract.md §2), checked on a Checkout Service body against the cart
//! Amazon sent to Create Purchases. Independent of the pricing engine: it reads the body as
//! untyped JSON and recomputes every sum, so it can judge the engine, the simulator's input
//! and anyone else's payload alike.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contract::checkout::AmountBasis;
use crate::contract::create_purchases::CartItem;
use crate::json::fields::Path;
use checker::{Checker, Line};

/// Which rule a payload breaks. `WellFormed` covers what the six rules presuppose: the fields
/// exist and have the right JSON types (Amazon answers 400 for missing fields too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CheckoutRule {
    WellFormed,
    /// 1. The line items match the cart (same products, same quantities).
    MatchesCart,
    /// 2. Each line: `totalPrice = price − Σ promotions + salesTax` (+ fees and their tax).
    LineTotal,
    /// 3. The order totals are the sums of the lines and
    ///    `priceTotal = subTotal − promotionsTotal + salesTaxTotal` (+ fees).
    OrderTotals,
    /// 4. Every amount is a string with exactly two decimals, in the cart's one currency, and
    ///    not negative.
    TwoDecimals,
    /// 5. `lineItems` is not empty.
    NotEmpty,
    /// 6. Every line has a price.
    EveryLinePriced,
}

impl CheckoutRule {
    pub const ALL: [CheckoutRule; 7] = [
        CheckoutRule::WellFormed,
        CheckoutRule::MatchesCart,
        CheckoutRule::LineTotal,
        CheckoutRule::OrderTotals,
        CheckoutRule::TwoDecimals,
        CheckoutRule::NotEmpty,
        CheckoutRule::EveryLinePriced,
    ];

    /// The rule's number in docs/contract.md §2 (`WellFormed` has none).
    pub fn number(self) -> Option<u8> {
        match self {
            CheckoutRule::WellFormed => None,
            CheckoutRule::MatchesCart => Some(1),
            CheckoutRule::LineTotal => Some(2),
            CheckoutRule::OrderTotals => Some(3),
            CheckoutRule::TwoDecimals => Some(4),
            CheckoutRule::NotEmpty => Some(5),
            CheckoutRule::EveryLinePriced => Some(6),
        }
    }
}

impl fmt::Display for CheckoutRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            Some(number) => write!(f, "rule {number} ({self:?})"),
            None => write!(f, "{self:?}"),
        }
    }
}

/// One broken rule, where, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleViolation {
    pub rule: CheckoutRule,
    pub field: String,
    pub reason: String,
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.rule, self.field, self.reason)
    }
}

/// Checks raw Checkout Service body bytes. Unparseable JSON is a `WellFormed` violation.
pub fn check_checkout_body(
    body: &[u8],
    cart: &[CartItem],
    basis: AmountBasis,
) -> Vec<RuleViolation> {
    match serde_json::from_slice::<Value>(body) {
        Ok(document) => check_checkout_request(&document, cart, basis),
        Err(error) => vec![RuleViolation {
            rule: CheckoutRule::WellFormed,
            field: "body".into(),
            reason: format!("is not valid JSON: {error}"),
        }],
    }
}

/// Checks a Checkout Service body against the cart it prices. Returns every violation found;
/// an empty list means Amazon's rules hold exactly.
pub fn check_checkout_request(
    body: &Value,
    cart: &[CartItem],
    basis: AmountBasis,
) -> Vec<RuleViolation> {
    let mut check = Checker::default();
    let root = Path::root("body");
    let Some(body) = check.object(body, &root, CheckoutRule::WellFormed) else {
        return check.violations;
    };
    for key in ["idempotentShoppingTripId", "storeId"] {
        let path = root.key(key);
        if let Some(value) = check.required(body, key, &path, CheckoutRule::WellFormed) {
            check.string(value, &path, CheckoutRule::WellFormed);
        }
    }

    let lines_path = root.key("lineItems");
    let lines: Vec<Option<Line>> = match check
        .required(body, "lineItems", &lines_path, CheckoutRule::WellFormed)
        .and_then(|value| check.array(value, &lines_path))
    {
        None => Vec::new(),
        Some([]) => {
            check.push(
                CheckoutRule::NotEmpty,
                &lines_path,
                "is empty; an empty cart is never submitted",
            );
            Vec::new()
        }
        Some(lines) => lines
            .iter()
            .enumerate()
            .map(|(index, line)| check.line(line, &lines_path.index(index), basis))
            .collect(),
    };

    check.matches_cart(&lines, cart, &lines_path);

    let totals_path = root.key("orderTotals");
    let totals = check
        .required(body, "orderTotals", &totals_path, CheckoutRule::WellFormed)
        .and_then(|value| check.object(value, &totals_path, CheckoutRule::WellFormed));
    if let Some(totals) = totals {
        let mut read = |key: &'static str| {
            let path = totals_path.key(key);
            check.required_money(totals, key, &path)
        };
        let given = [
            read("subTotal"),
            read("promotionsTotal"),
            read("salesTaxTotal"),
            read("priceTotal"),
        ];
        let all_lines: Option<Vec<Line>> = lines.into_iter().collect();
        if let (Some(lines), [Some(sub), Some(promotions), Some(tax), Some(total)]) =
            (all_lines, given)
        {
            check.order_totals(&lines, [sub, promotions, tax, total], &totals_path, basis);
        }
    }
    check.violations
}

mod checker;

#[cfg(test)]
mod tests;
