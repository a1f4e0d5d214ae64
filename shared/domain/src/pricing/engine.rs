//! The pricing engine (docs/pricing.md): a validated cart and a price book in, the Checkout Service
//! body out. Every amount is a `Decimal`; every rounding is [`crate::money::round2`]'s (half
//! away from zero), worked out in whole cents by `money::cents_of_product` and
//! `cents_of_quotient`.
//!
//! The amounts are figured once, for whole lines (the `line` basis). The `unit` basis is then
//! derived from them as docs/pricing.md's "Unit basis" settles it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::allocation::largest_remainder;
use super::explanation::CartExplanation;
use super::price_book::{Item, PriceBook, SoldBy};
use super::promotion::PromotionRule;
use crate::contract::checkout::AmountBasis;
use crate::contract::checkout::{
    AppliedPromotion, CheckoutRequest, DepositAndFee, LineItem, OrderTotals, UnitPrice,
};
use crate::contract::create_purchases::{CartItem, CartItemType, CreatePurchasesRequest};
use crate::money::{
    CurrencyCode, Money, cents_of_product, cents_of_quotient, from_cents, parse_plain_decimal,
    to_cents,
};
use crate::wire_enum;

wire_enum! {
    /// Why a stored purchase cannot go to checkout yet (docs/design.md lifecycle).
    ConstraintKind {
        UnknownSku = "UnknownSku",
        UnknownStore = "UnknownStore",
        MissingTaxRate = "MissingTaxRate",
        InvalidQuantity = "InvalidQuantity",
        /// No price book could be read when the cart arrived: stored unpriced, and priced by
        /// the checkout's sweep once a book can be read.
        NoPriceBook = "NoPriceBook",
        /// A submission got no answer and a later one was refused: Amazon may have charged
        /// the trip. A person reconciles it; it is never submitted again by itself.
        CheckoutOutcomeUnknown = "CheckoutOutcomeUnknown",
        /// The Checkout Service refused the cart with a 4xx that is not a decline (a
        /// configuration or protocol problem): held, never canceled.
        CheckoutRefused = "CheckoutRefused",
    }
}

impl ConstraintKind {
    /// Whether pricing the cart again settles it (the pricing engine's findings), rather than
    /// a person (what the checkout held).
    pub fn is_pricing(self) -> bool {
        match self {
            ConstraintKind::UnknownSku
            | ConstraintKind::UnknownStore
            | ConstraintKind::MissingTaxRate
            | ConstraintKind::InvalidQuantity
            | ConstraintKind::NoPriceBook => true,
            ConstraintKind::CheckoutOutcomeUnknown | ConstraintKind::CheckoutRefused => false,
        }
    }
}

/// Something that blocks checkout, with the cart field it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub kind: ConstraintKind,
    pub field: String,
    pub detail: String,
}

