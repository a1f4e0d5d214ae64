//! How a priced cart came about, line by line: what `jwo price --explain` prints and every
//! purchase's `lineItems[].explanation` carries. Built from the engine's own figures (never
//! worked out a second way), so its amounts are the charged ones: a property test checks they
//! add up to the body's order totals in both bases.

use serde::Serialize;

use super::engine::{Applied, CartLine, Found, LineCharges, LinePrice, UnitLine};
use super::price_book::{PriceBook, SoldBy};
use super::promotion::PromotionRule;
use crate::contract::checkout::AmountBasis;
use crate::contract::create_purchases::CreatePurchasesRequest;
use crate::money::{CurrencyCode, Money, cents_of, from_cents};

const ROUNDING: &str = "rounded to cents, half away from zero";

/// The explanation of one priced cart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartExplanation {
    pub amount_basis: AmountBasis,
    pub lines: Vec<LineExplanation>,
    /// The one threshold promotion that applied, if any (its share is in each line's
    /// `promotions`).
    pub threshold: Option<ThresholdStep>,
    /// The order totals: the sums of the lines' `charged` amounts.
    pub totals: Charged,
}

/// One cart line: how its item was found and each amount of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineExplanation {
    /// The cart line's position (0-based).
    pub line: usize,
    pub product_id: String,
    /// `SKU`, `barcode`, or `person` (a line override).
    pub found_by: &'static str,
    pub sku: String,
    pub name: String,
    pub quantity: String,
    /// `unit` or `weight`.
    pub sold_by: &'static str,
    pub unit_price: String,
    /// Set for a line a person priced.
    pub priced_by: Option<PricedBy>,
    pub extended_price: Step,
    pub promotions: Vec<PromotionStep>,
    pub fees: Vec<FeeStep>,
    pub tax: TaxStep,
    /// Extended price − promotions + tax + fees, for the whole line.
    pub line_total: String,
    /// The per-unit amounts on the wire (unit basis only).
    pub per_unit: Option<PerUnit>,
    /// What the line adds to the order totals, in the body's basis.
    pub charged: Charged,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedBy {
    pub actor: String,
    pub at: String,
    pub reason: String,
    pub tax_code: String,
}

