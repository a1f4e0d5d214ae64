//! `jwo reprice`: what a candidate price book would have charged for the purchases a connector
//! stored, before the book goes live. Reads each store's history through the operator routes,
//! prices every stored cart with the candidate book here, and compares line by line, from the
//! explanations of both. Nothing is changed, anywhere.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::contract::create_purchases::CreatePurchasesRequest;
use jwo_domain::money::{from_cents, parse_money_amount, to_cents};
use jwo_domain::pricing::{PriceBook, Unpriced, explain_cart};
use serde::Serialize;
use serde_json::{Value, json};

use crate::commands::price::load_price_book;
use crate::commands::purchases::{list_pages, refused};
use crate::purchases_endpoint::OperatorEndpointArgs;
use operator::rest::percent_encode;

#[derive(Debug, Args)]
pub struct Reprice {
    /// The candidate price book (JSON, as `jwo catalog import` takes it).
    #[arg(long, value_name = "FILE")]
    pub pricebook: PathBuf,
    #[command(flatten)]
    pub connector: OperatorEndpointArgs,
    /// A store to compare; repeat for more. Default: every store the candidate book has tax
    /// rates for.
    #[arg(long = "store", value_name = "STORE_ID")]
    pub stores: Vec<String>,
    /// Purchases created at or after this UTC time (2026-12-01T00:00:00Z). Default: 24 hours
    /// ago.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// ... and before this one. Default: now.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What the candidate book makes of one stored purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Compared {
    pub purchase_id: String,
    pub store_id: String,
    pub idempotent_shopping_trip_id: String,
    pub state: String,
    pub price_book_version: Option<String>,
    /// The stored priceTotal (`None`: the purchase was never priced).
    pub stored: Option<String>,
    /// The candidate's priceTotal (`None`: the candidate cannot price it, or it is empty).
    pub candidate: Option<String>,
    /// candidate − stored, when both priced it.
    pub difference: Option<String>,
    /// Why the candidate cannot price it (field: constraint).
    pub candidate_constraints: Vec<String>,
    /// The lines charged differently, and why.
    pub lines: Vec<LineChange>,
    /// The threshold promotion, where it differs.
    pub threshold: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineChange {
    pub line: usize,
    pub product_id: String,
    pub stored: Option<String>,
    pub candidate: Option<String>,
    pub why: Vec<String>,
}

impl Compared {
    pub fn changed(&self) -> bool {
        self.stored != self.candidate || !self.lines.is_empty() || self.threshold.is_some()
    }
}

/// Totals over every compared purchase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub compared: usize,
    pub changed: usize,
    /// Priced when stored, not by the candidate.
    pub would_be_held: usize,
    /// Held when stored (never priced), priced by the candidate.
    pub would_be_priced: usize,
    /// Over the purchases both priced.
    pub stored_total: String,
    pub candidate_total: String,
    pub difference: String,
}

pub fn run(args: Reprice) -> ExitCode {
    super::run_refusable(reprice(args))
}

async fn reprice(args: Reprice) -> Result<bool, String> {
    let book = load_price_book(&args.pricebook)?;
    let now = Utc::now();
    let time = |flag: &str, text: &Option<String>, default: DateTime<Utc>| match text {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| {
                format!("--{flag} '{text}' is not a UTC ISO 8601 time such as 2026-12-01T00:00:00Z")
            }),
        None => Ok(default),
    };
    let since = time("since", &args.since, now - chrono::Duration::hours(24))?;
    let until = time("until", &args.until, now)?;
    if since >= until {
        return Err("--until must be later than --since".into());
    }
    let stores: BTreeSet<String> = if args.stores.is_empty() {
        book.tax_rates.keys().cloned().collect()
    } else {
        args.stores.iter().cloned().collect()
    };
    let endpoint = args.connector.connect().await?;
    let mut out = std::io::stdout().lock();
    let mut compared = Vec::new();
    for store in &stores {
        let query = format!(
            "storeId={}&since={}&until={}&limit=100",
            percent_encode(store),
            percent_encode(&since.to_rfc3339()),
            percent_encode(&until.to_rfc3339())
        );
        let purchases = match list_pages(&endpoint, &query, true).await? {
            Ok((purchases, _)) => purchases,
            Err((status, answer)) => return refused(&mut out, status, &answer, args.json),
        };
        compared.extend(purchases.iter().map(|session| compare(session, &book)));
    }
    let summary = summarize(&compared);
    let changed: Vec<&Compared> = compared.iter().filter(|c| c.changed()).collect();
    let text = if args.json {
        format!(
            "{:#}\n",
            json!({
                "since": stamp(since), "until": stamp(until),
                "stores": stores, "changed": changed, "summary": summary,
            })
        )
    } else {
        report(&args.pricebook, &stores, since, until, &changed, &summary)
    };
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(true)
}