impl Constraint {
    /// No price book could be read (`why`): the cart is stored unpriced.
    pub fn no_price_book(why: &str) -> Constraint {
        Constraint {
            kind: ConstraintKind::NoPriceBook,
            field: "priceBook".into(),
            detail: format!("no price book could be read: {why}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PricingOutcome {
    /// The shopper took nothing: nothing is ever submitted to checkout.
    EmptyCart,
    Priced(CheckoutRequest),
    /// The cart cannot be priced with this price book; every reason is listed.
    Unpriceable(Vec<Constraint>),
}

/// The price a person set for one cart line (a SKU the book does not have, or prices wrongly):
/// the line is priced at `unit_price` with the rate of `tax_code` at the cart's store, takes no
/// item promotion, keeps the fees of the book's item if there is one, and takes its share of a
/// threshold like any line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinePrice {
    /// The cart line's position (0-based).
    pub line: usize,
    /// Exactly two decimals, not negative.
    pub unit_price: String,
    pub tax_code: String,
    pub reason: String,
    /// Who set it, and when.
    pub actor: String,
    pub at: DateTime<Utc>,
}

impl LinePrice {
    /// `unit_price` as a decimal; it was checked when the price was set.
    pub fn price(&self) -> Option<Decimal> {
        crate::money::parse_money_amount(&self.unit_price)
            .ok()
            .filter(|price| !price.is_sign_negative())
    }
}

/// A cart that was not priced: the [`PricingOutcome`]s without a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unpriced {
    EmptyCart,
    Unpriceable(Vec<Constraint>),
}

/// Prices a validated cart.
pub fn price_cart(
    book: &PriceBook,
    request: &CreatePurchasesRequest,
    basis: AmountBasis,
) -> PricingOutcome {
    price_cart_with(book, request, basis, &[])
}

/// Prices a validated cart with the lines a person priced (`overrides`) taking their price.
pub fn price_cart_with(
    book: &PriceBook,
    request: &CreatePurchasesRequest,
    basis: AmountBasis,
    overrides: &[LinePrice],
) -> PricingOutcome {
    let overridden = overridden_items(book, request, overrides);
    match figure(book, request, overrides, &overridden) {
        Err(Unpriced::EmptyCart) => PricingOutcome::EmptyCart,
        Err(Unpriced::Unpriceable(constraints)) => PricingOutcome::Unpriceable(constraints),
        Ok((lines, charges)) => {
            PricingOutcome::Priced(emit(book, request, &lines, &charges, basis))
        }
    }
}

/// The cart priced as [`price_cart_with`] prices it, with how each amount came about.
pub fn explain_cart(
    book: &PriceBook,
    request: &CreatePurchasesRequest,
    basis: AmountBasis,
    overrides: &[LinePrice],
) -> Result<(CheckoutRequest, CartExplanation), Unpriced> {
    let overridden = overridden_items(book, request, overrides);
    let (lines, charges) = figure(book, request, overrides, &overridden)?;
    let checkout = emit(book, request, &lines, &charges, basis);
    let explanation =
        super::explanation::explain(book, request, overrides, &lines, &charges, basis);
    Ok((checkout, explanation))
}

/// Resolves and charges every line; an empty or unpriceable cart is the outcome itself.
fn figure<'b>(
    book: &'b PriceBook,
    request: &CreatePurchasesRequest,
    overrides: &'b [LinePrice],
    overridden: &'b [(usize, Item)],
) -> Result<(Vec<CartLine<'b>>, Vec<LineCharges>), Unpriced> {
    if request.cart_items.is_empty() {
        return Err(Unpriced::EmptyCart);
    }
    let lines =
        resolve_lines(book, request, overrides, overridden).map_err(Unpriced::Unpriceable)?;
    let trip_end = request.shopping_trip.end_time.instant();
    let charges = charge_lines(book, &lines, &request.store_id, trip_end);
    Ok((lines, charges))
}

fn emit(
    book: &PriceBook,
    request: &CreatePurchasesRequest,
    lines: &[CartLine<'_>],
    charges: &[LineCharges],
    basis: AmountBasis,
) -> CheckoutRequest {
    match basis {
        AmountBasis::Line => emit_line_basis(book, request, lines, charges),
        AmountBasis::Unit => emit_unit_basis(book, request, lines, charges),
    }
}

/// The item each overridden line is priced as: the person's price and tax code, the book's
/// sale unit and fees when the book knows the item. The last override of a line wins.
fn overridden_items(
    book: &PriceBook,
    request: &CreatePurchasesRequest,
    overrides: &[LinePrice],
) -> Vec<(usize, Item)> {
    let mut items: Vec<(usize, Item)> = Vec::new();
    for price in overrides {
        let (Some(cart_item), Some(unit_price)) =
            (request.cart_items.get(price.line), price.price())
        else {
            continue;
        };
        let known = find_item(book, cart_item).map(|(index, _)| &book.items[index]);
        let whole =
            parse_plain_decimal(&cart_item.quantity.value).is_some_and(|q| q.fract().is_zero());
        let item = Item {
            sku: known.map_or_else(|| cart_item.id.to_string(), |item| item.sku.clone()),
            name: known.map_or_else(|| "priced by a person".to_owned(), |item| item.name.clone()),
            price: unit_price,
            tax_code: price.tax_code.clone(),
            sold_by: known.map_or(if whole { SoldBy::Unit } else { SoldBy::Weight }, |item| {
                item.sold_by
            }),
            unit: known.map_or_else(String::new, |item| item.unit.clone()),
            fees: known.map_or_else(Vec::new, |item| item.fees.clone()),
        };
        items.retain(|(line, _)| *line != price.line);
        items.push((price.line, item));
    }
    items
}

/// The book's item for a cart item: by SKU, or for a scan code by barcode, then by SKU.
fn find_item(book: &PriceBook, cart_item: &CartItem) -> Option<(usize, Found)> {
    match cart_item.item_type {
        CartItemType::Sku => book
            .item_by_sku(&cart_item.id)
            .map(|index| (index, Found::Sku)),
        CartItemType::ScanCode => book
            .item_by_barcode(&cart_item.id)
            .map(|index| (index, Found::Barcode))
            .or_else(|| {
                book.item_by_sku(&cart_item.id)
                    .map(|index| (index, Found::Sku))
            }),
    }
}

/// How a cart line's item was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Found {
    Sku,
    Barcode,
    /// A person priced the line (the index of its [`LinePrice`]).
    Override(usize),
}

