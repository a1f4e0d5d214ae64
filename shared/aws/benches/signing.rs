//! SigV4 signing of a Checkout Service request alone (a 20-line cart's body), and its
//! verification as the simulator does it.
//!
//! cargo bench -p jwo-aws --bench signing

use std::hint::black_box;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use jwo_aws::amazon::sigv4::{sign_request, verify_request};

// The allocator the functions and `jwo` use, so the figures are theirs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn signing(c: &mut Criterion) {
    let credentials = Credentials::new("AKIDBENCH", "bench-secret", None, None, "bench");
    let body = vec![b'x'; 10 * 1024];
    let mut headers = HeaderMap::new();
    headers.insert(
        "host",
        "us-east-1.test.checkout.amazonphysicalstores.com"
            .parse()
            .unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    c.bench_function("sign_checkout_request_10KiB", |b| {
        b.iter(|| {
            sign_request(
                "POST",
                "/v1/checkout/carts",
                black_box(&headers),
                black_box(&body),
                &credentials,
                "us-east-1",
                SystemTime::now(),
            )
            .unwrap()
        })
    });
    let mut signed = headers.clone();
    for (name, value) in sign_request(
        "POST",
        "/v1/checkout/carts",
        &headers,
        &body,
        &credentials,
        "us-east-1",
        SystemTime::now(),
    )
    .unwrap()
    {
        signed.insert(name, value.parse().unwrap());
    }
    c.bench_function("verify_checkout_request_10KiB", |b| {
        b.iter(|| {
            verify_request(
                "POST",
                "/v1/checkout/carts",
                black_box(&signed),
                black_box(&body),
                |_| Some(credentials.clone()),
                "us-east-1",
                SystemTime::now(),
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, signing);
criterion_main!(benches);
