//! `jwo price --jsonl` without the process: 10,000 carts of 20 lines drawn from the sample price
//! book (the same every run), priced by `price_lines` into a sink. Criterion's throughput is
//! carts per second. It also writes the carts to `target/price-batch-carts.jsonl`, for timing
//! the command itself (BENCHMARKS.md).
//!
//! cargo bench -p jwo --bench price_batch

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jwo::commands::price::price_lines;
use jwo_domain::pricing::{PriceBook, SoldBy};
use jwo_local::fixed_price_book::SAMPLE_PRICE_BOOK;
use serde_json::json;

// The allocator the functions and `jwo` use, so the figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CARTS: usize = 10_000;
const LINES: usize = 20;

/// JSON lines of `CARTS` carts of `LINES` lines of items STORE-001 prices.
fn carts(book: &PriceBook) -> Vec<u8> {
    let rates = &book.tax_rates["STORE-001"];
    let items: Vec<_> = book
        .items
        .iter()
        .filter(|item| rates.contains_key(&item.tax_code))
        .collect();
    let mut random = fastrand::Rng::with_seed(18);
    let mut out = Vec::new();
    for cart in 0..CARTS {
        let lines: Vec<_> = (0..LINES)
            .map(|line| {
                let item = items[random.usize(..items.len())];
                let value = match item.sold_by {
                    SoldBy::Unit => random.u32(1..=3).to_string(),
                    SoldBy::Weight => format!("{}.{:02}", random.u32(0..=2), random.u32(5..=99)),
                };
                json!({ "id": item.sku, "type": "SKU", "lineItemId": format!("line-{line}"),
                        "quantity": { "value": value, "unit": item.unit } })
            })
            .collect();
        let body = json!({
            "requestId": format!("a1b2c3d4-e5f6-7890-abcd-{cart:012}"),
            "idempotentShoppingTripId": format!("batch-{cart}"),
            "storeId": "STORE-001",
            "shoppingTrip": { "startTime": "2026-01-01T10:00:00Z", "endTime": "2026-01-01T10:07:00Z",
                "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL" }] },
            "cartItems": lines,
        });
        serde_json::to_writer(&mut out, &body).unwrap();
        out.push(b'\n');
    }
    out
}

fn price_batch(c: &mut Criterion) {
    let book = PriceBook::from_json(SAMPLE_PRICE_BOOK.as_bytes()).unwrap();
    let input = carts(&book);
    let target =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/price-batch-carts.jsonl");
    std::fs::write(&target, &input).unwrap();
    // Every cart prices: a batch that refused them would measure the wrong thing.
    let tally = price_lines(&book, None, false, &input[..], std::io::sink()).unwrap();
    assert_eq!(tally.priced, CARTS as u64, "{tally}");

    let mut group = c.benchmark_group("price_batch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CARTS as u64));
    group.bench_function("10000_carts_of_20_lines", |b| {
        b.iter(|| price_lines(&book, None, false, &input[..], std::io::sink()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, price_batch);
criterion_main!(benches);
