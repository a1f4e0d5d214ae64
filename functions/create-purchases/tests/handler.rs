//! The Create Purchases function as API Gateway (REST, IAM authorization) invokes it: every one
//! of Amazon's test cases, idempotency, the HTTP edges, alerts and store faults.
//!
//! Events start from `aws_lambda_events`' own example REST request
//! (`tests/fixtures/apigw/rest_request.json`), given the path, headers, body and caller of
//! each case, and go through `lambda_http`'s conversion, as in the deployed function.

use std::collections::BTreeSet;
use std::sync::Arc;

use create_purchases::lambda::handle_event;
use create_purchases::{AllowedCallers, Config, CreatePurchases};
use jwo_aws::dynamodb::purchases;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_aws::sns::alerts::SnsAlerts;
use jwo_domain::alerts::AlertKind;
use jwo_domain::ports::{Alerts, CurrentPriceBook, PurchaseStore};
use jwo_domain::purchase::{PurchaseState, purchase_id};
use jwo_local::embedded::EmbeddedPurchaseStore;
use jwo_local::fixed_price_book::FixedPriceBook;
use jwo_local::log_alerts::LocalAlerts;
use jwo_test_support::{create_purchases_cases, fixtures, moto_endpoint, unique_name};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_http::request::LambdaRequest;
use serde_json::{Value, json};

const ORDERING_GATEWAY_ROLE: &str = "arn:aws:iam::111122223333:role/OrderingGateway";
const ORDERING_GATEWAY_SESSION: &str =
    "arn:aws:sts::111122223333:assumed-role/OrderingGateway/jwo-session";

/// An API Gateway REST proxy event for `POST /v1/order/purchases` on stage `Prod`.
fn event(
    method: &str,
    path: &str,
    content_type: Option<&str>,
    caller: Option<&str>,
    body: &[u8],
) -> lambda_http::Request {
    let mut event: Value =
        serde_json::from_slice(&std::fs::read(fixtures("apigw/rest_request.json")).unwrap())
            .unwrap();
    event["resource"] = json!("/v1/order/purchases");
    event["path"] = json!(path);
    event["httpMethod"] = json!(method);
    event["requestContext"]["path"] = json!(format!("/Prod{path}"));
    event["requestContext"]["stage"] = json!("Prod");
    event["requestContext"]["resourcePath"] = json!("/v1/order/purchases");
    event["requestContext"]["httpMethod"] = json!(method);
    event["requestContext"]["identity"]["userArn"] = json!(caller);
    event["requestContext"]["identity"]["caller"] = json!(caller);
    let mut headers = json!({ "Host": "gy415nuibc.execute-api.us-east-1.amazonaws.com" });
    if let Some(content_type) = content_type {
        headers["Content-Type"] = json!(content_type);
    }
    event["multiValueHeaders"] = json!(
        headers
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect::<serde_json::Map<_, _>>()
    );
    event["headers"] = headers;
    event["body"] = json!(String::from_utf8_lossy(body));
    event["isBase64Encoded"] = json!(false);
    let request: ApiGatewayProxyRequest = serde_json::from_value(event).unwrap();
    LambdaRequest::ApiGatewayV1(request).into()
}

fn purchase_event(body: &[u8]) -> lambda_http::Request {
    event(
        "POST",
        "/v1/order/purchases",
        Some("application/json"),
        Some(ORDERING_GATEWAY_SESSION),
        body,
    )
}

struct Answer {
    status: u16,
    body: Value,
    allow: Option<String>,
}

async fn send<S: PurchaseStore, A: Alerts, B: CurrentPriceBook>(
    service: &CreatePurchases<S, A, B>,
    request: lambda_http::Request,
) -> Answer {
    let response = handle_event(service, request).await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    Answer {
        status: response.status().as_u16(),
        body: serde_json::from_slice(response.body().as_ref()).unwrap(),
        allow: response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned()),
    }
}

fn local_service(
    config: Config,
) -> (
    tempfile::TempDir,
    CreatePurchases<EmbeddedPurchaseStore, LocalAlerts, FixedPriceBook>,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedPurchaseStore::open(&dir.path().join("purchases.redb")).unwrap();
    (
        dir,
        CreatePurchases::new(
            store,
            LocalAlerts::new(100),
            FixedPriceBook::sample(),
            config,
        ),
    )
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures("create_purchases").join(name)).unwrap()
}

/// What the store holds for the trip a body names.
async fn stored(store: &impl PurchaseStore, body: &[u8]) -> Option<jwo_domain::purchase::Purchase> {
    let (store_id, trip_id) = trip_of(body)?;
    store.get(&purchase_id(&store_id, &trip_id)).await.unwrap()
}