/// A cart item matched to its price book item.
pub(super) struct CartLine<'b> {
    pub(super) item: &'b Item,
    /// The book's item; `None` for a line a person priced (it takes no item promotion).
    pub(super) item_index: Option<usize>,
    pub(super) found: Found,
    pub(super) quantity: Decimal,
    /// Whole units of a count item: what pooled promotions work with. Weight items: `None`.
    pub(super) units: Option<u64>,
    pub(super) tax_rate: Decimal,
}

/// A line's amounts for its whole quantity, in whole cents.
#[derive(Default)]
pub(super) struct LineCharges {
    pub(super) extended: i128,
    /// In the order the promotions were applied.
    pub(super) promotions: Vec<Applied>,
    pub(super) fees: Vec<i128>,
    pub(super) tax: i128,
}

/// One promotion on one line: its amount, and the units and groups of the line it took.
#[derive(Clone, Copy, Debug)]
pub(super) struct Applied {
    pub(super) promotion: usize,
    pub(super) amount: i128,
    /// Units of the line the promotion was figured on (zero for a threshold).
    pub(super) units: Decimal,
    /// Pooled groups the line's units took part in.
    pub(super) groups: u64,
}

impl LineCharges {
    fn add_promotion(&mut self, promotion: usize, amount: i128, units: Decimal, groups: u64) {
        if amount == 0 {
            return;
        }
        match self
            .promotions
            .iter_mut()
            .find(|applied| applied.promotion == promotion)
        {
            Some(applied) => {
                applied.amount += amount;
                applied.units += units;
                applied.groups += groups;
            }
            None => self.promotions.push(Applied {
                promotion,
                amount,
                units,
                groups,
            }),
        }
    }

    pub(super) fn promotions_total(&self) -> i128 {
        self.promotions.iter().map(|applied| applied.amount).sum()
    }

    pub(super) fn net(&self) -> i128 {
        self.extended - self.promotions_total()
    }
}

