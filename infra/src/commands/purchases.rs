//! `jwo purchases`: the operator routes from the command line, against `jwo serve` or a
//! deployed connector (`--sign` with the operator's AWS credentials). A table or a short summary
//! for people, `--json` (the answer as the service gave it) for scripts.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{Value, json};

use crate::purchases_endpoint::{OperatorEndpointArgs, PurchasesEndpoint};
use operator::rest::percent_encode;

#[derive(Debug, Args)]
pub struct Purchases {
    #[command(subcommand)]
    pub command: PurchasesCommand,
    #[command(flatten)]
    pub connector: OperatorEndpointArgs,
    /// Print the service's answer as JSON instead of a summary.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PurchasesCommand {
    /// The Open purchases: what is on its way to checkout, and what needs a person. With
    /// --since, a store's history instead: its purchases created in the window, in any state.
    List {
        #[arg(long, value_name = "STORE_ID")]
        store: Option<String>,
        /// A store's purchases created at or after this UTC time (2026-12-01T00:00:00Z).
        #[arg(long, value_name = "TIME", requires = "store")]
        since: Option<String>,
        /// ... and before this one (default: now).
        #[arg(long, value_name = "TIME", requires = "since")]
        until: Option<String>,
        /// With --since: only those in this state (Open, Completed, Canceled).
        #[arg(long, value_name = "STATE", requires = "since")]
        state: Option<String>,
        /// Only those held by this constraint (UnknownSku, NoPriceBook, CheckoutOutcomeUnknown…).
        #[arg(long, value_name = "CONSTRAINT")]
        constraint: Option<String>,
        /// At most this many a page (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Every page, not only the first.
        #[arg(long)]
        all: bool,
    },
    /// One purchase, by id or by its store's shopping trip.
    Get {
        #[arg(required_unless_present = "trip")]
        purchase_id: Option<String>,
        #[arg(long, value_name = "STORE_ID", requires = "trip")]
        store: Option<String>,
        #[arg(long, value_name = "TRIP_ID", requires = "store")]
        trip: Option<String>,
    },
    /// Price it again from the current price book, price a line yourself, or set the
    /// retailer's references.
    Update {
        purchase_id: String,
        #[arg(long)]
        reprice: bool,
        /// Price cart line LINE (0-based) at UNIT_PRICE (two decimals) with TAX_CODE's rate;
        /// repeat for more lines. Needs --reason.
        #[arg(long, value_name = "LINE:UNIT_PRICE:TAX_CODE", requires = "reason")]
        line_price: Vec<String>,
        /// Why the lines were priced so (kept in the purchase's history).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        #[arg(long, value_name = "TEXT")]
        reference: Option<String>,
        #[arg(long, value_name = "TEXT")]
        custom_information: Option<String>,
    },
    /// Submit it now; or, for one held for reconciliation, record the orderId Amazon
    /// confirmed (nothing is submitted) or submit it again.
    Complete {
        purchase_id: String,
        #[arg(long, value_name = "ORDER_ID", conflicts_with = "resubmit")]
        order_id: Option<String>,
        #[arg(long)]
        resubmit: bool,
        /// Submit only if its priceTotal is this ("12.34", or "12.34 USD"): the total you
        /// looked at. Otherwise refused (AmountMismatch) and nothing is submitted.
        #[arg(long, value_name = "AMOUNT", conflicts_with = "order_id")]
        total: Option<String>,
    },
    /// Cancel it (never while a checkout holds it, never once Completed). One Amazon may have
    /// charged needs --not-charged: say so only once Amazon confirmed it did not charge it.
    Cancel {
        purchase_id: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[arg(long)]
        not_charged: bool,
    },
}

pub fn run(args: Purchases) -> ExitCode {
    super::run_refusable(call(&args))
}

/// `GET /v1/purchases?{query}`, page after page when `all`: the purchases and the token of the
/// page after the last one read; or the service's refusal (status, answer).
pub(crate) async fn list_pages(
    endpoint: &PurchasesEndpoint,
    query: &str,
    all: bool,
) -> Result<Result<(Vec<Value>, Option<String>), (u16, Value)>, String> {
    let mut purchases = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page_query = match &token {
            Some(token) => format!("{query}&nextToken={token}"),
            None => query.to_owned(),
        };
        let (status, page) = endpoint
            .call(Method::GET, &format!("/v1/purchases?{page_query}"), &[])
            .await?;
        let page: Value = serde_json::from_slice(&page)
            .unwrap_or_else(|_| json!({ "message": String::from_utf8_lossy(&page).into_owned() }));
        if status != 200 {
            return Ok(Err((status, page)));
        }
        purchases.extend(page["purchases"].as_array().cloned().unwrap_or_default());
        token = page["nextToken"].as_str().map(str::to_owned);
        if !all || token.is_none() {
            return Ok(Ok((purchases, token)));
        }
    }
}