/// The (store id, trip id) a body names, when it names both as strings.
fn trip_of(body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    Some((
        value["storeId"].as_str()?.to_owned(),
        value["idempotentShoppingTripId"].as_str()?.to_owned(),
    ))
}

#[tokio::test]
async fn every_published_case_answers_as_amazon_expects() {
    let (_dir, service) = local_service(Config::default());
    for (case, body) in create_purchases_cases()
        .into_iter()
        .filter(|(case, _)| !case.file.starts_with("2."))
    {
        let answer = send(&service, purchase_event(&body)).await;
        assert_eq!(answer.status, case.status, "{}: {}", case.file, answer.body);
        match case.status {
            201 => {
                let id = answer.body["purchaseId"].as_str().unwrap();
                let (store_id, trip_id) = trip_of(&body).unwrap();
                let stored = service
                    .store
                    .get(&purchase_id(&store_id, &trip_id))
                    .await
                    .unwrap()
                    .unwrap();
                if case.file.starts_with("1.07") {
                    assert_eq!(id, "", "an empty cart answers an empty purchaseId");
                    assert_eq!(stored.state, PurchaseState::Canceled);
                } else {
                    assert_eq!(id, stored.purchase_id, "{}", case.file);
                    assert!(stored.is_ready_for_checkout(), "{}", case.file);
                    assert!(answer.body["orderTotals"]["priceTotal"]["amount"].is_string());
                }
            }
            _ => {
                let named: BTreeSet<&str> = answer.body["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["field"].as_str().unwrap())
                    .collect();
                let expected: BTreeSet<&str> = case.fields.iter().map(String::as_str).collect();
                assert_eq!(named, expected, "{}", case.file);
                assert!(
                    answer.body["message"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty())
                );
                // A refused request stores nothing.
                if let Some((store_id, trip_id)) = trip_of(&body) {
                    assert_eq!(
                        service
                            .store
                            .get(&purchase_id(&store_id, &trip_id))
                            .await
                            .unwrap(),
                        None,
                        "{}",
                        case.file
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn a_replay_answers_the_same_purchase_and_a_changed_cart_is_a_conflict() {
    let (_dir, service) = local_service(Config::default());
    let first = send(
        &service,
        purchase_event(&fixture("2.1_replay_first_call.json")),
    )
    .await;
    assert_eq!(first.status, 201);
    let again = send(
        &service,
        purchase_event(&fixture("2.1_replay_first_call.json")),
    )
    .await;
    assert_eq!(
        (again.status, &again.body["purchaseId"]),
        (201, &first.body["purchaseId"])
    );

    let (store_id, trip_id) = trip_of(&fixture("2.1_replay_first_call.json")).unwrap();
    let before = service
        .store
        .get(&purchase_id(&store_id, &trip_id))
        .await
        .unwrap()
        .unwrap();
    let changed = send(
        &service,
        purchase_event(&fixture("2.2_replay_with_changed_cart.json")),
    )
    .await;
    assert_eq!(changed.status, 409, "{}", changed.body);
    assert!(
        changed.body["message"]
            .as_str()
            .unwrap()
            .contains("different cart")
    );
    let after = service
        .store
        .get(&purchase_id(&store_id, &trip_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before, after, "a conflicting replay changes nothing");
}

/// Sends `body` 50 times at once; every answer must be 201. Returns the distinct purchase ids.
async fn fifty_at_once<S: PurchaseStore, A: Alerts, B: CurrentPriceBook>(
    service: Arc<CreatePurchases<S, A, B>>,
    body: Vec<u8>,
) -> BTreeSet<String> {
    let answers: Vec<_> = (0..50)
        .map(|_| {
            let service = Arc::clone(&service);
            let body = body.clone();
            tokio::spawn(async move { send(&service, purchase_event(&body)).await })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for answer in answers {
        let answer = answer.await.unwrap();
        assert_eq!(answer.status, 201, "{}", answer.body);
        ids.insert(answer.body["purchaseId"].as_str().unwrap().to_owned());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_identical_requests_make_one_purchase() {
    let (_dir, service) = local_service(Config::default());
    let service = Arc::new(service);
    let ids = fifty_at_once(
        Arc::clone(&service),
        fixture("1.13_group_trip_multiple_auth_events.json"),
    )
    .await;
    assert_eq!(ids.len(), 1);
    assert_eq!(service.store.all_open().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_unknown_sku_is_stored_held_back_and_alerted_once() {
    let (_dir, service) = local_service(Config::default());
    let mut body: Value = serde_json::from_slice(&fixture("1.02_multi_item_cart.json")).unwrap();
    body["cartItems"][1]["id"] = json!("SKU-NOT-IN-BOOK");
    let body = body.to_string().into_bytes();
    let answer = send(&service, purchase_event(&body)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.body["purchaseId"].as_str().unwrap();
    assert!(
        answer.body.get("orderTotals").is_none(),
        "no totals for an unpriced cart"
    );
    let stored = service.store.get(id).await.unwrap().unwrap();
    assert_eq!(stored.state, PurchaseState::Open);
    assert!(!stored.is_ready_for_checkout());
    assert_eq!(stored.constraints[0].field, "cartItems[1].id");
    assert!(stored.was_alerted(AlertKind::PurchaseBlocked));
    let alerts = service.alerts.recent();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].detail.contains("SKU-NOT-IN-BOOK"));
    // A replay answers the same and does not alert again.
    let replay = send(&service, purchase_event(&body)).await;
    assert_eq!(
        (replay.status, replay.body["purchaseId"].as_str()),
        (201, Some(id))
    );
    assert_eq!(service.alerts.recent().len(), 1);
}

#[tokio::test]
async fn with_no_price_book_carts_are_stored_unpriced_and_the_cause_alerted_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedPurchaseStore::open(&dir.path().join("purchases.redb")).unwrap();
    // The real price book source over a catalog nothing was ever imported into.
    let catalog = jwo_local::catalog_files::LocalCatalog::open(dir.path().join("catalog")).unwrap();
    let price_books = jwo_domain::catalog::price_book_versions::CachedPriceBook::new(
        catalog,
        std::time::Duration::from_secs(30),
    );
    let service = CreatePurchases::new(store, LocalAlerts::new(10), price_books, Config::default());
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut body: Value =
            serde_json::from_slice(&fixture("1.02_multi_item_cart.json")).unwrap();
        body["idempotentShoppingTripId"] = json!(format!("no-book-{n}"));
        let body = body.to_string().into_bytes();
        let answer = send(&service, purchase_event(&body)).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert!(answer.body.get("orderTotals").is_none());
        let stored = stored(&service.store, &body).await.unwrap();
        assert_eq!(stored.state, PurchaseState::Open);
        assert!(stored.awaits_price_book(), "{:?}", stored.constraints);
        assert_eq!(stored.price_book_version, None);
        // A replay is answered the same and alerts nothing more.
        assert_eq!(
            send(&service, purchase_event(&body)).await.body,
            answer.body
        );
        ids.push(stored.purchase_id);
    }
    // An empty cart needs no price book: answered "" and closed at once, as always.
    let mut empty: Value = serde_json::from_slice(&fixture("1.02_multi_item_cart.json")).unwrap();
    empty["idempotentShoppingTripId"] = json!("no-book-empty");
    empty["cartItems"] = json!([]);
    let empty = empty.to_string().into_bytes();
    let answer = send(&service, purchase_event(&empty)).await;
    assert_eq!(
        (answer.status, &answer.body["purchaseId"]),
        (201, &json!(""))
    );
    assert_eq!(
        stored(&service.store, &empty).await.unwrap().state,
        PurchaseState::Canceled
    );
    let alerts = service.alerts.recent();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::NoPriceBook);
    assert!(
        alerts[0].detail.contains("jwo catalog import"),
        "{}",
        alerts[0].detail
    );
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 5);
}

#[tokio::test]
async fn http_edges_get_clear_4xx_answers() {
    let (_dir, service) = local_service(Config::default());
    let body = fixture("1.01_single_item_sku_unit.json");

    let wrong_method = send(
        &service,
        event(
            "GET",
            "/v1/order/purchases",
            Some("application/json"),
            Some(ORDERING_GATEWAY_SESSION),
            b"",
        ),
    )
    .await;
    assert_eq!(
        (wrong_method.status, wrong_method.allow.as_deref()),
        (405, Some("POST"))
    );

    let wrong_path = send(
        &service,
        event(
            "POST",
            "/v1/order/purchase",
            Some("application/json"),
            Some(ORDERING_GATEWAY_SESSION),
            &body,
        ),
    )
    .await;
    assert_eq!(wrong_path.status, 404);
    assert!(
        wrong_path.body["message"]
            .as_str()
            .unwrap()
            .contains("/v1/order/purchases")
    );

    for content_type in [Some("text/plain"), Some("application/xml"), None] {
        let answer = send(
            &service,
            event(
                "POST",
                "/v1/order/purchases",
                content_type,
                Some(ORDERING_GATEWAY_SESSION),
                &body,
            ),
        )
        .await;
        assert_eq!(answer.status, 415, "{content_type:?}");
    }
    let with_charset = send(
        &service,
        event(
            "POST",
            "/v1/order/purchases",
            Some("application/json; charset=utf-8"),
            Some(ORDERING_GATEWAY_SESSION),
            &body,
        ),
    )
    .await;
    assert_eq!(with_charset.status, 201);

    let mut huge: Value = serde_json::from_slice(&body).unwrap();
    huge["idempotentShoppingTripId"] = json!(unique_name("huge"));
    huge["padding"] = json!("x".repeat(create_purchases::MAX_BODY_BYTES));
    let huge = huge.to_string().into_bytes();
    let too_large = send(&service, purchase_event(&huge)).await;
    assert_eq!(too_large.status, 413);
    assert_eq!(stored(&service.store, &huge).await, None);
}

#[tokio::test]
async fn only_the_allowed_callers_get_through() {
    let config = Config {
        allowed_callers: AllowedCallers::parse(ORDERING_GATEWAY_ROLE).unwrap(),
        ..Config::default()
    };
    let (_dir, service) = local_service(config);
    let body = fixture("1.01_single_item_sku_unit.json");
    for caller in [
        None,
        Some("arn:aws:sts::999999999999:assumed-role/OrderingGateway/s"),
        Some("arn:aws:iam::111122223333:user/someone"),
    ] {
        let answer = send(
            &service,
            event(
                "POST",
                "/v1/order/purchases",
                Some("application/json"),
                caller,
                &body,
            ),
        )
        .await;
        assert_eq!(answer.status, 403, "{caller:?}");
    }
    assert_eq!(stored(&service.store, &body).await, None);
    assert_eq!(send(&service, purchase_event(&body)).await.status, 201);
}

async fn dynamodb_store() -> DynamoDbPurchaseStore {
    let config = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("purchases");
    purchases::create_table(&client, &table).await.unwrap();
    DynamoDbPurchaseStore::new(client, table)
}

#[tokio::test]
async fn on_dynamodb_a_failed_alert_is_a_503_and_the_replay_sends_it() {
    let store = dynamodb_store().await;
    let config = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let broken_alerts = SnsAlerts::new(
        aws_sdk_sns::Client::new(&config),
        "arn:aws:sns:us-east-1:123456789012:no-such-topic",
    );
    let failing = CreatePurchases::new(
        store.clone(),
        broken_alerts,
        FixedPriceBook::sample(),
        Config::default(),
    );
    let mut body: Value =
        serde_json::from_slice(&fixture("1.01_single_item_sku_unit.json")).unwrap();
    body["idempotentShoppingTripId"] = json!(unique_name("trip"));
    body["cartItems"][0]["id"] = json!("SKU-UNKNOWN");
    let body = body.to_string().into_bytes();
    let answer = send(&failing, purchase_event(&body)).await;
    assert_eq!(answer.status, 503, "{}", answer.body);

    // The purchase is stored (Amazon's retry finds it), not yet marked alerted.
    let (store_id, trip_id) = trip_of(&body).unwrap();
    let stored = store
        .get(&purchase_id(&store_id, &trip_id))
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.was_alerted(AlertKind::PurchaseBlocked));

    let working = CreatePurchases::new(
        store.clone(),
        LocalAlerts::new(10),
        FixedPriceBook::sample(),
        Config::default(),
    );
    let retry = send(&working, purchase_event(&body)).await;
    assert_eq!(
        (retry.status, retry.body["purchaseId"].as_str()),
        (201, Some(stored.purchase_id.as_str()))
    );
    assert_eq!(working.alerts.recent().len(), 1);
    assert!(
        store
            .get(&stored.purchase_id)
            .await
            .unwrap()
            .unwrap()
            .was_alerted(AlertKind::PurchaseBlocked)
    );
}

#[tokio::test]
async fn on_dynamodb_a_store_fault_is_a_5xx_and_nothing_is_written() {
    let store = dynamodb_store().await;
    let config = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let missing_table = CreatePurchases::new(
        DynamoDbPurchaseStore::new(client, unique_name("never-created")),
        LocalAlerts::new(10),
        FixedPriceBook::sample(),
        Config::default(),
    );
    let body = fixture("1.02_multi_item_cart.json");
    let answer = send(&missing_table, purchase_event(&body)).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(
        answer.body["message"]
            .as_str()
            .unwrap()
            .contains("unavailable")
    );

    // The same request against a working table then succeeds, once.
    let working = CreatePurchases::new(
        store,
        LocalAlerts::new(10),
        FixedPriceBook::sample(),
        Config::default(),
    );
    assert_eq!(stored(&working.store, &body).await, None);
    assert_eq!(send(&working, purchase_event(&body)).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_dynamodb_fifty_concurrent_identical_requests_make_one_purchase() {
    let service = Arc::new(CreatePurchases::new(
        dynamodb_store().await,
        LocalAlerts::new(10),
        FixedPriceBook::sample(),
        Config::default(),
    ));
    let mut body: Value = serde_json::from_slice(&fixture("1.02_multi_item_cart.json")).unwrap();
    body["idempotentShoppingTripId"] = json!(unique_name("trip"));
    let ids = fifty_at_once(Arc::clone(&service), body.to_string().into_bytes()).await;
    assert_eq!(ids.len(), 1);
    assert_eq!(service.store.all_open().await.unwrap().len(), 1);
}

/// The largest body the 1 MB limit admits, made as hard to store as it can be: every line a
/// priced SKU, with identifiers of the longest length, random so gzip cannot shrink them.
fn largest_body(trip: &str) -> Vec<u8> {
    let mut body: Value =
        serde_json::from_slice(&fixture("1.01_single_item_sku_unit.json")).unwrap();
    body["idempotentShoppingTripId"] = json!(trip);
    let random_id = || -> String {
        std::iter::repeat_with(fastrand::alphanumeric)
            .take(jwo_domain::contract::MAX_ID_CHARS)
            .collect()
    };
    let line = |_| {
        json!({
            "id": "SKU-001", "type": "SKU", "quantity": { "value": "1", "unit": "unit" },
            "lineItemId": random_id(),
            "externalIdentifiers": [{ "id": random_id(), "type": "UPC" }, { "id": random_id(), "type": "EAN" }],
        })
    };
    let line_bytes = line(0).to_string().len() + 1;
    let lines = (create_purchases::MAX_BODY_BYTES - body.to_string().len()) / line_bytes;
    body["cartItems"] = Value::Array((0..lines).map(line).collect());
    let bytes = body.to_string().into_bytes();
    assert!(bytes.len() <= create_purchases::MAX_BODY_BYTES);
    assert!(bytes.len() > create_purchases::MAX_BODY_BYTES - line_bytes);
    bytes
}

#[tokio::test]
async fn on_dynamodb_the_largest_body_is_stored_split_across_items_and_read_back() {
    let store = dynamodb_store().await;
    let service = CreatePurchases::new(
        store.clone(),
        LocalAlerts::new(10),
        FixedPriceBook::sample(),
        Config::default(),
    );
    let body = largest_body(&unique_name("trip"));
    let answer = send(&service, purchase_event(&body)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let stored = stored(&store, &body).await.expect("stored");
    assert_eq!(answer.body["purchaseId"], json!(stored.purchase_id));
    assert!(stored.is_ready_for_checkout());
    assert_eq!(
        serde_json::to_value(&stored.cart_items).unwrap(),
        serde_json::from_slice::<Value>(&body).unwrap()["cartItems"]
    );
    let parts = purchases::to_item(&stored).parts.len();
    assert!((2..=purchases::MAX_PARTS).contains(&parts), "{parts} parts");
    eprintln!(
        "the largest body ({} bytes) is stored in {parts} parts",
        body.len()
    );

    // A replay finds the split record (the condition's old item has no document of its own).
    let replay = send(&service, purchase_event(&body)).await;
    assert_eq!((replay.status, &replay.body), (201, &answer.body));
    // Every later version is written with its parts: a claim, then completion.
    let claimed = stored
        .claim_for_checkout(chrono::Utc::now(), chrono::Duration::minutes(1), "token")
        .unwrap();
    assert!(matches!(
        store.update(&claimed).await.unwrap(),
        jwo_domain::store::Updated::Done
    ));
    assert_eq!(
        store.get(&stored.purchase_id).await.unwrap(),
        Some(claimed.clone())
    );
    let page = store.list_open(None, 100).await.unwrap();
    assert_eq!(page.purchases.len(), 1);
    assert_eq!(page.purchases[0].as_ref().unwrap(), &claimed);
    // A stale version conflicts and is answered with the stored one, parts and all.
    match store
        .update(&stored.with_alert_sent(AlertKind::PurchaseStuckOpen, chrono::Utc::now()))
        .await
        .unwrap()
    {
        jwo_domain::store::Updated::Conflict(Some(current)) => assert_eq!(*current, claimed),
        other => panic!("{other:?}"),
    }
}
