//! Money: `rust_decimal` amounts with one named rounding strategy, on the wire as
//! `{"amount": "1.00", "currencyCode": "USD"}` with exactly two decimals.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Deserializer};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

/// The one rounding rule for money (docs/pricing.md rule 1): half away from zero.
/// rust_decimal's plain `round_dp` is banker's rounding, which is never used on money.
pub const MONEY_ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// Decimal places of every amount on the wire.
pub const MONEY_SCALE: u32 = 2;

/// Rounds to cents with [`MONEY_ROUNDING`] and fixes the scale at two decimals.
pub fn round2(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(MONEY_SCALE, MONEY_ROUNDING);
    rounded.rescale(MONEY_SCALE);
    rounded
}

/// Parses a plain decimal string (`"12"`, `"0.45"`, `"-3.10"`): optional minus sign, digits,
/// optionally a dot followed by digits. No exponent, no `+`, no spaces, no `_` separators,
/// which `Decimal::from_str` would otherwise let through. The scale is kept (`"1.0"` has scale 1).
pub fn parse_plain_decimal(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    Decimal::from_str(text).ok()
}

/// Whether `value` needs no more than two decimals (trailing zeros aside).
pub fn has_at_most_two_decimals(value: Decimal) -> bool {
    value.normalize().scale() <= MONEY_SCALE
}

/// Whole cents of an amount that has at most two decimals.
pub fn to_cents(amount: Decimal) -> i128 {
    debug_assert!(
        has_at_most_two_decimals(amount),
        "unrounded amount {amount}"
    );
    let mut fixed = amount;
    fixed.rescale(MONEY_SCALE);
    fixed.mantissa()
}

/// The amount of a number of cents.
pub fn from_cents(cents: i128) -> Decimal {
    Decimal::from_i128_with_scale(cents, MONEY_SCALE)
}

/// `round2(value)` in whole cents.
pub fn cents_of(value: Decimal) -> i128 {
    to_cents(round2(value))
}

/// `round2(a × b)` in whole cents: the same figure as `to_cents(round2(a * b))`, worked out
/// in integers (`Decimal`'s rounding is most of the cost of every line's amounts). Only where
/// `Decimal`'s product is exact (at most 28 decimals, a 96-bit mantissa), so the figure is the
/// same everywhere: past that `Decimal` rounds the product before `round2` does, and answers.
pub fn cents_of_product(a: Decimal, b: Decimal) -> i128 {
    let scale = a.scale() + b.scale();
    multiply(a.mantissa(), b.mantissa())
        .filter(|product| {
            scale <= DECIMAL_MAX_SCALE && product.unsigned_abs() < DECIMAL_MANTISSA_END
        })
        .and_then(|product| cents_of_scaled(product, scale))
        .unwrap_or_else(|| cents_of(a * b))
}

/// `Decimal`'s limits: 28 decimals, and a mantissa below 2⁹⁶.
const DECIMAL_MAX_SCALE: u32 = 28;
const DECIMAL_MANTISSA_END: u128 = 1 << 96;

/// `round2(from_cents(cents) ÷ divisor)` in whole cents, worked out exactly in integers like
/// [`cents_of_product`]. `divisor` must not be zero. `Decimal`'s quotient is rounded to 28
/// digits before `round2`; for a cart quantity (at most 10 characters, so a mantissa below
/// 10¹⁰) that error is far smaller than the quotient's distance from any half cent, so the
/// figure is the same (a property test covers that range).
pub fn cents_of_quotient(cents: i128, divisor: Decimal) -> i128 {
    // cents ÷ (m / 10^s) = cents × 10^s ÷ m
    power_of_ten(divisor.scale())
        .and_then(|power| multiply(cents, power))
        // A zero divisor has no quotient here either: `Decimal` answers, as it always did.
        .and_then(|dividend| divide_rounding(dividend, divisor.mantissa()))
        .unwrap_or_else(|| cents_of(from_cents(cents) / divisor))
}

/// Whole cents, rounded with [`MONEY_ROUNDING`], of `mantissa / 10^scale`.
fn cents_of_scaled(mantissa: i128, scale: u32) -> Option<i128> {
    if scale <= MONEY_SCALE {
        multiply(mantissa, power_of_ten(MONEY_SCALE - scale)?)
    } else {
        divide_rounding(mantissa, power_of_ten(scale - MONEY_SCALE)?)
    }
}

/// `a × b`, or `None` past 128 bits. Two 64-bit factors (every real amount) take one widening
/// multiplication and cannot overflow.
fn multiply(a: i128, b: i128) -> Option<i128> {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(a), Ok(b)) => Some(i128::from(a) * i128::from(b)),
        _ => a.checked_mul(b),
    }
}