/// Prices the stored cart of `session` (a purchase as the operator routes show it) with
/// `book`, and compares it with what was stored, line by line.
pub fn compare(session: &Value, book: &PriceBook) -> Compared {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let stored = text(&session["orderTotals"]["priceTotal"]["amount"]);
    // The basis it was priced in: as explained, as set for it, or else the candidate's.
    let basis = [&session["pricing"]["amountBasis"], &session["amountBasis"]]
        .into_iter()
        .find_map(|basis| serde_json::from_value::<AmountBasis>(basis.clone()).ok())
        .unwrap_or(book.amount_basis);
    let mut compared = Compared {
        purchase_id: text(&session["purchaseId"]).unwrap_or_default(),
        store_id: text(&session["storeId"]).unwrap_or_default(),
        idempotent_shopping_trip_id: text(&session["idempotentShoppingTripId"]).unwrap_or_default(),
        state: text(&session["statusDetail"]["state"]).unwrap_or_default(),
        price_book_version: text(&session["priceBookVersion"]),
        stored,
        candidate: None,
        difference: None,
        candidate_constraints: Vec::new(),
        lines: Vec::new(),
        threshold: None,
    };
    let end = &session["cart"]["tripEndTime"];
    let request = serde_json::from_value::<CreatePurchasesRequest>(json!({
        "requestId": "what-if", "idempotentShoppingTripId": compared.idempotent_shopping_trip_id,
        "storeId": compared.store_id,
        "shoppingTrip": { "startTime": end, "endTime": end, "authEvents": [] },
        "cartItems": session["cart"]["cartItems"],
    }));
    let request = match request {
        Ok(request) => request,
        Err(error) => {
            compared
                .candidate_constraints
                .push(format!("cart: the stored cart cannot be read ({error})"));
            return compared;
        }
    };
    let (checkout, explanation) = match explain_cart(book, &request, basis, &[]) {
        Ok(priced) => priced,
        Err(Unpriced::EmptyCart) => return compared,
        Err(Unpriced::Unpriceable(constraints)) => {
            compared.candidate_constraints = constraints
                .iter()
                .map(|c| format!("{} ({}): {}", c.field, c.kind, c.detail))
                .collect();
            return compared;
        }
    };
    let stored_currency = text(&session["orderTotals"]["priceTotal"]["currencyCode"]);
    let candidate_currency = checkout
        .order_totals
        .price_total
        .currency_code()
        .as_str()
        .to_owned();
    if stored_currency
        .as_ref()
        .is_some_and(|stored| *stored != candidate_currency)
    {
        compared.candidate_constraints.push(format!(
            "currency: stored in {}, the candidate charges in {candidate_currency}",
            stored_currency.unwrap_or_default()
        ));
        return compared;
    }
    let candidate_total = checkout.order_totals.price_total.amount_text();
    if let Some(Ok(stored)) = compared.stored.as_deref().map(parse_money_amount) {
        let difference = to_cents(checkout.order_totals.price_total.amount()) - to_cents(stored);
        compared.difference = Some(from_cents(difference).to_string());
    }
    compared.candidate = Some(candidate_total);
    let candidate = serde_json::to_value(&explanation).expect("an explanation serializes");
    let stored_lines: Vec<&Value> = session["lineItems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|line| &line["explanation"])
        .collect();
    for line in candidate["lines"].as_array().into_iter().flatten() {
        let n = line["line"].as_u64().unwrap_or(0) as usize;
        let before = stored_lines
            .iter()
            .find(|stored| stored["line"].as_u64() == Some(n as u64))
            .copied();
        if let Some(change) = line_change(n, before, line, compared.stored.is_some()) {
            compared.lines.push(change);
        }
    }
    let threshold = |value: &Value| {
        value["promotionId"]
            .as_str()
            .map(|id| format!("{id} ({})", value["amount"].as_str().unwrap_or("?")))
    };
    let (before, after) = (
        threshold(&session["pricing"]["threshold"]),
        threshold(&candidate["threshold"]),
    );
    if before != after && !(session["pricing"].is_null() && compared.stored.is_some()) {
        compared.threshold = Some(format!(
            "threshold {} → {}",
            before.as_deref().unwrap_or("none"),
            after.as_deref().unwrap_or("none")
        ));
    }
    compared
}

/// How one cart line's charge differs, from the stored explanation (`None`: not shown, the
/// version that priced it is unreadable, or the purchase was never priced) and the candidate's.
fn line_change(
    n: usize,
    before: Option<&Value>,
    after: &Value,
    was_priced: bool,
) -> Option<LineChange> {
    let text = |value: &Value| value.as_str().unwrap_or("").to_owned();
    let total = |line: &Value| line["charged"]["total"].as_str().map(str::to_owned);
    let product_id = text(&after["productId"]);
    let Some(before) = before.filter(|b| !b.is_null()) else {
        // Nothing to compare this line with: only a purchase never priced says so line by line.
        return (!was_priced).then(|| LineChange {
            line: n,
            product_id,
            stored: None,
            candidate: total(after),
            why: vec![format!(
                "now priced by {} ({})",
                text(&after["foundBy"]),
                text(&after["sku"])
            )],
        });
    };
    if total(before) == total(after) {
        return None;
    }
    let mut why = Vec::new();
    let changed = |what: &str, a: &Value, b: &Value, why: &mut Vec<String>| {
        if a != b {
            why.push(format!("{what} {} → {}", text(a), text(b)));
        }
    };
    if before["pricedBy"].is_object() {
        why.push("priced by a person when stored; the candidate prices it from the book".into());
    }
    changed("found by", &before["foundBy"], &after["foundBy"], &mut why);
    changed(
        "unit price",
        &before["unitPrice"],
        &after["unitPrice"],
        &mut why,
    );
    let promotions = |line: &Value| -> Vec<(String, String)> {
        line["promotions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| (text(&p["promotionId"]), text(&p["amount"])))
            .collect()
    };
    let (was, now) = (promotions(before), promotions(after));
    for (id, amount) in &was {
        match now.iter().find(|(other, _)| other == id) {
            None => why.push(format!("promotion {id} (−{amount}) no longer applies")),
            Some((_, other)) if other != amount => {
                why.push(format!("promotion {id} −{amount} → −{other}"))
            }
            Some(_) => {}
        }
    }
    for (id, amount) in &now {
        if !was.iter().any(|(other, _)| other == id) {
            why.push(format!("promotion {id} (−{amount}) applies"));
        }
    }
    changed(
        "tax code",
        &before["tax"]["taxCode"],
        &after["tax"]["taxCode"],
        &mut why,
    );
    changed(
        "tax rate",
        &before["tax"]["rate"],
        &after["tax"]["rate"],
        &mut why,
    );
    changed(
        "tax",
        &before["tax"]["amount"],
        &after["tax"]["amount"],
        &mut why,
    );
    changed(
        "fees",
        &before["charged"]["fees"],
        &after["charged"]["fees"],
        &mut why,
    );
    Some(LineChange {
        line: n,
        product_id,
        stored: total(before),
        candidate: total(after),
        why,
    })
}

/// As queried (a default `until` of now keeps its fraction of a second).
fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

pub fn summarize(compared: &[Compared]) -> Summary {
    let cents = |amount: &Option<String>| {
        amount
            .as_deref()
            .and_then(|amount| parse_money_amount(amount).ok())
            .map(to_cents)
    };
    let mut summary = Summary {
        compared: compared.len(),
        ..Summary::default()
    };
    let (mut stored_total, mut candidate_total) = (0i128, 0i128);
    for purchase in compared {
        summary.changed += usize::from(purchase.changed());
        match (cents(&purchase.stored), cents(&purchase.candidate)) {
            (Some(stored), Some(candidate)) => {
                stored_total += stored;
                candidate_total += candidate;
            }
            (Some(_), None) if !purchase.candidate_constraints.is_empty() => {
                summary.would_be_held += 1
            }
            (None, Some(_)) => summary.would_be_priced += 1,
            _ => {}
        }
    }
    summary.stored_total = from_cents(stored_total).to_string();
    summary.candidate_total = from_cents(candidate_total).to_string();
    summary.difference = from_cents(candidate_total - stored_total).to_string();
    summary
}

fn report(
    book: &std::path::Path,
    stores: &BTreeSet<String>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    changed: &[&Compared],
    summary: &Summary,
) -> String {
    let mut text = format!(
        "candidate {}; stores {}; purchases created from {} to {}\n",
        book.display(),
        stores.iter().cloned().collect::<Vec<_>>().join(", "),
        stamp(since),
        stamp(until)
    );
    for purchase in changed {
        let outcome = match (&purchase.stored, &purchase.candidate) {
            (Some(stored), Some(candidate)) => format!(
                "{stored} → {candidate} ({})",
                signed(purchase.difference.as_deref().unwrap_or("?"))
            ),
            (Some(stored), None) if purchase.candidate_constraints.is_empty() => {
                format!("{stored} → an empty cart")
            }
            (Some(stored), None) => format!("{stored} → would be held"),
            (None, Some(candidate)) => format!("not priced → {candidate}"),
            (None, None) => "not priced → still not priced".into(),
        };
        text.push_str(&format!(
            "purchase {}  {}  trip {}  {}  {}  {outcome}\n",
            purchase.purchase_id,
            purchase.store_id,
            purchase.idempotent_shopping_trip_id,
            purchase.state,
            purchase.price_book_version.as_deref().unwrap_or("-"),
        ));
        for line in &purchase.lines {
            text.push_str(&format!(
                "  line {} {}: {} → {}: {}\n",
                line.line,
                line.product_id,
                line.stored.as_deref().unwrap_or("-"),
                line.candidate.as_deref().unwrap_or("-"),
                line.why.join("; ")
            ));
        }
        if let Some(threshold) = &purchase.threshold {
            text.push_str(&format!("  {threshold}\n"));
        }
        for constraint in &purchase.candidate_constraints {
            text.push_str(&format!("  {constraint}\n"));
        }
    }
    text.push_str(&format!(
        "{} purchase(s) compared, {} charged differently ({} would be held, {} would now be priced); where both priced: stored {}, candidate {}, difference {}\n",
        summary.compared,
        summary.changed,
        summary.would_be_held,
        summary.would_be_priced,
        summary.stored_total,
        summary.candidate_total,
        signed(&summary.difference)
    ));
    text
}

/// A difference as people read it: `+0.54`, `-0.54`, `0.00`.
fn signed(difference: &str) -> String {
    match parse_money_amount(difference) {
        Ok(amount) if amount > rust_decimal::Decimal::ZERO => format!("+{difference}"),
        _ => difference.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(edit: impl FnOnce(&mut Value)) -> PriceBook {
        let mut book: Value =
            serde_json::from_slice(&std::fs::read(jwo_test_support::sample_price_book()).unwrap())
                .unwrap();
        edit(&mut book);
        PriceBook::from_json(book.to_string().as_bytes()).unwrap()
    }

    /// The purchase `book` priced from the sample cart, as the operator routes show it.
    fn stored_session(book: &PriceBook) -> Value {
        let body = std::fs::read(jwo_test_support::fixtures(
            "create_purchases/1.02_multi_item_cart.json",
        ))
        .unwrap();
        let request = jwo_domain::validation::validate_create_purchases(&body).unwrap();
        let (checkout, explanation) = explain_cart(book, &request, book.amount_basis, &[]).unwrap();
        let explanation = serde_json::to_value(&explanation).unwrap();
        let lines: Vec<Value> = explanation["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| json!({ "explanation": line }))
            .collect();
        json!({
            "purchaseId": "p-1", "storeId": request.store_id,
            "idempotentShoppingTripId": request.idempotent_shopping_trip_id,
            "statusDetail": { "state": "Completed" }, "priceBookVersion": "v1",
            "orderTotals": checkout.order_totals, "lineItems": lines,
            "pricing": { "amountBasis": explanation["amountBasis"], "threshold": explanation["threshold"] },
            "cart": { "tripEndTime": request.shopping_trip.end_time, "cartItems": request.cart_items },
        })
    }

    #[test]
    fn the_same_book_changes_nothing_and_a_promotion_dropped_is_named_with_its_amount() {
        let sample = book(|_| {});
        let session = stored_session(&sample);
        let same = compare(&session, &sample);
        assert!(!same.changed(), "{same:?}");
        assert_eq!(same.difference.as_deref(), Some("0.00"));

        let without = book(|book| {
            book["promotions"]
                .as_array_mut()
                .unwrap()
                .retain(|p| p["id"] != "P-50C")
        });
        let compared = compare(&session, &without);
        assert!(compared.changed());
        assert_eq!(compared.lines.len(), 1, "{compared:?}");
        let line = &compared.lines[0];
        assert_eq!(line.product_id, "SKU-002");
        assert!(
            line.why
                .contains(&"promotion P-50C (−0.50) no longer applies".to_owned()),
            "{:?}",
            line.why
        );
        let summary = summarize(&[same, compared.clone()]);
        assert_eq!(summary.difference, compared.difference.unwrap());
        assert_eq!((summary.compared, summary.changed), (2, 1));
    }
}