fn resolve_lines<'b>(
    book: &'b PriceBook,
    request: &CreatePurchasesRequest,
    overrides: &[LinePrice],
    overridden: &'b [(usize, Item)],
) -> Result<Vec<CartLine<'b>>, Vec<Constraint>> {
    let mut constraints = Vec::new();
    let store_id = request.store_id.as_str();
    let store_rates = book.store_tax_rates(store_id);
    if store_rates.is_none() {
        constraints.push(Constraint {
            kind: ConstraintKind::UnknownStore,
            field: "storeId".into(),
            detail: format!("store '{store_id}' has no tax rates in the price book"),
        });
    }
    let mut lines = Vec::with_capacity(request.cart_items.len());
    for (position, cart_item) in request.cart_items.iter().enumerate() {
        if let Some((_, item)) = overridden.iter().find(|(line, _)| *line == position) {
            let index = overrides.iter().rposition(|price| price.line == position);
            match priced_by_person(book, store_id, position, cart_item, item, index) {
                Ok(line) => lines.push(line),
                Err(constraint) => constraints.push(constraint),
            }
            continue;
        }
        let Some((item_index, found)) = find_item(book, cart_item) else {
            let looked_up = match cart_item.item_type {
                CartItemType::Sku => "SKU",
                CartItemType::ScanCode => "barcode or SKU",
            };
            constraints.push(Constraint {
                kind: ConstraintKind::UnknownSku,
                field: format!("cartItems[{position}].id"),
                detail: format!("no price book item has {looked_up} '{}'", cart_item.id),
            });
            continue;
        };
        let item = &book.items[item_index];
        let quantity_field = || format!("cartItems[{position}].quantity.value");
        let text = &cart_item.quantity.value;
        let quantity = match parse_plain_decimal(text) {
            Some(quantity) if quantity > Decimal::ZERO => quantity,
            _ => {
                constraints.push(Constraint {
                    kind: ConstraintKind::InvalidQuantity,
                    field: quantity_field(),
                    detail: format!("quantity '{text}' is not a positive decimal"),
                });
                continue;
            }
        };
        let units = match item.sold_by {
            SoldBy::Weight => None,
            SoldBy::Unit if quantity.fract().is_zero() => quantity.to_u64(),
            SoldBy::Unit => {
                constraints.push(Constraint {
                    kind: ConstraintKind::InvalidQuantity,
                    field: quantity_field(),
                    detail: format!(
                        "SKU '{}' is sold by unit; quantity '{text}' is not whole",
                        item.sku
                    ),
                });
                continue;
            }
        };
        let tax_rate = if let Some(rates) = store_rates {
            match rates[item_index] {
                Some(rate) => rate,
                None => {
                    constraints.push(Constraint {
                        kind: ConstraintKind::MissingTaxRate,
                        field: format!("cartItems[{position}].id"),
                        detail: format!(
                            "tax code '{}' of SKU '{}' has no rate at store '{store_id}'",
                            item.tax_code, item.sku
                        ),
                    });
                    continue;
                }
            }
        } else {
            Decimal::ZERO
        };
        lines.push(CartLine {
            item,
            item_index: Some(item_index),
            found,
            quantity,
            units,
            tax_rate,
        });
    }
    if constraints.is_empty() {
        Ok(lines)
    } else {
        Err(constraints)
    }
}

/// A line a person priced: its quantity checked as any line's, its tax code's rate looked up
/// at the store.
fn priced_by_person<'b>(
    book: &PriceBook,
    store_id: &str,
    position: usize,
    cart_item: &CartItem,
    item: &'b Item,
    index: Option<usize>,
) -> Result<CartLine<'b>, Constraint> {
    let text = &cart_item.quantity.value;
    let quantity = parse_plain_decimal(text)
        .filter(|quantity| *quantity > Decimal::ZERO)
        .ok_or_else(|| Constraint {
            kind: ConstraintKind::InvalidQuantity,
            field: format!("cartItems[{position}].quantity.value"),
            detail: format!("quantity '{text}' is not a positive decimal"),
        })?;
    let units = match item.sold_by {
        SoldBy::Weight => None,
        SoldBy::Unit => Some(
            quantity
                .to_u64()
                .filter(|_| quantity.fract().is_zero())
                .ok_or_else(|| Constraint {
                    kind: ConstraintKind::InvalidQuantity,
                    field: format!("cartItems[{position}].quantity.value"),
                    detail: format!(
                        "SKU '{}' is sold by unit; quantity '{text}' is not whole",
                        item.sku
                    ),
                })?,
        ),
    };
    let tax_rate = book
        .tax_rates
        .get(store_id)
        .and_then(|rates| rates.get(&item.tax_code))
        .copied()
        .ok_or_else(|| Constraint {
            kind: ConstraintKind::MissingTaxRate,
            field: format!("lineOverrides[line {position}].taxCode"),
            detail: format!(
                "tax code '{}' set for line {position} has no rate at store '{store_id}'",
                item.tax_code
            ),
        })?;
    Ok(CartLine {
        item,
        item_index: None,
        found: Found::Override(index.unwrap_or_default()),
        quantity,
        units,
        tax_rate,
    })
}