/// Runs the command; `Ok(false)` when the service refused (its message printed).
async fn call(args: &Purchases) -> Result<bool, String> {
    let endpoint = args.connector.connect().await?;
    let send = |method: Method, path: String, body: Option<Value>| {
        let endpoint = &endpoint;
        async move {
            let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
            let (status, answer) = endpoint.call(method, &path, &body).await?;
            let answer: Value = serde_json::from_slice(&answer).unwrap_or_else(
                |_| json!({ "message": String::from_utf8_lossy(&answer).into_owned() }),
            );
            Ok::<_, String>((status, answer))
        }
    };
    let mut out = std::io::stdout().lock();
    let (status, answer) = match &args.command {
        PurchasesCommand::List {
            store,
            since,
            until,
            state,
            constraint,
            limit,
            all,
        } => {
            let mut query = format!("limit={limit}");
            match since {
                Some(since) => {
                    query.push_str(&format!("&since={}", percent_encode(since)));
                    if let Some(until) = until {
                        query.push_str(&format!("&until={}", percent_encode(until)));
                    }
                    if let Some(state) = state {
                        query.push_str(&format!("&state={}", percent_encode(state)));
                    }
                }
                None => query.push_str("&state=Open"),
            }
            if let Some(store) = store {
                query.push_str(&format!("&storeId={}", percent_encode(store)));
            }
            if let Some(constraint) = constraint {
                query.push_str(&format!("&constraintId={}", percent_encode(constraint)));
            }
            let (purchases, token) = match list_pages(&endpoint, &query, *all).await? {
                Ok(listed) => listed,
                Err((status, answer)) => return refused(&mut out, status, &answer, args.json),
            };
            if args.json {
                let mut page = json!({ "purchases": purchases });
                if let Some(token) = token {
                    page["nextToken"] = json!(token);
                }
                writeln!(out, "{page:#}").map_err(|e| e.to_string())?;
            } else {
                print_table(&mut out, &purchases, token.as_deref()).map_err(|e| e.to_string())?;
            }
            return Ok(true);
        }
        PurchasesCommand::Get {
            purchase_id,
            store,
            trip,
        } => {
            let path = match (purchase_id, store, trip) {
                (Some(id), _, _) => format!("/v1/purchases/{}", percent_encode(id)),
                (None, Some(store), Some(trip)) => format!(
                    "/v1/purchases?storeId={}&idempotentShoppingTripId={}",
                    percent_encode(store),
                    percent_encode(trip)
                ),
                _ => return Err("give a purchase id, or --store and --trip".into()),
            };
            send(Method::GET, path, None).await?
        }
        PurchasesCommand::Update {
            purchase_id,
            reprice,
            line_price,
            reason,
            reference,
            custom_information,
        } => {
            let mut body = json!({});
            if *reprice {
                body["reprice"] = json!(true);
            }
            if !line_price.is_empty() {
                let mut prices = Vec::new();
                for text in line_price {
                    let parts: Vec<&str> = text.splitn(3, ':').collect();
                    let [line, unit_price, tax_code] = parts.as_slice() else {
                        return Err(format!(
                            "--line-price '{text}': give LINE:UNIT_PRICE:TAX_CODE"
                        ));
                    };
                    let line: usize = line
                        .parse()
                        .map_err(|_| format!("--line-price '{text}': LINE is a position from 0"))?;
                    prices.push(json!({
                        "line": line, "unitPrice": unit_price, "taxCode": tax_code, "reason": reason,
                    }));
                }
                body["lineOverrides"] = json!(prices);
            }
            if reference.is_some() || custom_information.is_some() {
                body["merchantMetadata"] = json!({
                    "merchantReferenceId": reference, "customInformation": custom_information,
                });
            }
            let path = format!("/v1/purchases/{}", percent_encode(purchase_id));
            send(Method::PATCH, path, Some(body)).await?
        }
        PurchasesCommand::Complete {
            purchase_id,
            order_id,
            resubmit,
            total,
        } => {
            let mut body = match (order_id, resubmit) {
                (Some(order_id), _) => json!({ "orderId": order_id }),
                (None, true) => json!({ "resubmit": true }),
                (None, false) => json!({}),
            };
            if let Some(total) = total {
                let (amount, currency) = total.split_once(' ').unwrap_or((total, "USD"));
                body["orderTotals"] =
                    json!({ "priceTotal": { "amount": amount, "currencyCode": currency } });
            }
            let path = format!("/v1/purchases/{}/complete", percent_encode(purchase_id));
            send(Method::POST, path, Some(body)).await?
        }
        PurchasesCommand::Cancel {
            purchase_id,
            reason,
            not_charged,
        } => {
            let path = format!("/v1/purchases/{}/cancel", percent_encode(purchase_id));
            let body = json!({ "reason": reason, "notCharged": not_charged });
            send(Method::POST, path, Some(body)).await?
        }
    };
    if status != 200 {
        return refused(&mut out, status, &answer, args.json);
    }
    if args.json {
        writeln!(out, "{answer:#}").map_err(|e| e.to_string())?;
    } else {
        let purchase = answer.get("purchase").unwrap_or(&answer);
        if let Some(outcome) = answer.get("outcome").and_then(Value::as_str) {
            writeln!(
                out,
                "{outcome}: {}",
                answer["detail"].as_str().unwrap_or("")
            )
            .map_err(|e| e.to_string())?;
        }
        print_purchase(&mut out, purchase).map_err(|e| e.to_string())?;
    }
    Ok(true)
}

