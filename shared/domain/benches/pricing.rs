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

mod fixtures;
use fixtures::{cart, price_book};

// The allocator the functions and `jwo` use, so the figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
