//! Both directions of the pricing path's JSON, with serde_json (what the connector uses),
//! sonic-rs and simd-json, through the same serde derives:
//! - in: the typed parse of a 100-line Create Purchases body;
//! - out: the Checkout Service body of that cart, priced.
//!
//! Every crate must read the same request and write the same bytes, or the bench stops.
//!
//! cargo bench --manifest-path shared/domain/json-crates/Cargo.toml

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::contract::create_purchases::CreatePurchasesRequest;
use jwo_domain::pricing::{PricingOutcome, price_cart};

#[path = "../../benches/fixtures/mod.rs"]
mod fixtures;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn parse(c: &mut Criterion) {
    let body = fixtures::cart(100);
    let text = std::str::from_utf8(&body).expect("UTF-8");
    let expected: CreatePurchasesRequest = serde_json::from_str(text).expect("serde_json");
    let sonic: CreatePurchasesRequest = sonic_rs::from_str(text).expect("sonic-rs");
    let simd: CreatePurchasesRequest =
        simd_json::serde::from_slice(&mut body.clone()).expect("simd-json");
    assert_eq!(sonic, expected);
    assert_eq!(simd, expected);

    let mut group = c.benchmark_group("parse_100_lines");
    group.bench_function("serde_json_from_str", |b| {
        b.iter(|| {
            // The UTF-8 check is part of it: the body arrives as bytes.
            let text = std::str::from_utf8(black_box(&body)).unwrap();
            serde_json::from_str::<CreatePurchasesRequest>(text).unwrap()
        })
    });
    group.bench_function("serde_json_from_slice", |b| {
        b.iter(|| serde_json::from_slice::<CreatePurchasesRequest>(black_box(&body)).unwrap())
    });
    group.bench_function("sonic_rs_from_slice", |b| {
        b.iter(|| sonic_rs::from_slice::<CreatePurchasesRequest>(black_box(&body)).unwrap())
    });
    group.bench_function("simd_json_from_slice", |b| {
        // simd-json parses in place: the copy is part of its cost.
        b.iter(|| {
            simd_json::serde::from_slice::<CreatePurchasesRequest>(&mut black_box(&body).clone())
                .unwrap()
        })
    });
    group.finish();
}

fn serialize(c: &mut Criterion) {
    let book = fixtures::price_book();
    let body = fixtures::cart(100);
    let request: CreatePurchasesRequest = serde_json::from_slice(&body).expect("cart");
    let PricingOutcome::Priced(checkout) = price_cart(&book, &request, AmountBasis::Line) else {
        panic!("priced")
    };
    let expected = checkout.to_json_bytes();
    assert_eq!(sonic_rs::to_vec(&checkout).expect("sonic-rs"), expected);
    assert_eq!(
        simd_json::serde::to_vec(&checkout).expect("simd-json"),
        expected
    );

    let mut group = c.benchmark_group("serialize_100_lines");
    group.bench_function("serde_json_to_writer", |b| {
        b.iter(|| black_box(&checkout).to_json_bytes())
    });
    group.bench_function("sonic_rs_to_vec", |b| {
        b.iter(|| sonic_rs::to_vec(black_box(&checkout)).unwrap())
    });
    group.bench_function("simd_json_to_vec", |b| {
        b.iter(|| simd_json::serde::to_vec(black_box(&checkout)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, parse, serialize);
criterion_main!(benches);
