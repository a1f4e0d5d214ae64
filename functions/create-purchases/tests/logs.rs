//! What the Create Purchases function logs: never payment, shopper or device identifiers.
//!
//! Its own test binary: the capturing subscriber is the process-wide default, so no other test
//! running in parallel can race it for tracing's callsite registration.

use std::sync::Arc;

use create_purchases::lambda::handle_event;
use create_purchases::{Config, CreatePurchases};
use jwo_local::embedded::EmbeddedPurchaseStore;
use jwo_local::fixed_price_book::FixedPriceBook;
use jwo_local::log_alerts::LocalAlerts;
use jwo_test_support::{fixtures, unique_name};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_http::request::LambdaRequest;
use serde_json::{Value, json};

fn purchase_event(body: &[u8]) -> lambda_http::Request {
    let mut event: Value =
        serde_json::from_slice(&std::fs::read(fixtures("apigw/rest_request.json")).unwrap())
            .unwrap();
    event["path"] = json!("/v1/order/purchases");
    event["headers"] = json!({ "Content-Type": "application/json" });
    event["multiValueHeaders"] = json!({ "Content-Type": ["application/json"] });
    event["body"] = json!(String::from_utf8_lossy(body));
    let request: ApiGatewayProxyRequest = serde_json::from_value(event).unwrap();
    LambdaRequest::ApiGatewayV1(request).into()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures("create_purchases").join(name)).unwrap()
}

/// Collects everything logged, at every level, while it is the thread's default subscriber.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_carry_payment_shopper_or_device_ids() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .json()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedPurchaseStore::open(&dir.path().join("purchases.redb")).unwrap();
    let service = CreatePurchases::new(
        store,
        LocalAlerts::new(100),
        FixedPriceBook::sample(),
        Config::default(),
    );
    let mut secrets = Vec::new();
    for name in [
        "1.01_single_item_sku_unit.json",
        "1.12_loyalty_shopper_trip.json",
        "3.16_invalid_auth_event_payload_type.json",
    ] {
        let body: Value = serde_json::from_slice(&fixture(name)).unwrap();
        for pointer in [
            "/paymentSource/id",
            "/shopperIdentity/id",
            "/shopperDeviceId",
            "/shoppingTrip/authEvents/0/scanResult/id",
        ] {
            if let Some(secret) = body.pointer(pointer).and_then(Value::as_str) {
                secrets.push(secret.to_owned());
            }
        }
        handle_event(&service, purchase_event(&fixture(name)))
            .await
            .unwrap();
        // A blocked purchase logs (and alerts) too.
        let mut blocked = body.clone();
        blocked["idempotentShoppingTripId"] = json!(unique_name("blocked"));
        blocked["cartItems"][0]["id"] = json!("SKU-UNKNOWN");
        handle_event(&service, purchase_event(blocked.to_string().as_bytes()))
            .await
            .unwrap();
    }
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("purchase stored"),
        "the capture works: {logged}"
    );
    assert!(!secrets.is_empty());
    for secret in secrets {
        assert!(!logged.contains(&secret), "'{secret}' was logged");
    }
    for alert in service.alerts.recent() {
        let text = serde_json::to_string(&alert).unwrap();
        assert!(
            !text.contains("payment-source") && !text.contains("shopper-0"),
            "{text}"
        );
    }
}