/// 10^exponent, or `None` past 128 bits: a table rather than a loop of checked multiplications.
fn power_of_ten(exponent: u32) -> Option<i128> {
    const POWERS: [i128; 39] = {
        let mut powers = [1i128; 39];
        let mut at = 1;
        while at < powers.len() {
            powers[at] = powers[at - 1] * 10;
            at += 1;
        }
        powers
    };
    POWERS.get(usize::try_from(exponent).ok()?).copied()
}

/// `dividend ÷ divisor` rounded half away from zero ([`MONEY_ROUNDING`]), exactly; `None` for a
/// zero divisor.
fn divide_rounding(dividend: i128, divisor: i128) -> Option<i128> {
    // 128-bit division is a library call; every real amount and quantity fits in 64 bits.
    let (quotient, remainder) = match (i64::try_from(dividend), i64::try_from(divisor)) {
        (Ok(dividend), Ok(divisor)) => (
            i128::from(dividend.checked_div(divisor)?),
            i128::from(dividend % divisor),
        ),
        _ => (dividend.checked_div(divisor)?, dividend % divisor),
    };
    let remainder = remainder.unsigned_abs();
    // A remainder of at least half the divisor rounds away from zero.
    if remainder >= divisor.unsigned_abs() - remainder {
        let away = if (dividend < 0) == (divisor < 0) {
            1
        } else {
            -1
        };
        quotient.checked_add(away)
    } else {
        Some(quotient)
    }
}

/// Writes cents as the wire wants them (`-12.05`, `0.00`) into `buffer`, returning the text.
/// Integer arithmetic on a stack buffer: this runs for every amount of every cart, and the
/// `fmt` machinery (or `Decimal`'s `Display`) costs several times more.
fn write_cents(cents: i128, buffer: &mut [u8; 44]) -> &str {
    // Every real amount fits in 64 bits, where division is one instruction; 128-bit division is
    // a library call, and this runs for every amount of every cart.
    let mut at = match u64::try_from(cents.unsigned_abs()) {
        Ok(small) => write_digits(small, buffer),
        Err(_) => write_digits(cents.unsigned_abs(), buffer),
    };
    if cents < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    std::str::from_utf8(&buffer[at..]).unwrap_or("0.00")
}

/// The digits of `cents` at the end of `buffer`, with the decimal point before the last two
/// (at least `0.00`); where they start.
fn write_digits<N>(mut rest: N, buffer: &mut [u8; 44]) -> usize
where
    N: Copy + PartialOrd + From<u8> + std::ops::Rem<Output = N> + std::ops::DivAssign,
    u8: TryFrom<N>,
{
    let (zero, ten) = (N::from(0), N::from(10));
    let mut at = buffer.len();
    let mut digits = 0;
    while digits < 3 || rest > zero {
        if digits == 2 {
            at -= 1;
            buffer[at] = b'.';
        }
        at -= 1;
        buffer[at] = b'0' + u8::try_from(rest % ten).unwrap_or(0);
        rest /= ten;
        digits += 1;
    }
    at
}

/// An ISO-4217 currency code: three upper-case ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    pub const USD: CurrencyCode = CurrencyCode(*b"USD");

    pub fn as_str(&self) -> &str {
        // Only ever built from ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl FromStr for CurrencyCode {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                Ok(CurrencyCode([*a, *b, *c]))
            }
            _ => Err(format!(
                "'{code}' is not an ISO-4217 currency code (three upper-case letters)"
            )),
        }
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CurrencyCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CurrencyCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// An amount of money, held as whole cents so it can never carry a third decimal. Built from
/// cents, by [`Money::rounded`] (which applies [`MONEY_ROUNDING`]), or by strict parsing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    cents: i128,
    currency_code: CurrencyCode,
}

impl Money {
    /// Rounds `amount` to cents with [`MONEY_ROUNDING`].
    pub fn rounded(amount: Decimal, currency_code: CurrencyCode) -> Money {
        Money::from_cents(cents_of(amount), currency_code)
    }

    pub fn from_cents(cents: i128, currency_code: CurrencyCode) -> Money {
        Money {
            cents,
            currency_code,
        }
    }

    pub fn zero(currency_code: CurrencyCode) -> Money {
        Money::from_cents(0, currency_code)
    }

    pub fn amount(&self) -> Decimal {
        from_cents(self.cents)
    }

    pub fn cents(&self) -> i128 {
        self.cents
    }

    pub fn currency_code(&self) -> CurrencyCode {
        self.currency_code
    }