/// Figures every line's amounts for its whole quantity (docs/pricing.md rules 2–6).
fn charge_lines(
    book: &PriceBook,
    lines: &[CartLine<'_>],
    store_id: &str,
    trip_end: DateTime<Utc>,
) -> Vec<LineCharges> {
    let mut charges: Vec<LineCharges> = lines
        .iter()
        .map(|line| LineCharges {
            extended: cents_of_product(line.item.price, line.quantity),
            ..LineCharges::default()
        })
        .collect();

    // Units not yet in a pooled group, per line.
    let mut free_units: Vec<u64> = lines.iter().map(|line| line.units.unwrap_or(0)).collect();
    for &promotion in book.pooled_order() {
        if book.promotions[promotion].is_active(store_id, trip_end) {
            apply_pooled(book, promotion, lines, &mut free_units, &mut charges);
        }
    }

    for (position, line) in lines.iter().enumerate() {
        apply_best_simple(
            book,
            line,
            position,
            &free_units,
            store_id,
            trip_end,
            &mut charges,
        );
    }

    apply_threshold(book, store_id, trip_end, &mut charges);

    for (line, charge) in lines.iter().zip(charges.iter_mut()) {
        let mut taxable_fees = 0;
        for fee in &line.item.fees {
            let amount = cents_of_product(fee.amount, line.quantity);
            if fee.taxable {
                taxable_fees += amount;
            }
            charge.fees.push(amount);
        }
        charge.tax = cents_of_product(from_cents(charge.net() + taxable_fees), line.tax_rate);
    }
    charges
}

/// One run of equally priced units of one line, as they stand in a pool.
#[derive(Clone, Copy)]
struct Run {
    line: usize,
    unit_price: i128,
    units: u64,
}

/// Applies a `buyXGetY` or `multiBuy` promotion: pools the free units of its SKUs across lines,
/// orders them by unit price (highest first, ties in cart order), cuts them into consecutive
/// full groups and gives each group its discount, split over the group's lines.
///
/// Works on runs of equal units, not on single units, so a quantity of a million costs no more
/// than a quantity of one: consecutive groups inside one run are identical.
fn apply_pooled(
    book: &PriceBook,
    promotion: usize,
    lines: &[CartLine<'_>],
    free_units: &mut [u64],
    charges: &mut [LineCharges],
) {
    let group_size = match &book.promotions[promotion].rule {
        PromotionRule::BuyXGetY { buy, get, .. } => u64::from(*buy) + u64::from(*get),
        PromotionRule::MultiBuy { quantity, .. } => u64::from(*quantity),
        PromotionRule::PercentOff { .. }
        | PromotionRule::AmountOff { .. }
        | PromotionRule::Threshold { .. } => return,
    };
    let mut runs: Vec<Run> = lines
        .iter()
        .enumerate()
        .filter(|(position, line)| {
            line.units.is_some()
                && free_units[*position] > 0
                && line
                    .item_index
                    .is_some_and(|item| book.item_promotions(item).contains(&promotion))
        })
        .map(|(position, line)| Run {
            line: position,
            unit_price: to_cents(line.item.price),
            units: free_units[position],
        })
        .collect();
    // Stable: equal prices keep cart order.
    runs.sort_by_key(|run| std::cmp::Reverse(run.unit_price));
    let pooled: u64 = runs.iter().map(|run| run.units).sum();
    let mut groups_left = pooled / group_size;

    let mut at = 0; // current run
    let mut used = 0; // units of runs[at] already cut into groups
    while groups_left > 0 {
        let run = runs[at];
        let left_in_run = run.units - used;
        if left_in_run >= group_size {
            // A stretch of identical groups inside one run.
            let groups = (left_in_run / group_size).min(groups_left);
            let discount = group_discount(book, promotion, &[(run, group_size)]);
            if discount > 0 {
                let line = run.line;
                charges[line].add_promotion(
                    promotion,
                    discount * i128::from(groups),
                    Decimal::from(groups * group_size),
                    groups,
                );
                free_units[line] -= groups * group_size;
            }
            used += groups * group_size;
            groups_left -= groups;
        } else {
            // A group spanning runs: take its units in order.
            let mut members: Vec<(Run, u64)> = Vec::new();
            let mut needed = group_size;
            while needed > 0 {
                let run = runs[at];
                let take = (run.units - used).min(needed);
                members.push((run, take));
                needed -= take;
                used += take;
                if used == run.units {
                    at += 1;
                    used = 0;
                }
            }
            let discount = group_discount(book, promotion, &members);
            if discount > 0 {
                // Split by each line's share of the group's price; ties to the earlier cart line.
                members.sort_by_key(|(run, _)| run.line);
                let weights: Vec<i128> = members
                    .iter()
                    .map(|(run, units)| run.unit_price * i128::from(*units))
                    .collect();
                let parts = largest_remainder(discount, &weights);
                for ((run, units), part) in members.iter().zip(parts) {
                    charges[run.line].add_promotion(promotion, part, Decimal::from(*units), 1);
                    free_units[run.line] -= units;
                }
            }
            groups_left -= 1;
            continue;
        }
        if used == run.units {
            at += 1;
            used = 0;
        }
    }
}

/// The discount of one full group, in cents. `members` are in pool order (highest price first).
fn group_discount(book: &PriceBook, promotion: usize, members: &[(Run, u64)]) -> i128 {
    let promotion = &book.promotions[promotion];
    match &promotion.rule {
        PromotionRule::BuyXGetY { get, .. } => {
            // The `get` cheapest units are the last ones of the group.
            let mut needed = u64::from(*get);
            let mut cheapest = 0i128;
            for (run, units) in members.iter().rev() {
                let take = (*units).min(needed);
                cheapest += run.unit_price * i128::from(take);
                needed -= take;
                if needed == 0 {
                    break;
                }
            }
            cents_of_product(from_cents(cheapest), promotion.fraction)
        }
        PromotionRule::MultiBuy { price, .. } => {
            let regular: i128 = members
                .iter()
                .map(|(run, units)| run.unit_price * i128::from(*units))
                .sum();
            (regular - to_cents(*price)).max(0)
        }
        PromotionRule::PercentOff { .. }
        | PromotionRule::AmountOff { .. }
        | PromotionRule::Threshold { .. } => 0,
    }
}

/// Units left over after pooling take the single best `percentOff` / `amountOff` that lists
/// the line's SKU, figured once on those units (best for the shopper per unit; ties: priority,
/// then file order).
fn apply_best_simple(
    book: &PriceBook,
    line: &CartLine<'_>,
    position: usize,
    free_units: &[u64],
    store_id: &str,
    trip_end: DateTime<Utc>,
    charges: &mut [LineCharges],
) {
    let remaining = match line.units {
        Some(_) => Decimal::from(free_units[position]),
        None => line.quantity,
    };
    let Some(item_index) = line.item_index else {
        return;
    };
    if remaining.is_zero() {
        return;
    }
    let price = line.item.price;
    let mut best: Option<(usize, Decimal)> = None; // (promotion, saving per unit)
    for &index in book.item_promotions(item_index) {
        let promotion = &book.promotions[index];
        let saving = match &promotion.rule {
            PromotionRule::PercentOff { .. } => price * promotion.fraction,
            PromotionRule::AmountOff { amount } => (*amount).min(price),
            PromotionRule::BuyXGetY { .. }
            | PromotionRule::MultiBuy { .. }
            | PromotionRule::Threshold { .. } => continue,
        };
        if !promotion.is_active(store_id, trip_end) {
            continue;
        }
        let better = match best {
            None => true,
            Some((current, current_saving)) => {
                saving > current_saving
                    || (saving == current_saving
                        && promotion.priority > book.promotions[current].priority)
            }
        };
        if better {
            best = Some((index, saving));
        }
    }
    if let Some((index, per_unit)) = best {
        let amount = match &book.promotions[index].rule {
            // Figured on all the units at once: round2(price × units × percent), not per unit.
            PromotionRule::PercentOff { .. } => {
                cents_of_product(price * remaining, book.promotions[index].fraction)
            }
            _ => cents_of_product(per_unit, remaining),
        };
        charges[position].add_promotion(index, amount, remaining, 0);
    }
}

/// At most one threshold promotion: the one saving most, when the subtotal net of item
/// promotions reaches its minimum. Split over the lines by their net price.
fn apply_threshold(
    book: &PriceBook,
    store_id: &str,
    trip_end: DateTime<Utc>,
    charges: &mut [LineCharges],
) {
    let nets: Vec<i128> = charges.iter().map(LineCharges::net).collect();
    let subtotal: i128 = nets.iter().sum();
    let mut best: Option<(usize, i128)> = None;
    for &index in book.thresholds() {
        let promotion = &book.promotions[index];
        let (min_subtotal, amount) = match &promotion.rule {
            PromotionRule::Threshold {
                min_subtotal,
                amount,
            } => (min_subtotal, amount),
            PromotionRule::PercentOff { .. }
            | PromotionRule::AmountOff { .. }
            | PromotionRule::BuyXGetY { .. }
            | PromotionRule::MultiBuy { .. } => continue,
        };
        if subtotal < to_cents(*min_subtotal) || !promotion.is_active(store_id, trip_end) {
            continue;
        }
        let saving = to_cents(*amount).min(subtotal);
        let better = match best {
            None => true,
            Some((current, current_saving)) => {
                saving > current_saving
                    || (saving == current_saving
                        && promotion.priority > book.promotions[current].priority)
            }
        };
        if better {
            best = Some((index, saving));
        }
    }
    if let Some((index, saving)) = best
        && saving > 0
    {
        for (charge, part) in charges.iter_mut().zip(largest_remainder(saving, &nets)) {
            charge.add_promotion(index, part, Decimal::ZERO, 0);
        }
    }
}

fn emit_line_basis(
    book: &PriceBook,
    request: &CreatePurchasesRequest,
    lines: &[CartLine<'_>],
    charges: &[LineCharges],
) -> CheckoutRequest {
    let currency = book.currency;
    let mut totals = Totals::default();
    let line_items = request
        .cart_items
        .iter()
        .zip(lines.iter().zip(charges))
        .map(|(cart_item, (line, charge))| {
            let promotions_total = charge.promotions_total();
            let fees_total: i128 = charge.fees.iter().sum();
            totals.add(charge.extended, promotions_total, charge.tax, fees_total);
            let total = charge.extended - promotions_total + charge.tax + fees_total;
            line_item(
                book,
                cart_item,
                line.item,
                charge.extended,
                charge
                    .promotions
                    .iter()
                    .map(|applied| (applied.promotion, applied.amount)),
                charge.tax,
                &charge.fees,
                total,
            )
        })
        .collect();
    CheckoutRequest {
        idempotent_shopping_trip_id: request.idempotent_shopping_trip_id.clone(),
        store_id: request.store_id.clone(),
        line_items,
        order_totals: totals.into_order_totals(currency),
    }
}

/// Unit basis (docs/pricing.md "Settled details"): `price` is the book's unit price; every other
/// per-unit amount is round2(line amount ÷ quantity); a line's per-unit promotions are capped at
/// its unit price, the excess coming off its last entries; order totals are
/// Σ round2(quantity × per-unit amount) per line and category. Rule 2 then holds per unit and
/// rule 3 by construction.
fn emit_unit_basis(
    book: &PriceBook,
    request: &CreatePurchasesRequest,
    lines: &[CartLine<'_>],
    charges: &[LineCharges],
) -> CheckoutRequest {
    let currency = book.currency;
    let mut totals = Totals::default();
    let line_items = request
        .cart_items
        .iter()
        .zip(lines.iter().zip(charges))
        .map(|(cart_item, (line, charge))| {
            let unit = UnitLine::of(line, charge);
            let [price, promotions, tax, fees] = unit.charged(line.quantity);
            totals.add(price, promotions, tax, fees);
            line_item(
                book,
                cart_item,
                line.item,
                unit.price,
                unit.promotions.iter().copied(),
                unit.tax,
                &unit.fees,
                unit.total(),
            )
        })
        .collect();
    CheckoutRequest {
        idempotent_shopping_trip_id: request.idempotent_shopping_trip_id.clone(),
        store_id: request.store_id.clone(),
        line_items,
        order_totals: totals.into_order_totals(currency),
    }
}

/// A line's per-unit amounts in the unit basis, in cents.
pub(super) struct UnitLine {
    pub(super) price: i128,
    /// (promotion index, per-unit amount), zero amounts dropped.
    pub(super) promotions: Vec<(usize, i128)>,
    /// What the cap at the unit price took off the last entries.
    pub(super) capped: i128,
    pub(super) tax: i128,
    pub(super) fees: Vec<i128>,
}

impl UnitLine {
    pub(super) fn of(line: &CartLine<'_>, charge: &LineCharges) -> UnitLine {
        let quantity = line.quantity;
        let per_unit = |cents: i128| cents_of_quotient(cents, quantity);
        let price = to_cents(line.item.price);
        let mut promotions: Vec<(usize, i128)> = charge
            .promotions
            .iter()
            .map(|applied| (applied.promotion, per_unit(applied.amount)))
            .collect();
        let over = promotions.iter().map(|(_, amount)| *amount).sum::<i128>() - price;
        let mut excess = over;
        for (_, amount) in promotions.iter_mut().rev() {
            if excess <= 0 {
                break;
            }
            let take = excess.min(*amount);
            *amount -= take;
            excess -= take;
        }
        promotions.retain(|(_, amount)| *amount != 0);
        UnitLine {
            price,
            promotions,
            capped: over.max(0),
            tax: per_unit(charge.tax),
            fees: charge.fees.iter().map(|fee| per_unit(*fee)).collect(),
        }
    }

    pub(super) fn promotions_total(&self) -> i128 {
        self.promotions.iter().map(|(_, amount)| *amount).sum()
    }

    /// The per-unit total on the wire.
    pub(super) fn total(&self) -> i128 {
        self.price - self.promotions_total() + self.tax + self.fees.iter().sum::<i128>()
    }

    /// What the line adds to the order totals: round2(quantity × per-unit amount) per
    /// category (price, promotions, tax, fees).
    pub(super) fn charged(&self, quantity: Decimal) -> [i128; 4] {
        let times_quantity = |cents: i128| cents_of_product(quantity, from_cents(cents));
        [
            times_quantity(self.price),
            times_quantity(self.promotions_total()),
            times_quantity(self.tax),
            times_quantity(self.fees.iter().sum()),
        ]
    }
}

/// One line on the wire. The cart item's id, type and quantity are echoed unchanged, so rule 1
/// ("same products, same quantities") holds to the character. Zero promotions are omitted; a
/// fee's tax is part of the line's one tax rounding (docs/pricing.md), so each fee carries 0.00.
#[allow(clippy::too_many_arguments)]
fn line_item(
    book: &PriceBook,
    cart_item: &CartItem,
    item: &Item,
    price: i128,
    promotions: impl Iterator<Item = (usize, i128)>,
    tax: i128,
    fees: &[i128],
    total: i128,
) -> LineItem {
    let currency = book.currency;
    LineItem {
        product_id: cart_item.id.clone(),
        item_type: cart_item.item_type,
        quantity: cart_item.quantity.clone(),
        unit_price: UnitPrice {
            price: Money::from_cents(price, currency),
            promotions: promotions
                .filter(|(_, amount)| *amount != 0)
                .map(|(index, amount)| AppliedPromotion {
                    promotion_amount: Money::from_cents(amount, currency),
                    promotion_description: book.promotions[index].description.clone(),
                })
                .collect(),
            sales_tax: Money::from_cents(tax, currency),
            deposits_and_fees: item
                .fees
                .iter()
                .zip(fees)
                .map(|(fee, amount)| DepositAndFee {
                    deposit_and_fee_amount: Money::from_cents(*amount, currency),
                    deposit_and_fee_description: fee.description.clone(),
                    sales_tax: Money::zero(currency),
                })
                .collect(),
            total_price: Money::from_cents(total, currency),
        },
    }
}

/// Order totals in cents, summed per category. Fees are not a category of their own on the
/// wire: **[ours]** `priceTotal` adds them (their tax, always 0.00 here, is in `salesTaxTotal`).
#[derive(Default)]
struct Totals {
    sub_total: i128,
    promotions: i128,
    sales_tax: i128,
    fees: i128,
}

impl Totals {
    fn add(&mut self, price: i128, promotions: i128, sales_tax: i128, fees: i128) {
        self.sub_total += price;
        self.promotions += promotions;
        self.sales_tax += sales_tax;
        self.fees += fees;
    }

    fn into_order_totals(self, currency: CurrencyCode) -> OrderTotals {
        OrderTotals {
            sub_total: Money::from_cents(self.sub_total, currency),
            promotions_total: Money::from_cents(self.promotions, currency),
            sales_tax_total: Money::from_cents(self.sales_tax, currency),
            price_total: Money::from_cents(
                self.sub_total - self.promotions + self.sales_tax + self.fees,
                currency,
            ),
        }
    }
}
