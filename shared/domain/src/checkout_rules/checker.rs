//! The checker: reads a Checkout Service body as untyped JSON with the shared walker, and
//! recomputes every sum the rules name.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::contract::checkout::AmountBasis;
use crate::contract::create_purchases::CartItem;
use crate::json::fields::{Fields, Path};
use crate::money::{CurrencyCode, parse_money_amount, parse_plain_decimal, round2};

use super::{CheckoutRule, RuleViolation};

/// What a line says, once every field of it was readable.
pub(super) struct Line {
    product_id: String,
    item_type: String,
    quantity: Decimal,
    unit: String,
    price: Decimal,
    promotions: Decimal,
    sales_tax: Decimal,
    fees: Decimal,
    fees_tax: Decimal,
}

#[derive(Default)]
pub(super) struct Checker {
    walker: Fields,
    pub(super) violations: Vec<RuleViolation>,
    currency: Option<String>,
}

impl Checker {
    pub(super) fn push(&mut self, rule: CheckoutRule, path: &Path<'_>, reason: impl Into<String>) {
        self.violations.push(RuleViolation {
            rule,
            field: path.render(),
            reason: reason.into(),
        });
    }

    /// One read of the JSON walker (the one Create Purchases validation uses), with what it
    /// finds filed under `rule`.
    pub(super) fn read<'v, T: ?Sized>(
        &mut self,
        rule: CheckoutRule,
        read: impl FnOnce(&mut Fields) -> Option<&'v T>,
    ) -> Option<&'v T> {
        let value = read(&mut self.walker);
        for error in self.walker.errors.drain(..) {
            self.violations.push(RuleViolation {
                rule,
                field: error.field,
                reason: error.reason,
            });
        }
        value
    }

    pub(super) fn required<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        key: &str,
        path: &Path<'_>,
        rule: CheckoutRule,
    ) -> Option<&'v Value> {
        self.read(rule, |walker| walker.required(object, key, path))
    }

    pub(super) fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &Path<'_>,
        rule: CheckoutRule,
    ) -> Option<&'v Map<String, Value>> {
        self.read(rule, |walker| walker.object(value, path))
    }

    pub(super) fn array<'v>(&mut self, value: &'v Value, path: &Path<'_>) -> Option<&'v [Value]> {
        self.read(CheckoutRule::WellFormed, |walker| walker.array(value, path))
    }

    pub(super) fn string<'v>(
        &mut self,
        value: &'v Value,
        path: &Path<'_>,
        rule: CheckoutRule,
    ) -> Option<&'v str> {
        self.read(rule, |walker| walker.string(value, path))
    }

    /// A required money member of `object`.
    pub(super) fn required_money(
        &mut self,
        object: &Map<String, Value>,
        key: &str,
        path: &Path<'_>,
    ) -> Option<Decimal> {
        self.required(object, key, path, CheckoutRule::WellFormed)
            .and_then(|value| self.money(value, path))
    }

    /// A money object: `amount` a string with exactly two decimals, not negative, and the
    /// same `currencyCode` as every other amount of the cart.
    pub(super) fn money(&mut self, value: &Value, path: &Path<'_>) -> Option<Decimal> {
        let object = self.object(value, path, CheckoutRule::WellFormed)?;
        let amount_path = path.key("amount");
        let currency_path = path.key("currencyCode");
        let amount = self
            .required(object, "amount", &amount_path, CheckoutRule::WellFormed)
            .and_then(|amount| self.string(amount, &amount_path, CheckoutRule::TwoDecimals));
        let currency = self
            .required(
                object,
                "currencyCode",
                &currency_path,
                CheckoutRule::WellFormed,
            )
            .and_then(|code| self.string(code, &currency_path, CheckoutRule::TwoDecimals));
        if let Some(code) = currency {
            if let Err(reason) = code.parse::<CurrencyCode>() {
                self.push(CheckoutRule::TwoDecimals, &currency_path, reason);
            }
            match &self.currency {
                None => self.currency = Some(code.to_owned()),
                Some(first) if first != code => {
                    let reason = format!("is {code}, but the cart is in {first}");
                    self.push(CheckoutRule::TwoDecimals, &currency_path, reason);
                }
                Some(_) => {}
            }
        }
        let amount = match parse_money_amount(amount?) {
            Ok(amount) => amount,
            Err(reason) => {
                self.push(CheckoutRule::TwoDecimals, &amount_path, reason);
                return None;
            }
        };
        if amount.is_sign_negative() && !amount.is_zero() {
            self.push(
                CheckoutRule::TwoDecimals,
                &amount_path,
                format!("'{amount}' is negative"),
            );
            return None;
        }
        Some(amount)
    }

    pub(super) fn line(
        &mut self,
        value: &Value,
        path: &Path<'_>,
        basis: AmountBasis,
    ) -> Option<Line> {
        let line = self.object(value, path, CheckoutRule::WellFormed)?;
        let product_path = path.key("productId");
        let product_id = self
            .required(line, "productId", &product_path, CheckoutRule::WellFormed)
            .and_then(|value| self.string(value, &product_path, CheckoutRule::WellFormed));
        let type_path = path.key("type");
        let item_type = self
            .required(line, "type", &type_path, CheckoutRule::WellFormed)
            .and_then(|value| self.string(value, &type_path, CheckoutRule::WellFormed));
        let quantity_path = path.key("quantity");
        let quantity = self
            .required(line, "quantity", &quantity_path, CheckoutRule::WellFormed)
            .and_then(|value| self.object(value, &quantity_path, CheckoutRule::WellFormed))
            .and_then(|quantity| {
                let value_path = quantity_path.key("value");
                let unit_path = quantity_path.key("unit");
                let value = self
                    .required(quantity, "value", &value_path, CheckoutRule::WellFormed)
                    .and_then(|value| self.string(value, &value_path, CheckoutRule::WellFormed))
                    .and_then(|text| {
                        let parsed = parse_plain_decimal(text).filter(|q| *q > Decimal::ZERO);
                        if parsed.is_none() {
                            self.push(
                                CheckoutRule::WellFormed,
                                &value_path,
                                format!("'{text}' is not a positive decimal"),
                            );
                        }
                        parsed
                    });
                let unit = self
                    .required(quantity, "unit", &unit_path, CheckoutRule::WellFormed)
                    .and_then(|value| self.string(value, &unit_path, CheckoutRule::WellFormed));
                Some((value?, unit?.to_owned()))
            });

        let unit_price_path = path.key("unitPrice");
        let Some(unit_price) = line.get("unitPrice").filter(|value| !value.is_null()) else {
            self.push(
                CheckoutRule::EveryLinePriced,
                &unit_price_path,
                "is missing: the line has no price",
            );
            return None;
        };
        let unit_price = self.object(unit_price, &unit_price_path, CheckoutRule::WellFormed)?;
        let price_path = unit_price_path.key("price");
        let price = match unit_price.get("price").filter(|value| !value.is_null()) {
            None => {
                self.push(
                    CheckoutRule::EveryLinePriced,
                    &price_path,
                    "is missing: the line has no price",
                );
                None
            }
            Some(value) => self.money(value, &price_path),
        };
        let promotions_path = unit_price_path.key("promotions");
        let promotions = self
            .required(
                unit_price,
                "promotions",
                &promotions_path,
                CheckoutRule::WellFormed,
            )
            .and_then(|value| self.array(value, &promotions_path))
            .and_then(|promotions| {
                let amounts: Vec<Option<Decimal>> = promotions
                    .iter()
                    .enumerate()
                    .map(|(index, promotion)| {
                        let promotion_path = promotions_path.index(index);
                        let promotion =
                            self.object(promotion, &promotion_path, CheckoutRule::WellFormed)?;
                        let amount_path = promotion_path.key("promotionAmount");
                        self.required_money(promotion, "promotionAmount", &amount_path)
                    })
                    .collect();
                amounts.into_iter().sum::<Option<Decimal>>()
            });
        let tax_path = unit_price_path.key("salesTax");
        let sales_tax = self.required_money(unit_price, "salesTax", &tax_path);
        let fees_path = unit_price_path.key("depositsAndFees");
        let fees = match unit_price
            .get("depositsAndFees")
            .filter(|value| !value.is_null())
        {
            None => Some((Decimal::ZERO, Decimal::ZERO)),
            Some(value) => self.array(value, &fees_path).and_then(|fees| {
                let read: Vec<Option<(Decimal, Decimal)>> = fees
                    .iter()
                    .enumerate()
                    .map(|(index, fee)| {
                        let fee_path = fees_path.index(index);
                        let fee = self.object(fee, &fee_path, CheckoutRule::WellFormed)?;
                        let amount_path = fee_path.key("depositAndFeeAmount");
                        let fee_tax_path = fee_path.key("salesTax");
                        let amount = self.required_money(fee, "depositAndFeeAmount", &amount_path);
                        let tax = self.required_money(fee, "salesTax", &fee_tax_path);
                        Some((amount?, tax?))
                    })
                    .collect();
                read.into_iter()
                    .try_fold((Decimal::ZERO, Decimal::ZERO), |(fees, taxes), fee| {
                        fee.map(|(amount, tax)| (fees + amount, taxes + tax))
                    })
            }),
        };
        let total_path = unit_price_path.key("totalPrice");
        let total = self.required_money(unit_price, "totalPrice", &total_path);

        let (price, promotions, sales_tax, (fees, fees_tax), total) =
            (price?, promotions?, sales_tax?, fees?, total?);
        let expected = price - promotions + sales_tax + fees + fees_tax;
        if total != expected {
            let per = match basis {
                AmountBasis::Line => "",
                AmountBasis::Unit => " (per unit)",
            };
            self.push(
                CheckoutRule::LineTotal,
                &total_path,
                format!(
                    "is {total}, but price {price} − promotions {promotions} + salesTax {sales_tax} + fees {} = {expected}{per}",
                    fees + fees_tax
                ),
            );
        }
        let (quantity, unit) = quantity?;
        Some(Line {
            product_id: product_id?.to_owned(),
            item_type: item_type?.to_owned(),
            quantity,
            unit,
            price,
            promotions,
            sales_tax,
            fees,
            fees_tax,
        })
    }

    /// Rule 1: every cart item has exactly one line with its product, type and quantity, and
    /// every line has a cart item.
    pub(super) fn matches_cart(
        &mut self,
        lines: &[Option<Line>],
        cart: &[CartItem],
        path: &Path<'_>,
    ) {
        let mut matched = vec![false; cart.len()];
        for (index, line) in lines.iter().enumerate() {
            let Some(line) = line else { continue };
            let found = cart.iter().enumerate().position(|(position, item)| {
                !matched[position]
                    && *item.id == *line.product_id
                    && item.item_type.as_str() == line.item_type
                    && *item.quantity.unit == *line.unit
                    && parse_plain_decimal(&item.quantity.value) == Some(line.quantity)
            });
            match found {
                Some(position) => matched[position] = true,
                None => self.push(
                    CheckoutRule::MatchesCart,
                    &path.index(index),
                    format!(
                        "{} '{}' × {} {} matches no cart item (or one already matched)",
                        line.item_type, line.product_id, line.quantity, line.unit
                    ),
                ),
            }
        }
        if lines.iter().all(Option::is_some) {
            for (position, item) in cart
                .iter()
                .enumerate()
                .filter(|(position, _)| !matched[*position])
            {
                self.push(
                    CheckoutRule::MatchesCart,
                    path,
                    format!(
                        "has no line for cartItems[{position}] ({} '{}' × {} {})",
                        item.item_type, item.id, item.quantity.value, item.quantity.unit
                    ),
                );
            }
        }
    }

    /// Rule 3: each order total is the sum of its category over the lines (per the basis), and
    /// `priceTotal = subTotal − promotionsTotal + salesTaxTotal + Σ fees`.
    pub(super) fn order_totals(
        &mut self,
        lines: &[Line],
        given: [Decimal; 4],
        path: &Path<'_>,
        basis: AmountBasis,
    ) {
        // Checked arithmetic: a body of absurd amounts is a violation, never a panic.
        let extend = |quantity: Decimal, amount: Decimal| match basis {
            AmountBasis::Line => Some(amount),
            AmountBasis::Unit => quantity.checked_mul(amount).map(round2),
        };
        let sums = lines.iter().try_fold(
            ([Decimal::ZERO; 3], Decimal::ZERO),
            |([sub, promotions, tax], fees), line| {
                Some((
                    [
                        sub.checked_add(extend(line.quantity, line.price)?)?,
                        promotions.checked_add(extend(line.quantity, line.promotions)?)?,
                        tax.checked_add(extend(
                            line.quantity,
                            line.sales_tax.checked_add(line.fees_tax)?,
                        )?)?,
                    ],
                    fees.checked_add(extend(line.quantity, line.fees)?)?,
                ))
            },
        );
        let Some((expected, fees)) = sums else {
            self.push(
                CheckoutRule::OrderTotals,
                path,
                "the lines' amounts are too large to add up",
            );
            return;
        };
        let names = ["subTotal", "promotionsTotal", "salesTaxTotal"];
        for ((name, expected), given) in names.iter().zip(expected).zip(given) {
            if expected != given {
                self.push(
                    CheckoutRule::OrderTotals,
                    &path.key(name),
                    format!("is {given}, but the lines add up to {expected} ({basis} basis)"),
                );
            }
        }
        let [sub, promotions, tax, total] = given;
        let formula = sub - promotions + tax + fees;
        if total != formula {
            self.push(
                CheckoutRule::OrderTotals,
                &path.key("priceTotal"),
                format!("is {total}, but subTotal {sub} − promotionsTotal {promotions} + salesTaxTotal {tax} + fees {fees} = {formula}"),
            );
        }
    }
}
