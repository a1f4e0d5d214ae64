//! `jwo load`: Amazon's Ordering Gateway at a fixed rate. Realistic carts from a price book,
//! sent open-loop (on schedule, whatever the answers take, so slow answers cannot hide), then
//! latency percentiles, throughput and errors; against the built-in simulator, proof that every
//! acknowledged cart was charged exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jwo_domain::pricing::{PriceBook, SoldBy};
use jwo_local::fixed_price_book::SAMPLE_PRICE_BOOK;
use jwo_local::latency::LatencySummary;
use serde_json::{Value, json};

use crate::purchases_endpoint::{AnswerLimits, PurchasesEndpoint, Signing};

#[derive(Debug, Args)]
pub struct Load {
    /// Base URL of the ordering connector; requests go to {URL}/v1/order/purchases.
    #[arg(long, value_name = "URL")]
    pub endpoint: String,
    /// Carts per second.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,
    /// Seconds to run.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3_600))]
    pub duration: u32,
    /// Lines per cart.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub lines: u32,
    /// The price book the carts are drawn from (the connector's); the built-in sample if not given.
    #[arg(long, value_name = "FILE")]
    pub pricebook: Option<PathBuf>,
    /// The store the carts are from; the price book's first store if not given.
    #[arg(long)]
    pub store: Option<String>,
    /// Sign every request with SigV4 (see `jwo connectivity-test --sign`).
    #[arg(long)]
    pub sign: bool,
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// A Checkout Service simulator in its own process (`jwo simulate checkout` without
    /// --purchases-table): every cart is told to it before the clock starts, as Amazon knows the
    /// carts its gateway sends, and the proof of exactly once reads its charges. Without it, the
    /// proof reads the connector's built-in simulator, if it has one.
    #[arg(long, value_name = "URL")]
    pub checkout_simulator: Option<String>,
    /// How long to wait, after the load, for checkout to charge every acknowledged cart.
    #[arg(long, default_value_t = 60)]
    pub settle_seconds: u64,
    #[command(flatten)]
    pub limits: AnswerLimits,
}

