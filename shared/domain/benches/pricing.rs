//! parse → validate → price → serialize, on carts of 1, 20, 100 and 1,000 lines, against a
//! price book of 1,000 items with every promotion type; then the stages of a 100-line cart on
//! their own.
//!
//! cargo bench -p jwo-domain --bench pricing
//!
//! Instruction counts: `<bench binary> --carts <line|unit> <lines> <count>` prices `count` carts
//! and nothing else, for callgrind (see BENCHMARKS.md); the difference between two counts,
//! divided, is one cart's instructions without the setup.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::pricing::{PriceBook, PricingOutcome, price_cart};
use jwo_domain::validation::validate_create_purchases;
use serde_json::json;

// The allocator the functions and `jwo` use, so the figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ITEMS: usize = 1_000;

fn price_book() -> PriceBook {
    let items: Vec<_> = (0..ITEMS)
        .map(|i| {
            let weight = i % 10 == 9;
            let tax_code = ["STD", "FOOD", "ALC"][i % 3];
            json!({
                "sku": format!("SKU-{i:04}"), "name": format!("Item {i}"),
                "price": format!("{}.{:02}", 1 + i % 20, (i * 37) % 100),
                "taxCode": tax_code,
                "soldBy": if weight { "weight" } else { "unit" },
                "fees": if i % 7 == 0 { json!([{ "description": "Deposit", "amount": "0.05", "taxable": i % 2 == 0 }]) } else { json!([]) },
            })
        })
        .collect();
    let skus = |from: usize, step: usize| -> Vec<String> {
        (from..ITEMS)
            .step_by(step)
            .map(|i| format!("SKU-{i:04}"))
            .collect()
    };
    let book = json!({
        "currency": "USD",
        "stores": { "STORE-001": { "taxRates": { "STD": "0.0825", "FOOD": "0", "ALC": "0.1025" } } },
        "items": items,
        "promotions": [
            { "id": "P1", "description": "10% off", "type": "percentOff", "percent": "10", "skus": skus(0, 5) },
            { "id": "P2", "description": "50c off", "type": "amountOff", "amount": "0.50", "skus": skus(1, 5) },
            { "id": "P3", "description": "Buy 2 get 1", "type": "buyXGetY", "buy": 2, "get": 1, "skus": skus(2, 5) },
            { "id": "P4", "description": "3 for $5", "type": "multiBuy", "quantity": 3, "price": "5.00", "skus": skus(3, 5) },
            { "id": "P5", "description": "$5 off $50", "type": "threshold", "minSubtotal": "50.00", "amount": "5.00" }
        ]
    });
    PriceBook::from_json(book.to_string().as_bytes()).expect("benchmark price book")
}

fn cart(lines: usize) -> Vec<u8> {
    let cart_items: Vec<_> = (0..lines)
        .map(|line| {
            let i = (line * 7919) % ITEMS;
            let quantity = if i % 10 == 9 { json!({ "value": "1.37", "unit": "lb" }) } else { json!({ "value": format!("{}", 1 + line % 4), "unit": "each" }) };
            json!({ "id": format!("SKU-{i:04}"), "type": "SKU", "quantity": quantity, "lineItemId": format!("line-{line}") })
        })
        .collect();
    json!({
        "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "idempotentShoppingTripId": "11111111-2222-3333-4444-555555555555",
        "storeId": "STORE-001",
        "shoppingTrip": {
            "startTime": "2024-03-22T17:00:00Z", "endTime": "2024-03-22T17:09:39Z",
            "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "timestamp": "2024-03-22T17:00:00Z", "location": "ENTRY", "payloadType": "FINANCIAL" }]
        },
        "cartItems": cart_items,
        "paymentSource": { "id": "payment-source" }
    })
    .to_string()
    .into_bytes()
}

/// What the Create Purchases handler does with a body, minus storage.
fn price_body(book: &PriceBook, body: &[u8], basis: AmountBasis) -> Vec<u8> {
    let request = validate_create_purchases(body).expect("valid");
    match price_cart(book, &request, basis) {
        PricingOutcome::Priced(checkout) => checkout.to_json_bytes(),
        other => panic!("{other:?}"),
    }
}

fn pricing(c: &mut Criterion) {
    let book = price_book();
    for basis in [AmountBasis::Line, AmountBasis::Unit] {
        let mut group = c.benchmark_group(format!("price_cart/{basis}"));
        for lines in [1usize, 20, 100, 1_000] {
            let body = cart(lines);
            group.throughput(Throughput::Elements(lines as u64));
            group.bench_with_input(BenchmarkId::from_parameter(lines), &body, |b, body| {
                b.iter(|| price_body(&book, black_box(body), basis))
            });
        }
        group.finish();
    }
}

fn stages(c: &mut Criterion) {
    let book = price_book();
    let body = cart(100);
    let request = validate_create_purchases(&body).expect("valid");
    let PricingOutcome::Priced(checkout) = price_cart(&book, &request, AmountBasis::Line) else {
        panic!("priced")
    };
    let mut group = c.benchmark_group("stages_100_lines");
    group.bench_function("validate", |b| {
        b.iter(|| validate_create_purchases(black_box(&body)))
    });
    group.bench_function("price_line", |b| {
        b.iter(|| price_cart(&book, black_box(&request), AmountBasis::Line))
    });
    group.bench_function("price_unit", |b| {
        b.iter(|| price_cart(&book, black_box(&request), AmountBasis::Unit))
    });
    group.bench_function("serialize", |b| {
        b.iter(|| black_box(&checkout).to_json_bytes())
    });
    group.finish();
}

/// `--carts <basis> <lines> <count>`: prices `count` carts of `lines` lines, then exits.
fn price_carts(args: &[String]) {
    let [basis, lines, count] = args else {
        panic!("--carts <line|unit> <lines> <count>")
    };
    let basis: AmountBasis = basis.parse().expect("basis");
    let book = price_book();
    let body = cart(lines.parse().expect("lines"));
    for _ in 0..count.parse::<usize>().expect("count") {
        black_box(price_body(&book, black_box(&body), basis));
    }
}

criterion_group!(benches, pricing, stages);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|arg| arg == "--carts") {
        Some(at) => price_carts(&args[at + 1..]),
        None => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