    /// The amount as it goes on the wire: exactly two decimals.
    pub fn amount_text(&self) -> String {
        write_cents(self.cents, &mut [0; 44]).to_owned()
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_text(), self.currency_code)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_struct("Money", 2)?;
        object.serialize_field("amount", write_cents(self.cents, &mut [0; 44]))?;
        object.serialize_field("currencyCode", &self.currency_code)?;
        object.end()
    }
}

/// Strict on the way in: `amount` must be a JSON string holding a plain decimal with exactly
/// two decimals; a JSON number (a float on someone's side) is refused.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            amount: String,
            currency_code: CurrencyCode,
        }
        let crate::json::object_only::ObjectOnly(wire) =
            crate::json::object_only::ObjectOnly::<Wire>::deserialize(deserializer)?;
        let amount = parse_money_amount(&wire.amount).map_err(de::Error::custom)?;
        Ok(Money::from_cents(to_cents(amount), wire.currency_code))
    }
}

/// Parses a wire amount: a plain decimal string with exactly two decimals.
pub fn parse_money_amount(text: &str) -> Result<Decimal, String> {
    let value = parse_plain_decimal(text)
        .ok_or_else(|| format!("amount '{text}' is not a plain decimal string"))?;
    if value.scale() != MONEY_SCALE {
        return Err(format!("amount '{text}' must have exactly two decimals"));
    }
    if value.abs() > MAX_WIRE_AMOUNT {
        return Err(format!(
            "amount '{text}' is larger than any cart ({MAX_WIRE_AMOUNT})"
        ));
    }
    Ok(value)
}