/// An amount and how it was figured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub amount: String,
    pub how: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionStep {
    pub promotion_id: String,
    #[serde(rename = "type")]
    pub promotion_type: &'static str,
    pub description: String,
    /// Units of this line the promotion took (none for a threshold's share).
    pub units: Option<String>,
    /// Pooled groups this line's units took part in (pooled promotions only).
    pub groups: Option<u64>,
    pub amount: String,
    pub how: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeStep {
    pub description: String,
    pub taxable: bool,
    pub amount: String,
    pub how: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxStep {
    pub tax_code: String,
    /// As a decimal fraction (0.0825 is 8.25%).
    pub rate: String,
    /// Net of promotions, plus taxable fees.
    pub base: String,
    pub amount: String,
    pub how: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdStep {
    pub promotion_id: String,
    pub description: String,
    pub min_subtotal: String,
    /// Σ(extended price − item promotions) it was compared with.
    pub subtotal: String,
    pub amount: String,
    pub how: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PerUnit {
    pub price: String,
    /// (promotion id, per-unit amount), as on the wire.
    pub promotions: Vec<(String, String)>,
    pub sales_tax: String,
    pub fees: Vec<String>,
    pub total: String,
    pub how: String,
}

/// Amounts that add up to the order totals: `total = price − promotions + salesTax + fees`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Charged {
    pub price: String,
    pub promotions: String,
    pub sales_tax: String,
    pub fees: String,
    pub total: String,
}

impl Charged {
    fn of(currency: CurrencyCode, [price, promotions, tax, fees]: [i128; 4]) -> Charged {
        let text = |cents| money(currency, cents);
        Charged {
            price: text(price),
            promotions: text(promotions),
            sales_tax: text(tax),
            fees: text(fees),
            total: text(price - promotions + tax + fees),
        }
    }
}

fn money(currency: CurrencyCode, cents: i128) -> String {
    Money::from_cents(cents, currency).amount_text()
}

pub(super) fn explain(
    book: &PriceBook,
    request: &CreatePurchasesRequest,
    overrides: &[LinePrice],
    lines: &[CartLine<'_>],
    charges: &[LineCharges],
    basis: AmountBasis,
) -> CartExplanation {
    let currency = book.currency;
    let text = |cents| money(currency, cents);
    let mut totals = [0i128; 4];
    let mut explained = Vec::with_capacity(lines.len());
    for (position, ((line, charge), cart_item)) in lines
        .iter()
        .zip(charges)
        .zip(&request.cart_items)
        .enumerate()
    {
        let quantity = line.quantity;
        let item = line.item;
        let promotions_total = charge.promotions_total();
        let fees_total: i128 = charge.fees.iter().sum();
        let taxable_fees: i128 = item
            .fees
            .iter()
            .zip(&charge.fees)
            .filter(|(fee, _)| fee.taxable)
            .map(|(_, amount)| *amount)
            .sum();
        let base = charge.net() + taxable_fees;
        let (per_unit, charged) = match basis {
            AmountBasis::Line => (
                None,
                [charge.extended, promotions_total, charge.tax, fees_total],
            ),
            AmountBasis::Unit => {
                let unit = UnitLine::of(line, charge);
                let capped = if unit.capped > 0 {
                    format!(
                        "; {} per unit came off the last promotions so they stay within the unit price",
                        text(unit.capped)
                    )
                } else {
                    String::new()
                };
                let per_unit = PerUnit {
                    price: text(unit.price),
                    promotions: unit
                        .promotions
                        .iter()
                        .map(|(index, amount)| (book.promotions[*index].id.clone(), text(*amount)))
                        .collect(),
                    sales_tax: text(unit.tax),
                    fees: unit.fees.iter().map(|fee| text(*fee)).collect(),
                    total: text(unit.total()),
                    how: format!(
                        "each line amount ÷ {quantity}, {ROUNDING}{capped}; the line adds {ROUNDING} {quantity} × each per-unit amount to the totals"
                    ),
                };
                (Some(per_unit), unit.charged(quantity))
            }
        };
        for (total, amount) in totals.iter_mut().zip(charged) {
            *total += amount;
        }
        let priced_by = match line.found {
            Found::Override(index) => overrides.get(index).map(|price| PricedBy {
                actor: price.actor.clone(),
                at: price.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                reason: price.reason.clone(),
                tax_code: price.tax_code.clone(),
            }),
            Found::Sku | Found::Barcode => None,
        };
        explained.push(LineExplanation {
            line: position,
            product_id: cart_item.id.to_string(),
            found_by: match line.found {
                Found::Sku => "SKU",
                Found::Barcode => "barcode",
                Found::Override(_) => "person",
            },
            sku: item.sku.clone(),
            name: item.name.clone(),
            quantity: cart_item.quantity.value.to_string(),
            sold_by: match item.sold_by {
                SoldBy::Unit => "unit",
                SoldBy::Weight => "weight",
            },
            unit_price: text(cents_of(item.price)),
            priced_by,
            extended_price: Step {
                amount: text(charge.extended),
                how: format!(
                    "{} × {quantity} = {}, {ROUNDING}",
                    item.price,
                    item.price * quantity
                ),
            },
            promotions: charge
                .promotions
                .iter()
                .map(|applied| promotion_step(book, line, applied, currency))
                .collect(),
            fees: item
                .fees
                .iter()
                .zip(&charge.fees)
                .map(|(fee, amount)| FeeStep {
                    description: fee.description.to_string(),
                    taxable: fee.taxable,
                    amount: text(*amount),
                    how: format!(
                        "{} × {quantity} = {}, {ROUNDING}{}",
                        fee.amount,
                        fee.amount * quantity,
                        if fee.taxable {
                            "; taxed with the line"
                        } else {
                            "; not taxed"
                        }
                    ),
                })
                .collect(),
            tax: TaxStep {
                tax_code: item.tax_code.clone(),
                rate: line.tax_rate.normalize().to_string(),
                base: text(base),
                amount: text(charge.tax),
                how: format!(
                    "({} net + {} taxable fees) × {} = {}, {ROUNDING}",
                    text(charge.net()),
                    text(taxable_fees),
                    line.tax_rate.normalize(),
                    from_cents(base) * line.tax_rate
                ),
            },
            line_total: text(charge.extended - promotions_total + charge.tax + fees_total),
            per_unit,
            charged: Charged::of(currency, charged),
        });
    }
    CartExplanation {
        amount_basis: basis,
        threshold: threshold_step(book, charges, currency),
        lines: explained,
        totals: Charged::of(currency, totals),
    }
}

fn promotion_step(
    book: &PriceBook,
    line: &CartLine<'_>,
    applied: &Applied,
    currency: CurrencyCode,
) -> PromotionStep {
    let promotion = &book.promotions[applied.promotion];
    let price = line.item.price;
    let units = applied.units;
    let how = match &promotion.rule {
        PromotionRule::PercentOff { percent } => format!(
            "{price} × {units} × {percent}% = {}, {ROUNDING} once for the line",
            price * units * promotion.fraction
        ),
        PromotionRule::AmountOff { amount } => format!(
            "min({amount}, {price}) × {units} = {}, {ROUNDING}",
            (*amount).min(price) * units
        ),
        PromotionRule::BuyXGetY { buy, get, percent } => format!(
            "buy {buy} get {get} at {percent}% off: units pooled across the promotion's lines, dearest first, in full groups of {}; each group's {get} cheapest units take {percent}% off, {ROUNDING} once per group; a group's discount is split over its lines by price share (largest remainder)",
            buy + get
        ),
        PromotionRule::MultiBuy { quantity, price } => format!(
            "{quantity} for {price}: units pooled across the promotion's lines, dearest first, in full groups of {quantity}; each group's discount is its regular price − {price}, split over its lines by price share (largest remainder)"
        ),
        PromotionRule::Threshold { .. } => {
            "this line's share of the threshold discount, by net price (largest remainder)".into()
        }
    };
    let pooled = matches!(
        promotion.rule,
        PromotionRule::BuyXGetY { .. } | PromotionRule::MultiBuy { .. }
    );
    PromotionStep {
        promotion_id: promotion.id.clone(),
        promotion_type: promotion.rule.promotion_type().as_str(),
        description: promotion.description.to_string(),
        units: (!units.is_zero()).then(|| units.normalize().to_string()),
        groups: pooled.then_some(applied.groups),
        amount: money(currency, applied.amount),
        how,
    }
}

/// The threshold promotion the lines carry a share of, if one applied.
fn threshold_step(
    book: &PriceBook,
    charges: &[LineCharges],
    currency: CurrencyCode,
) -> Option<ThresholdStep> {
    let (index, amount) = charges
        .iter()
        .flat_map(|charge| &charge.promotions)
        .filter(|applied| {
            matches!(
                book.promotions[applied.promotion].rule,
                PromotionRule::Threshold { .. }
            )
        })
        .fold(None, |found: Option<(usize, i128)>, applied| {
            Some((
                applied.promotion,
                found.map_or(0, |(_, sum)| sum) + applied.amount,
            ))
        })?;
    let promotion = &book.promotions[index];
    let PromotionRule::Threshold {
        min_subtotal,
        amount: offered,
    } = &promotion.rule
    else {
        return None;
    };
    // The subtotal it was compared with: net of item promotions, before its own shares.
    let subtotal: i128 = charges
        .iter()
        .map(|charge| {
            charge.extended
                - charge
                    .promotions
                    .iter()
                    .filter(|applied| applied.promotion != index)
                    .map(|applied| applied.amount)
                    .sum::<i128>()
        })
        .sum();
    Some(ThresholdStep {
        promotion_id: promotion.id.clone(),
        description: promotion.description.to_string(),
        min_subtotal: money(currency, cents_of(*min_subtotal)),
        subtotal: money(currency, subtotal),
        amount: money(currency, amount),
        how: format!(
            "the subtotal {} reaches {min_subtotal}: {offered} off (never more than the subtotal), the one threshold saving most, split over the lines by net price (largest remainder)",
            money(currency, subtotal)
        ),
    })
}