pub fn run(args: Load) -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    match runtime.block_on(load(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Carts drawn from a price book: lines of items the store can price, quantities that suit them.
struct CartMaker {
    store: String,
    items: Vec<(String, &'static str, String)>,
    run: String,
    lines: usize,
}

impl CartMaker {
    fn new(book: &PriceBook, store: Option<String>, lines: u32) -> Result<CartMaker, String> {
        let store = match store {
            Some(store) => store,
            None => book
                .tax_rates
                .keys()
                .min()
                .cloned()
                .ok_or("the price book has no store")?,
        };
        let rates = book
            .tax_rates
            .get(&store)
            .ok_or_else(|| format!("--store {store} is not in the price book"))?;
        let items: Vec<(String, &'static str, String)> = book
            .items
            .iter()
            .filter(|item| rates.contains_key(&item.tax_code))
            .map(|item| {
                let kind = match item.sold_by {
                    SoldBy::Unit => "count",
                    SoldBy::Weight => "weight",
                };
                (item.sku.clone(), kind, item.unit.clone())
            })
            .collect();
        if items.is_empty() {
            return Err(format!(
                "no item of the price book can be priced at store {store}"
            ));
        }
        Ok(CartMaker {
            store,
            items,
            run: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            lines: lines as usize,
        })
    }

    fn trip(&self, n: u64) -> String {
        format!("load-{}-{n}", self.run)
    }

    fn cart(&self, n: u64) -> Vec<u8> {
        let cart_items: Vec<Value> = (0..self.lines)
            .map(|line| {
                let (sku, kind, unit) = &self.items[fastrand::usize(..self.items.len())];
                let quantity = if *kind == "count" {
                    fastrand::u32(1..=3).to_string()
                } else {
                    format!("{}.{:02}", fastrand::u32(0..=2), fastrand::u32(5..=99))
                };
                json!({ "id": sku, "type": "SKU", "lineItemId": format!("line-{line}"),
                        "quantity": { "value": quantity, "unit": unit } })
            })
            .collect();
        json!({
            "requestId": uuid::Uuid::new_v4().to_string(),
            "idempotentShoppingTripId": self.trip(n),
            "storeId": self.store,
            "shoppingTrip": {
                "startTime": "2026-01-01T10:00:00Z", "endTime": "2026-01-01T10:07:00Z",
                "authEvents": [{ "id": uuid::Uuid::new_v4().to_string(), "payloadType": "FINANCIAL" }]
            },
            "cartItems": cart_items,
            "paymentSource": { "id": "load-test-payment-source" }
        })
        .to_string()
        .into_bytes()
    }
}

/// One cart's answer.
struct Sent {
    n: u64,
    latency: Duration,
    outcome: Result<u16, String>,
}

async fn load(args: Load) -> Result<bool, String> {
    let book_bytes = match &args.pricebook {
        Some(path) => std::fs::read(path)
            .map_err(|error| format!("--pricebook {}: {error}", path.display()))?,
        None => SAMPLE_PRICE_BOOK.as_bytes().to_vec(),
    };
    let book =
        PriceBook::from_json(&book_bytes).map_err(|error| format!("--pricebook: {error}"))?;
    let carts = CartMaker::new(&book, args.store.clone(), args.lines)?;
    let signing = if args.sign {
        Some(Signing::from_environment(&args.region).await?)
    } else {
        None
    };
    let endpoint =
        Arc::new(PurchasesEndpoint::new(&args.endpoint, signing)?.with_limits(args.limits));
    let total = u64::from(args.rate) * u64::from(args.duration);
    // Carts are made before the clock starts, so making them costs the schedule nothing.
    let bodies: Vec<Vec<u8>> = (0..total).map(|n| carts.cart(n)).collect();
    let simulator = match &args.checkout_simulator {
        Some(url) => {
            let simulator = PurchasesEndpoint::new(url, None)
                .map_err(|error| error.replace("--endpoint", "--checkout-simulator"))?;
            tell_carts(&simulator, &bodies).await?;
            Some(simulator)
        }
        None => None,
    };

    let progress = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} carts sent  {msg}",
        )
        .expect("a valid template"),
    );
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel::<Sent>();
    let start = Instant::now();
    let mut bodies = bodies.into_iter();
    let mut sent = 0u64;
    while sent < total {
        // Open loop: everything due by now goes out now, each timed from when it was due.
        // Cart n is due at n / rate seconds: cart 0 at once.
        let elapsed = start.elapsed().as_micros();
        let due = u64::try_from(elapsed * u128::from(args.rate) / 1_000_000 + 1)
            .unwrap_or(u64::MAX)
            .min(total);
        while sent < due {
            let n = sent;
            let due_at = start + Duration::from_micros(n * 1_000_000 / u64::from(args.rate));
            let body = bodies.next().expect("one body per cart");
            let endpoint = Arc::clone(&endpoint);
            let answers = answers.clone();
            tokio::spawn(async move {
                let outcome = endpoint.post(&body).await.map(|(status, _)| status);
                let _ = answers.send(Sent {
                    n,
                    latency: due_at.elapsed(),
                    outcome,
                });
            });
            sent += 1;
        }
        progress.set_position(sent);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    drop(answers);
    let mut latencies = Vec::with_capacity(total as usize);
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut acknowledged = BTreeSet::new();
    while let Some(answer) = answered.recv().await {
        match answer.outcome {
            Ok(201) => {
                latencies.push(answer.latency);
                acknowledged.insert(carts.trip(answer.n));
            }
            Ok(status) => *errors.entry(format!("HTTP {status}")).or_default() += 1,
            Err(error) => *errors.entry(error).or_default() += 1,
        }
    }
    let wall = start.elapsed();
    progress.finish_and_clear();

    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "load: {total} carts of {} lines at {}/s for {} s against {}",
        args.lines, args.rate, args.duration, args.endpoint
    );
    match LatencySummary::of(latencies, wall) {
        Some(summary) => {
            let _ = writeln!(out, "  201 answers: {summary} (throughput over {wall:.2?})");
        }
        None => {
            let _ = writeln!(out, "  no cart was acknowledged");
        }
    }
    let error_count: u64 = errors.values().sum();
    let _ = writeln!(out, "  errors: {error_count}");
    for (error, count) in &errors {
        let _ = writeln!(out, "    {count:>6}  {error}");
    }
    drop(out);
    let charges = simulator.as_ref().unwrap_or(&endpoint);
    let exactly_once =
        prove_exactly_once(charges, &carts, &acknowledged, args.settle_seconds).await;
    Ok(error_count == 0 && exactly_once != Some(false))
}

/// Tells the external simulator every cart, 16 at a time.
async fn tell_carts(simulator: &PurchasesEndpoint, bodies: &[Vec<u8>]) -> Result<(), String> {
    use futures_util::StreamExt;
    let told: Vec<Result<(u16, Vec<u8>), String>> = futures_util::stream::iter(bodies)
        .map(|body| simulator.call(http::Method::POST, "/_simulator/carts", body))
        .buffer_unordered(16)
        .collect()
        .await;
    for answer in told {
        match answer {
            Ok((204, _)) => {}
            Ok((status, body)) => {
                return Err(format!(
                    "--checkout-simulator: POST /_simulator/carts answered {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            Err(error) => return Err(format!("--checkout-simulator: {error}")),
        }
    }
    Ok(())
}

/// Against a connector with the built-in simulator: waits for checkout to catch up, then checks
/// that every acknowledged cart was charged exactly once. None when there is no simulator.
async fn prove_exactly_once(
    endpoint: &PurchasesEndpoint,
    carts: &CartMaker,
    acknowledged: &BTreeSet<String>,
    settle_seconds: u64,
) -> Option<bool> {
    let prefix = format!("{}/", carts.store);
    let charges_of_run = |stats: &Value| -> BTreeMap<String, u64> {
        stats["charges"]
            .as_object()
            .map(|charges| {
                charges
                    .iter()
                    .filter_map(|(key, count)| {
                        let trip = key.strip_prefix(&prefix)?;
                        acknowledged
                            .contains(trip)
                            .then(|| (trip.to_owned(), count.as_u64().unwrap_or(0)))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let settle = Instant::now() + Duration::from_secs(settle_seconds);
    let mut stats = endpoint.get_json("/_simulator/stats").await?;
    while charges_of_run(&stats).len() < acknowledged.len() && Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(250)).await;
        stats = endpoint.get_json("/_simulator/stats").await?;
    }
    let charges = charges_of_run(&stats);
    let once = charges.values().filter(|count| **count == 1).count();
    let more = charges.values().filter(|count| **count > 1).count();
    let missing = acknowledged.len() - charges.len();
    let ok = once == acknowledged.len();
    let verdict = if ok {
        "exactly once".to_owned()
    } else if more > 0 {
        "NOT exactly once".to_owned()
    } else {
        format!("not all charged within {settle_seconds} s: checkout is behind (--settle-seconds)")
    };
    let _ = writeln!(
        std::io::stdout(),
        "  checkout (simulator): {once} of {} acknowledged carts charged exactly once, {more} charged more than once, {missing} not charged; {} repeat submissions answered as duplicates in all — {verdict}",
        acknowledged.len(),
        stats["duplicates"],
    );
    Some(ok)
}