/// **Our choice:** the largest amount a checkout body may carry: what the engine can produce at
/// most (a price book amount of at most 1,000,000.00 times a 10-character quantity), so a line
/// total and its parts stay far inside `Decimal`'s 28 digits; the checker's sums are checked
/// besides.
pub const MAX_WIRE_AMOUNT: Decimal = rust_decimal::dec!(10_000_000_000_000_000);

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn products_and_quotients_round_half_away_from_zero_in_integers() {
        assert_eq!(cents_of_product(dec!(2.49), dec!(1.37)), 341); // 3.4113
        assert_eq!(cents_of_product(dec!(0.10), dec!(0.05)), 1); // 0.005 → 0.01
        assert_eq!(cents_of_product(dec!(-0.10), dec!(0.05)), -1); // −0.005 → −0.01
        assert_eq!(cents_of_product(dec!(0.10), dec!(0.0499)), 0);
        assert_eq!(cents_of_product(dec!(3), dec!(4)), 1200);
        assert_eq!(cents_of_quotient(100, dec!(3)), 33);
        assert_eq!(cents_of_quotient(-5, dec!(2)), -3); // −0.025 → −0.03
        assert_eq!(cents_of_quotient(5, dec!(-2)), -3);
        assert_eq!(cents_of_quotient(137, dec!(1.37)), 100);
        // Where `Decimal` rounds the product first, its figure is kept: 0.06 × 1/12 to 28
        // places is 0.00499…998 exactly, 0.0050…0 in `Decimal`, so 0.01.
        let twelfth = Decimal::from_str("0.0833333333333333333333333333").unwrap();
        assert_eq!(cents_of_product(dec!(0.06), twelfth), 1);
        assert_eq!(
            cents_of_product(Decimal::MAX, dec!(0.5)),
            to_cents(round2(Decimal::MAX * dec!(0.5)))
        );
        assert_eq!(
            cents_of_product(Decimal::new(1, 28), Decimal::new(5, 28)),
            0
        );
    }

    proptest::proptest! {
        /// The integer paths give exactly what `Decimal` arithmetic and [`round2`] give: up to
        /// 28 decimals each and products past 96 bits, both sides of `Decimal`'s limits.
        #[test]
        fn integer_products_agree_with_decimal_arithmetic(
            a in proptest::num::i64::ANY,
            a_scale in 0u32..=28,
            b in proptest::num::i64::ANY,
            b_scale in 0u32..=28,
        ) {
            let a = Decimal::new(a, a_scale);
            let b = Decimal::new(b, b_scale);
            proptest::prop_assume!(a.checked_mul(b).is_some());
            proptest::prop_assert_eq!(cents_of_product(a, b), to_cents(round2(a * b)));
        }

        /// Every amount a line can carry, over every quantity a cart can hold (at most 10
        /// characters: mantissas below 10¹⁰, up to 9 decimals).
        #[test]
        fn integer_quotients_agree_with_decimal_arithmetic(
            cents in -100_000_000_000_000i64..100_000_000_000_000,
            quantity in 1i64..10_000_000_000,
            scale in 0u32..=9,
        ) {
            let quantity = Decimal::new(quantity, scale);
            proptest::prop_assert_eq!(
                cents_of_quotient(i128::from(cents), quantity),
                to_cents(round2(from_cents(i128::from(cents)) / quantity))
            );
        }
    }

    #[test]
    fn cents_are_written_with_two_decimals_on_either_side_of_64_bits() {
        let written = |cents: i128| write_cents(cents, &mut [0; 44]).to_owned();
        assert_eq!(written(0), "0.00");
        assert_eq!(written(5), "0.05");
        assert_eq!(written(-5), "-0.05");
        assert_eq!(written(-1205), "-12.05");
        assert_eq!(written(100_000_000), "1000000.00");
        let past_64_bits = i128::from(u64::MAX) + 1;
        assert_eq!(written(past_64_bits), "184467440737095516.16");
        assert_eq!(written(-past_64_bits), "-184467440737095516.16");
        assert_eq!(written(i128::from(u64::MAX)), "184467440737095516.15");
        assert_eq!(
            written(i128::MIN + 1),
            "-1701411834604692317316873037158841057.27"
        );
    }

    #[test]
    fn rounds_half_away_from_zero_not_to_even() {
        assert_eq!(round2(dec!(0.125)).to_string(), "0.13");
        assert_eq!(round2(dec!(0.135)).to_string(), "0.14");
        assert_eq!(round2(dec!(-0.125)).to_string(), "-0.13");
        assert_eq!(round2(dec!(0.1249999)).to_string(), "0.12");
        assert_eq!(round2(dec!(0.165)).to_string(), "0.17");
        // Banker's rounding would give 0.12 here; the named strategy must not.
        assert_ne!(dec!(0.125).round_dp(2), round2(dec!(0.125)));
    }

    #[test]
    fn always_two_decimals_on_the_wire() {
        let usd = CurrencyCode::USD;
        let json = serde_json::to_string(&Money::rounded(dec!(1), usd)).unwrap();
        assert_eq!(json, r#"{"amount":"1.00","currencyCode":"USD"}"#);
        assert_eq!(Money::rounded(dec!(0.5), usd).amount_text(), "0.50");
        assert_eq!(Money::rounded(dec!(12.345), usd).amount_text(), "12.35");
        assert_eq!(Money::rounded(dec!(-0.05), usd).amount_text(), "-0.05");
        assert_eq!(Money::rounded(dec!(-12.3), usd).amount_text(), "-12.30");
        assert_eq!(
            Money::from_cents(123_456_789, usd).amount_text(),
            "1234567.89"
        );
        assert_eq!(Money::zero(usd).amount_text(), "0.00");
        assert_eq!(Money::from_cents(5, usd).amount_text(), "0.05");
        assert_eq!(Money::from_cents(-100, usd).amount_text(), "-1.00");
        for cents in [
            0i128,
            1,
            9,
            10,
            99,
            100,
            101,
            12345,
            -1,
            -99,
            -12345,
            10i128.pow(20),
        ] {
            let text = Money::from_cents(cents, usd).amount_text();
            assert_eq!(
                text.parse::<Decimal>().unwrap(),
                from_cents(cents),
                "{text}"
            );
            assert_eq!(text.split_once('.').unwrap().1.len(), 2, "{text}");
        }
    }

    #[test]
    fn parsing_is_strict() {
        let ok: Money = serde_json::from_str(r#"{"amount":"0.99","currencyCode":"EUR"}"#).unwrap();
        assert_eq!(ok.amount(), dec!(0.99));
        for bad in [
            r#"{"amount":0.99,"currencyCode":"USD"}"#,
            r#"{"amount":"0.9","currencyCode":"USD"}"#,
            r#"{"amount":"0.999","currencyCode":"USD"}"#,
            r#"{"amount":"1e2","currencyCode":"USD"}"#,
            r#"{"amount":" 1.00","currencyCode":"USD"}"#,
            r#"{"amount":"1_0.00","currencyCode":"USD"}"#,
            r#"{"amount":"1.00","currencyCode":"usd"}"#,
            r#"{"amount":"1.00"}"#,
            r#"["1.00","USD"]"#,
        ] {
            assert!(
                serde_json::from_str::<Money>(bad).is_err(),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn plain_decimals() {
        assert_eq!(parse_plain_decimal("0.45"), Some(dec!(0.45)));
        assert_eq!(parse_plain_decimal("1.0").map(|d| d.scale()), Some(1));
        assert_eq!(parse_plain_decimal("-2"), Some(dec!(-2)));
        for bad in [
            "", ".5", "5.", "+1", "1e3", "1_000", "1.2.3", " 1", "0x10", "-",
        ] {
            assert_eq!(parse_plain_decimal(bad), None, "{bad:?} was accepted");
        }
    }
}
