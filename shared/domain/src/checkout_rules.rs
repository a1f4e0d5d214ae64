//! Amazon's checkout rules (CONTRACT.md §2), checked on a Checkout Service body against the cart
//! Amazon sent to Create Purchases. Independent of the pricing engine: it reads the body as
//! untyped JSON and recomputes every sum, so it can judge the engine, the simulator's input
//! and anyone else's payload alike.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::contract::create_purchases::CartItem;
use crate::json_fields::{Path, kind};
use crate::money::{CurrencyCode, parse_money_amount, parse_plain_decimal, round2};
use crate::pricing::AmountBasis;

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

    /// The rule's number in CONTRACT.md §2 (`WellFormed` has none).
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
            check
                .required(totals, key, &path, CheckoutRule::WellFormed)
                .and_then(|value| check.money(value, &path))
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

/// What a line says, once every field of it was readable.
struct Line {
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
struct Checker {
    violations: Vec<RuleViolation>,
    currency: Option<String>,
}

impl Checker {
    fn push(&mut self, rule: CheckoutRule, path: &Path<'_>, reason: impl Into<String>) {
        self.violations.push(RuleViolation {
            rule,
            field: path.render(),
            reason: reason.into(),
        });
    }

    fn required<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        key: &str,
        path: &Path<'_>,
        rule: CheckoutRule,
    ) -> Option<&'v Value> {
        let value = object.get(key).filter(|value| !value.is_null());
        if value.is_none() {
            self.push(rule, path, "is required");
        }
        value
    }

    fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &Path<'_>,
        rule: CheckoutRule,
    ) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.push(
                rule,
                path,
                format!("must be an object, not {}", kind(value)),
            );
        }
        object
    }

    fn array<'v>(&mut self, value: &'v Value, path: &Path<'_>) -> Option<&'v [Value]> {
        let array = value.as_array().map(Vec::as_slice);
        if array.is_none() {
            self.push(
                CheckoutRule::WellFormed,
                path,
                format!("must be an array, not {}", kind(value)),
            );
        }
        array
    }

    fn string<'v>(
        &mut self,
        value: &'v Value,
        path: &Path<'_>,
        rule: CheckoutRule,
    ) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.push(rule, path, format!("must be a string, not {}", kind(value)));
        }
        text
    }

    /// A money object: `amount` a string with exactly two decimals, not negative, and the
    /// same `currencyCode` as every other amount of the cart.
    fn money(&mut self, value: &Value, path: &Path<'_>) -> Option<Decimal> {
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

    fn line(&mut self, value: &Value, path: &Path<'_>, basis: AmountBasis) -> Option<Line> {
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
                        let amount = self.required(
                            promotion,
                            "promotionAmount",
                            &amount_path,
                            CheckoutRule::WellFormed,
                        )?;
                        self.money(amount, &amount_path)
                    })
                    .collect();
                amounts.into_iter().sum::<Option<Decimal>>()
            });
        let tax_path = unit_price_path.key("salesTax");
        let sales_tax = self
            .required(unit_price, "salesTax", &tax_path, CheckoutRule::WellFormed)
            .and_then(|value| self.money(value, &tax_path));
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
                        let amount = self
                            .required(
                                fee,
                                "depositAndFeeAmount",
                                &amount_path,
                                CheckoutRule::WellFormed,
                            )
                            .and_then(|value| self.money(value, &amount_path));
                        let tax = self
                            .required(fee, "salesTax", &fee_tax_path, CheckoutRule::WellFormed)
                            .and_then(|value| self.money(value, &fee_tax_path));
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
        let total = self
            .required(
                unit_price,
                "totalPrice",
                &total_path,
                CheckoutRule::WellFormed,
            )
            .and_then(|value| self.money(value, &total_path));

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
    fn matches_cart(&mut self, lines: &[Option<Line>], cart: &[CartItem], path: &Path<'_>) {
        let mut matched = vec![false; cart.len()];
        for (index, line) in lines.iter().enumerate() {
            let Some(line) = line else { continue };
            let found = cart.iter().enumerate().position(|(position, item)| {
                !matched[position]
                    && item.id == line.product_id
                    && item.item_type.as_str() == line.item_type
                    && item.quantity.unit == line.unit
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
    fn order_totals(
        &mut self,
        lines: &[Line],
        given: [Decimal; 4],
        path: &Path<'_>,
        basis: AmountBasis,
    ) {
        let extend = |quantity: Decimal, amount: Decimal| match basis {
            AmountBasis::Line => amount,
            AmountBasis::Unit => round2(quantity * amount),
        };
        let mut expected = [Decimal::ZERO; 3];
        let mut fees = Decimal::ZERO;
        for line in lines {
            expected[0] += extend(line.quantity, line.price);
            expected[1] += extend(line.quantity, line.promotions);
            expected[2] += extend(line.quantity, line.sales_tax + line.fees_tax);
            fees += extend(line.quantity, line.fees);
        }
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::contract::create_purchases::CreatePurchasesRequest;
    use crate::pricing::{PriceBook, PricingOutcome, price_cart};

    /// A two-line cart priced by the engine: water with a fee and a promotion, and bananas.
    fn priced(basis: AmountBasis) -> (Value, CreatePurchasesRequest) {
        let book = PriceBook::from_json(
            json!({
                "currency": "USD",
                "stores": { "S": { "taxRates": { "STD": "0.0825", "FOOD": "0" } } },
                "items": [
                    { "sku": "W", "name": "Water", "price": "1.99", "taxCode": "STD",
                      "fees": [{ "description": "CRV", "amount": "0.05" }] },
                    { "sku": "B", "name": "Bananas", "price": "0.69", "taxCode": "FOOD", "soldBy": "weight", "unit": "lb" }
                ],
                "promotions": [{ "id": "P", "description": "10% off", "type": "percentOff", "percent": "10", "skus": ["W"] }]
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let cart = crate::validation::validate_create_purchases(
            json!({
                "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                "idempotentShoppingTripId": "trip", "storeId": "S",
                "shoppingTrip": { "startTime": "2024-03-22T17:00:00Z", "endTime": "2024-03-22T17:09:39Z",
                    "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL" }] },
                "cartItems": [
                    { "id": "W", "type": "SKU", "quantity": { "value": "3", "unit": "each" } },
                    { "id": "B", "type": "SKU", "quantity": { "value": "0.45", "unit": "lb" } }
                ]
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let PricingOutcome::Priced(checkout) = price_cart(&book, &cart, basis) else {
            panic!()
        };
        (serde_json::to_value(checkout).unwrap(), cart)
    }

    /// Breaks a correctly priced body with `tamper` and returns the (rule, field) pairs found.
    fn broken(basis: AmountBasis, tamper: impl Fn(&mut Value)) -> Vec<(CheckoutRule, String)> {
        let (mut body, cart) = priced(basis);
        assert!(check_checkout_request(&body, &cart.cart_items, basis).is_empty());
        tamper(&mut body);
        check_checkout_request(&body, &cart.cart_items, basis)
            .into_iter()
            .map(|violation| (violation.rule, violation.field))
            .collect()
    }

    fn set_amount(body: &mut Value, pointer: &str, amount: &str) {
        *body.pointer_mut(pointer).unwrap() = json!(amount);
    }

    fn plus_one_cent(body: &mut Value, pointer: &str) {
        let amount: Decimal = body
            .pointer(pointer)
            .unwrap()
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        set_amount(body, pointer, &(amount + Decimal::new(1, 2)).to_string());
    }

    #[test]
    fn a_correct_body_passes_in_both_bases() {
        for basis in [AmountBasis::Line, AmountBasis::Unit] {
            let (body, cart) = priced(basis);
            assert_eq!(
                check_checkout_request(&body, &cart.cart_items, basis),
                vec![]
            );
        }
    }

    #[test]
    fn one_cent_off_a_line_total_breaks_rule_2() {
        for basis in [AmountBasis::Line, AmountBasis::Unit] {
            let found = broken(basis, |body| {
                plus_one_cent(body, "/lineItems/0/unitPrice/totalPrice/amount")
            });
            // The line no longer adds up; the order totals still do (they do not sum totalPrice).
            assert_eq!(
                found,
                vec![(
                    CheckoutRule::LineTotal,
                    "lineItems[0].unitPrice.totalPrice".into()
                )]
            );
        }
    }

    #[test]
    fn one_cent_off_a_line_amount_breaks_the_line_and_the_order() {
        let found = broken(AmountBasis::Line, |body| {
            plus_one_cent(body, "/lineItems/1/unitPrice/salesTax/amount")
        });
        assert_eq!(
            found,
            vec![
                (
                    CheckoutRule::LineTotal,
                    "lineItems[1].unitPrice.totalPrice".into()
                ),
                (
                    CheckoutRule::OrderTotals,
                    "orderTotals.salesTaxTotal".into()
                ),
            ]
        );
    }

    #[test]
    fn one_cent_off_an_order_total_breaks_rule_3() {
        for basis in [AmountBasis::Line, AmountBasis::Unit] {
            let found = broken(basis, |body| {
                plus_one_cent(body, "/orderTotals/priceTotal/amount")
            });
            assert_eq!(
                found,
                vec![(CheckoutRule::OrderTotals, "orderTotals.priceTotal".into())]
            );
            let found = broken(basis, |body| {
                plus_one_cent(body, "/orderTotals/subTotal/amount")
            });
            assert_eq!(
                found,
                vec![
                    (CheckoutRule::OrderTotals, "orderTotals.subTotal".into()),
                    (CheckoutRule::OrderTotals, "orderTotals.priceTotal".into()),
                ]
            );
        }
    }

    #[test]
    fn a_three_decimal_or_numeric_amount_breaks_rule_4() {
        let found = broken(AmountBasis::Line, |body| {
            set_amount(body, "/lineItems/0/unitPrice/salesTax/amount", "0.440")
        });
        assert_eq!(
            found,
            vec![(
                CheckoutRule::TwoDecimals,
                "lineItems[0].unitPrice.salesTax.amount".into()
            )]
        );
        let found = broken(AmountBasis::Line, |body| {
            *body
                .pointer_mut("/orderTotals/salesTaxTotal/amount")
                .unwrap() = json!(0.44);
        });
        assert_eq!(
            found,
            vec![(
                CheckoutRule::TwoDecimals,
                "orderTotals.salesTaxTotal.amount".into()
            )]
        );
        let found = broken(AmountBasis::Line, |body| {
            *body
                .pointer_mut("/lineItems/1/unitPrice/price/currencyCode")
                .unwrap() = json!("EUR");
        });
        assert_eq!(
            found,
            vec![(
                CheckoutRule::TwoDecimals,
                "lineItems[1].unitPrice.price.currencyCode".into()
            )]
        );
    }

    #[test]
    fn a_missing_or_extra_or_changed_line_breaks_rule_1() {
        let found = broken(AmountBasis::Line, |body| {
            body["lineItems"].as_array_mut().unwrap().remove(1);
        });
        assert!(
            found.contains(&(CheckoutRule::MatchesCart, "lineItems".into())),
            "{found:?}"
        );
        let found = broken(AmountBasis::Line, |body| {
            let copy = body["lineItems"][1].clone();
            body["lineItems"].as_array_mut().unwrap().push(copy);
        });
        assert!(
            found.contains(&(CheckoutRule::MatchesCart, "lineItems[2]".into())),
            "{found:?}"
        );
        let found = broken(AmountBasis::Line, |body| {
            body["lineItems"][0]["quantity"]["value"] = json!("2");
        });
        assert_eq!(
            found,
            vec![
                (CheckoutRule::MatchesCart, "lineItems[0]".into()),
                (CheckoutRule::MatchesCart, "lineItems".into()),
            ]
        );
        // "3" and "3.0" are the same quantity.
        let found = broken(AmountBasis::Line, |body| {
            body["lineItems"][0]["quantity"]["value"] = json!("3.0");
        });
        assert_eq!(found, vec![]);
    }

    #[test]
    fn empty_line_items_break_rule_5() {
        let found = broken(AmountBasis::Line, |body| body["lineItems"] = json!([]));
        assert!(
            found.contains(&(CheckoutRule::NotEmpty, "lineItems".into())),
            "{found:?}"
        );
    }

    #[test]
    fn a_line_without_a_price_breaks_rule_6() {
        let found = broken(AmountBasis::Line, |body| {
            body["lineItems"][0]["unitPrice"]
                .as_object_mut()
                .unwrap()
                .remove("price");
        });
        assert_eq!(
            found,
            vec![(
                CheckoutRule::EveryLinePriced,
                "lineItems[0].unitPrice.price".into()
            )]
        );
        let found = broken(AmountBasis::Line, |body| {
            body["lineItems"][1]
                .as_object_mut()
                .unwrap()
                .remove("unitPrice");
        });
        assert_eq!(
            found,
            vec![(
                CheckoutRule::EveryLinePriced,
                "lineItems[1].unitPrice".into()
            )]
        );
    }

    #[test]
    fn missing_fields_and_garbage_are_not_well_formed() {
        let found = broken(AmountBasis::Line, |body| {
            body.as_object_mut().unwrap().remove("orderTotals");
        });
        assert_eq!(
            found,
            vec![(CheckoutRule::WellFormed, "orderTotals".into())]
        );
        let (_, cart) = priced(AmountBasis::Line);
        let found = check_checkout_body(b"{not json", &cart.cart_items, AmountBasis::Line);
        assert_eq!(found[0].rule, CheckoutRule::WellFormed);
    }

    #[test]
    fn the_wrong_basis_is_caught() {
        // A unit-basis body judged as line basis: the 3 waters' per-unit price is not the line's.
        let (body, cart) = priced(AmountBasis::Unit);
        let found = check_checkout_request(&body, &cart.cart_items, AmountBasis::Line);
        assert!(
            found.iter().any(|v| v.rule == CheckoutRule::OrderTotals),
            "{found:?}"
        );
    }
}