pub(crate) fn refused(
    out: &mut impl Write,
    status: u16,
    answer: &Value,
    json: bool,
) -> Result<bool, String> {
    if json {
        writeln!(out, "{answer:#}").map_err(|e| e.to_string())?;
    }
    let mut message = format!(
        "{status}: {}",
        answer["message"].as_str().unwrap_or("(no message)")
    );
    for error in answer["errors"].as_array().into_iter().flatten() {
        message.push_str(&format!(
            "\n  {}: {}",
            error["field"].as_str().unwrap_or("?"),
            error["reason"].as_str().unwrap_or("")
        ));
    }
    eprintln!("{message}");
    Ok(false)
}

fn constraints_of(purchase: &Value) -> String {
    let ids: Vec<&str> = purchase["constraints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["constraintId"].as_str())
        .collect();
    if ids.is_empty() {
        "-".into()
    } else {
        ids.join(",")
    }
}

fn print_table(
    out: &mut impl Write,
    purchases: &[Value],
    next: Option<&str>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<36}  {:<12}  {:<38}  {:<20}  {:<9}  {:>9}  constraints",
        "purchaseId", "store", "shopping trip", "created", "state", "total"
    )?;
    for purchase in purchases {
        writeln!(
            out,
            "{:<36}  {:<12}  {:<38}  {:<20}  {:<9}  {:>9}  {}",
            purchase["purchaseId"].as_str().unwrap_or(""),
            purchase["storeId"].as_str().unwrap_or(""),
            purchase["idempotentShoppingTripId"].as_str().unwrap_or(""),
            purchase["creationTimestamp"].as_str().unwrap_or(""),
            purchase["statusDetail"]["state"].as_str().unwrap_or(""),
            purchase["orderTotals"]["priceTotal"]["amount"]
                .as_str()
                .unwrap_or("-"),
            constraints_of(purchase),
        )?;
    }
    writeln!(
        out,
        "{} purchase(s){}",
        purchases.len(),
        if next.is_some() {
            "; more with --all"
        } else {
            ""
        }
    )
}

fn print_purchase(out: &mut impl Write, purchase: &Value) -> std::io::Result<()> {
    let status = &purchase["statusDetail"];
    writeln!(
        out,
        "purchase {}  store {}  trip {}",
        purchase["purchaseId"].as_str().unwrap_or(""),
        purchase["storeId"].as_str().unwrap_or(""),
        purchase["idempotentShoppingTripId"].as_str().unwrap_or("")
    )?;
    writeln!(
        out,
        "  state {}{}  updated {}",
        status["state"].as_str().unwrap_or("?"),
        status["reasonCode"]
            .as_str()
            .map(|code| format!(" ({code})"))
            .unwrap_or_default(),
        status["lastUpdatedTimestamp"].as_str().unwrap_or("")
    )?;
    if let Some(order) = purchase["orderId"].as_str() {
        writeln!(out, "  orderId {order}")?;
    }
    if let Some(total) = purchase["orderTotals"]["priceTotal"]["amount"].as_str() {
        writeln!(
            out,
            "  total {total}  price book {}",
            purchase["priceBookVersion"].as_str().unwrap_or("-")
        )?;
    }
    for constraint in purchase["constraints"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  held: {} {}: {}",
            constraint["constraintId"].as_str().unwrap_or(""),
            constraint["field"].as_str().unwrap_or(""),
            constraint["description"].as_str().unwrap_or("")
        )?;
    }
    for change in purchase["history"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  {} {} by {}: {}",
            change["at"].as_str().unwrap_or(""),
            change["action"].as_str().unwrap_or(""),
            change["actor"].as_str().unwrap_or(""),
            change["detail"].as_str().unwrap_or("")
        )?;
    }
    Ok(())
}
