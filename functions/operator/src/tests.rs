//! The operator service over its REST shape, against the real embedded store and the real
//! price book source; only Amazon's Checkout Service is scripted (it accepts every cart with
//! an orderId of its own, once per trip).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkout::Checkout;
use chrono::TimeZone;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_domain::behaviour::purchase_store::sample_purchase;
use jwo_domain::catalog::price_book_versions::{CachedPriceBook, import_price_book};
use jwo_domain::contract::checkout::{CheckoutOutcome, Submission};
use jwo_domain::ports::{CheckoutService, PurchaseStore};
use jwo_domain::pricing::{Constraint, ConstraintKind, PriceBook};
use jwo_domain::purchase::{Purchase, PurchaseState};
use jwo_local::catalog_files::LocalCatalog;
use jwo_local::embedded::EmbeddedPurchaseStore;
use jwo_local::log_alerts::LocalAlerts;
use serde_json::{Value, json};

use crate::Operator;
use crate::rest::{OperatorRequest, OperatorResponse};

const ACTOR: &str = "arn:aws:iam::111122223333:role/Operator";

/// Accepts each trip once with `order-{n}`; counts submissions.
#[derive(Default)]
struct Accepting {
    submitted: Mutex<Vec<Vec<u8>>>,
}

impl CheckoutService for Accepting {
    async fn submit(&self, body: &[u8], _deadline: Instant) -> Submission {
        let mut submitted = self.submitted.lock().unwrap();
        submitted.push(body.to_vec());
        Submission {
            outcome: CheckoutOutcome::Accepted {
                order_id: format!("order-{}", submitted.len()),
            },
            unanswered_attempts: 0,
        }
    }
}

type PriceBooks = CachedPriceBook<LocalCatalog>;

struct World<S> {
    operator: Operator<S, LocalAlerts, Accepting, PriceBooks>,
    checkout: Arc<Checkout<S, LocalAlerts, Accepting, PriceBooks>>,
    _dir: tempfile::TempDir,
}

/// The operator over the embedded store (as under `jwo serve`).
async fn embedded() -> World<EmbeddedPurchaseStore> {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedPurchaseStore::open(&dir.path().join("purchases.redb")).unwrap();
    world(store, dir).await
}

/// The operator over DynamoDB on the emulator (as in the Lambda).
async fn dynamodb() -> World<DynamoDbPurchaseStore> {
    let aws = jwo_aws::sdk::emulator_sdk_config(jwo_test_support::moto_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let table = jwo_test_support::unique_name("operator");
    jwo_aws::dynamodb::purchases::create_table(&client, &table)
        .await
        .unwrap();
    world(
        DynamoDbPurchaseStore::new(client, table),
        tempfile::tempdir().unwrap(),
    )
    .await
}

async fn world<S: PurchaseStore>(store: S, dir: tempfile::TempDir) -> World<S> {
    let catalog = LocalCatalog::open(dir.path().join("catalog")).unwrap();
    let book = PriceBook::from_json(&std::fs::read(jwo_test_support::sample_price_book()).unwrap())
        .unwrap();
    import_price_book(&catalog, &book, "sample.json")
        .await
        .unwrap();
    let checkout = Arc::new(Checkout::new(
        store,
        LocalAlerts::new(10),
        Accepting::default(),
        CachedPriceBook::new(catalog, Duration::ZERO),
        checkout::Config::default(),
    ));
    World {
        operator: Operator::new(Arc::clone(&checkout)),
        checkout,
        _dir: dir,
    }
}

impl<S: PurchaseStore> World<S> {
    async fn call(&self, method: &str, path_and_query: &str, body: Value) -> OperatorResponse {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.operator
            .handle(OperatorRequest {
                method,
                path,
                query,
                body: &body,
                actor: ACTOR,
            })
            .await
    }

    async fn insert(&self, purchase: &Purchase) {
        self.checkout
            .store
            .insert_if_absent(purchase)
            .await
            .unwrap();
    }

    async fn stored(&self, id: &str) -> Purchase {
        self.checkout.store.get(id).await.unwrap().unwrap()
    }

    fn submissions(&self) -> usize {
        self.checkout
            .checkout_service
            .submitted
            .lock()
            .unwrap()
            .len()
    }
}

async fn get_answers_the_checkout_session_by_id_or_by_trip<S: PurchaseStore>(world: World<S>) {
    let purchase = sample_purchase("get-1", true);
    world.insert(&purchase).await;
    let by_id = world
        .call(
            "GET",
            &format!("/v1/purchases/{}", purchase.purchase_id),
            Value::Null,
        )
        .await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.value()["statusDetail"]["state"], "Open");
    let by_trip = world
        .call(
            "GET",
            "/v1/purchases?storeId=STORE-001&idempotentShoppingTripId=get-1",
            Value::Null,
        )
        .await;
    assert_eq!(by_trip.value(), by_id.value());
    // Priced with a version the catalog never had: shown, and said to be unexplained.
    assert_eq!(by_id.value()["lineItems"][0]["explanation"], Value::Null);
    assert!(
        by_id.value()["explanationUnavailable"]
            .as_str()
            .unwrap()
            .contains("book-v1")
    );
    let missing = world
        .call("GET", "/v1/purchases/no-such-id", Value::Null)
        .await;
    assert_eq!(missing.status, 404);
    let no_store = world
        .call(
            "GET",
            "/v1/purchases?idempotentShoppingTripId=get-1",
            Value::Null,
        )
        .await;
    assert_eq!(no_store.status, 400);
    assert_eq!(no_store.value()["errors"][0]["field"], "storeId");
}

async fn list_pages_through_what_is_open_filtered_by_store_and_constraint<S: PurchaseStore>(
    world: World<S>,
) {
    for n in 0..45 {
        world
            .insert(&sample_purchase(&format!("open-{n}"), n % 3 != 0))
            .await;
    }
    let closed = sample_purchase("closed-1", true);
    world.insert(&closed).await;
    let done = closed.complete("order-x", closed.created_at).unwrap();
    world.checkout.store.update(&done).await.unwrap();

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let query = match &token {
            Some(token) => format!("/v1/purchases?state=Open&limit=10&nextToken={token}"),
            None => "/v1/purchases?state=Open&limit=10".to_owned(),
        };
        let page = world.call("GET", &query, Value::Null).await;
        assert_eq!(page.status, 200, "{}", page.value());
        let page = page.value();
        for purchase in page["purchases"].as_array().unwrap() {
            seen.push(purchase["purchaseId"].as_str().unwrap().to_owned());
        }
        match page["nextToken"].as_str() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        45,
        "each Open purchase once, the Completed one not at all"
    );
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 45);

    let blocked = world
        .call(
            "GET",
            "/v1/purchases?state=Open&constraintId=UnknownSku&limit=100",
            Value::Null,
        )
        .await
        .value();
    assert_eq!(blocked["purchases"].as_array().unwrap().len(), 15);
    let other_store = world
        .call(
            "GET",
            "/v1/purchases?state=Open&storeId=STORE-002",
            Value::Null,
        )
        .await
        .value();
    assert_eq!(other_store["purchases"], json!([]));
    for (query, field) in [
        ("state=Completed", "state"),
        ("state=Open&limit=0", "limit"),
        ("state=Open&constraintId=Nope", "constraintId"),
        ("state=Open&nextToken=zz", "nextToken"),
        ("state=Open&nextToken=", "nextToken"),
        ("", "state"),
    ] {
        let answer = world
            .call("GET", &format!("/v1/purchases?{query}"), Value::Null)
            .await;
        assert_eq!(answer.status, 400, "{query}");
        assert_eq!(answer.value()["errors"][0]["field"], field, "{query}");
    }
}

/// A store's history: every purchase created in the window, whatever its state, oldest first,
/// page by page; filtered by state; bad windows named.
async fn a_stores_history_lists_every_state_by_creation_time<S: PurchaseStore>(world: World<S>) {
    let base = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
    let mut expected = Vec::new();
    let mut completed = Vec::new();
    // Inserted newest first, so an id or insertion order would not pass for time order.
    for n in (0..30).rev() {
        let mut purchase = sample_purchase(&format!("history-{n}"), true);
        purchase.created_at = base + chrono::Duration::minutes(n);
        world.insert(&purchase).await;
        if n % 4 == 0 {
            let done = purchase
                .complete(&format!("order-h{n}"), purchase.created_at)
                .unwrap();
            world.checkout.store.update(&done).await.unwrap();
            if n < 20 {
                completed.push((n, done.purchase_id.clone()));
            }
        }
        if n < 20 {
            expected.push((n, purchase.purchase_id));
        }
    }
    expected.sort();
    completed.sort();
    let ids = |list: &[(i64, String)]| list.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>();
    let window = "storeId=STORE-001&since=2026-11-30T08:00:00Z&until=2026-11-30T08:20:00Z";
    let walk = |query: String| {
        let world = &world;
        async move {
            let mut seen = Vec::new();
            let mut token: Option<String> = None;
            for _ in 0..20 {
                let page_query = match &token {
                    Some(token) => format!("{query}&nextToken={token}"),
                    None => query.clone(),
                };
                let page = world
                    .call("GET", &format!("/v1/purchases?{page_query}"), Value::Null)
                    .await;
                assert_eq!(page.status, 200, "{}", page.value());
                let page = page.value();
                for purchase in page["purchases"].as_array().unwrap() {
                    seen.push(purchase["purchaseId"].as_str().unwrap().to_owned());
                }
                token = page["nextToken"].as_str().map(str::to_owned);
                if token.is_none() {
                    return seen;
                }
            }
            panic!("the pages do not end");
        }
    };
    assert_eq!(walk(format!("{window}&limit=7")).await, ids(&expected));
    assert_eq!(
        walk(format!("{window}&state=Completed&limit=2")).await,
        ids(&completed)
    );
    // A token belongs to the listing that gave it out: not another store's, another state's.
    let first_page = world
        .call(
            "GET",
            &format!("/v1/purchases?{window}&limit=3"),
            Value::Null,
        )
        .await
        .value();
    let token = first_page["nextToken"].as_str().unwrap().to_owned();
    for other in [
        format!(
            "storeId=STORE-002&since=2026-11-30T08:00:00Z&until=2026-11-30T08:20:00Z&nextToken={token}"
        ),
        format!("{window}&state=Open&nextToken={token}"),
        format!(
            "storeId=STORE-001&since=2026-11-30T08:00:00Z&until=2026-11-30T08:30:00Z&nextToken={token}"
        ),
        format!("state=Open&nextToken={token}"),
    ] {
        let answer = world
            .call("GET", &format!("/v1/purchases?{other}"), Value::Null)
            .await;
        assert_eq!(answer.status, 400, "{other}: {}", answer.value());
        assert_eq!(answer.value()["errors"][0]["field"], "nextToken", "{other}");
    }
    // Without until, the first page's "now" is kept by its token.
    let since_only = "storeId=STORE-001&since=2026-11-30T08:00:00Z";
    let open_ended = walk(format!("{since_only}&limit=4")).await;
    assert_eq!(open_ended.len(), 30);
    let open_token = hex::encode("some-purchase-id");
    for (query, field) in [
        ("since=2026-11-30T08:00:00Z".to_owned(), "storeId"),
        (
            "storeId=STORE-001&since=2026-11-30T08:00:00Z&until=2026-11-30T08:00:00Z".into(),
            "until",
        ),
        ("storeId=STORE-001&since=yesterday".into(), "since"),
        (
            "storeId=STORE-001&until=2026-11-30T08:00:00Z".into(),
            "since",
        ),
        (format!("{window}&state=Shipped"), "state"),
        (format!("{window}&sinse=2026-11-30T08:00:00Z"), "sinse"),
        (format!("{window}&nextToken={open_token}"), "nextToken"),
        ("storeId=&since=2026-11-30T08:00:00Z".to_owned(), "storeId"),
    ] {
        let answer = world
            .call("GET", &format!("/v1/purchases?{query}"), Value::Null)
            .await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.value());
        assert_eq!(answer.value()["errors"][0]["field"], field, "{query}");
    }
}

async fn a_held_back_cart_is_repriced_once_its_sku_is_in_the_book_then_completed<
    S: PurchaseStore,
>(
    world: World<S>,
) {
    // Stored when no book could be read.
    let mut unpriced = sample_purchase("reprice-1", true);
    unpriced.checkout = None;
    unpriced.constraints = vec![Constraint::no_price_book("none")];
    world.insert(&unpriced).await;
    let path = format!("/v1/purchases/{}", unpriced.purchase_id);
    let submit_first = world
        .call("POST", &format!("{path}/complete"), json!({}))
        .await;
    assert_eq!(submit_first.status, 409, "{}", submit_first.value());
    assert!(
        submit_first.value()["reason"]
            .as_str()
            .unwrap()
            .contains("NoPriceBook")
    );

    let repriced = world.call("PATCH", &path, json!({ "reprice": true })).await;
    assert_eq!(repriced.status, 200, "{}", repriced.value());
    let session = repriced.value();
    assert_eq!(session["constraints"], json!([]));
    assert_eq!(session["priceBookVersion"], "v1");
    assert_eq!(session["history"][0]["actor"], ACTOR);
    // Each line says how it was priced, and the explanation adds up to the charge.
    let explanation = &session["lineItems"][0]["explanation"];
    assert_eq!(explanation["foundBy"], "SKU", "{session}");
    assert_eq!(explanation["unitPrice"], "3.49");
    assert_eq!(explanation["tax"]["taxCode"], "STD");
    assert_eq!(
        session["pricing"]["totals"]["total"],
        session["orderTotals"]["priceTotal"]["amount"]
    );
    // The same body again changes nothing.
    let version = world.stored(&unpriced.purchase_id).await.version;
    let again = world.call("PATCH", &path, json!({ "reprice": true })).await;
    assert_eq!(again.status, 200);
    assert_eq!(world.stored(&unpriced.purchase_id).await.version, version);

    let completed = world
        .call("POST", &format!("{path}/complete"), json!({}))
        .await;
    assert_eq!(completed.status, 200, "{}", completed.value());
    let completed = completed.value();
    assert_eq!(completed["outcome"], "Completed");
    assert_eq!(completed["purchase"]["orderId"], "order-1");
    assert_eq!(completed["purchase"]["statusDetail"]["state"], "Completed");
    // Who did what: the person's reprice, then the checkout's outcome.
    let history = completed["purchase"]["history"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = history
        .iter()
        .map(|c| (c["actor"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [(ACTOR, "reprice"), ("checkout", "complete")]);
    // Completed is final: no second submission, no change.
    let after = world.call("PATCH", &path, json!({ "reprice": true })).await;
    assert_eq!(after.status, 409);
    assert_eq!(after.value()["state"], "Completed");
    let cancel = world
        .call(
            "POST",
            &format!("{path}/cancel"),
            json!({ "reason": "too late" }),
        )
        .await;
    assert_eq!(cancel.status, 409);
    assert_eq!(world.submissions(), 1);
}

async fn nothing_is_changed_while_a_checkout_holds_the_purchase<S: PurchaseStore>(world: World<S>) {
    let purchase = sample_purchase("leased-1", true);
    world.insert(&purchase).await;
    let claimed = purchase
        .claim_for_checkout(chrono::Utc::now(), chrono::Duration::minutes(5), "worker")
        .unwrap();
    world.checkout.store.update(&claimed).await.unwrap();
    let path = format!("/v1/purchases/{}", purchase.purchase_id);
    for (method, route, body) in [
        ("POST", format!("{path}/cancel"), json!({ "reason": "x" })),
        ("POST", format!("{path}/complete"), json!({})),
        (
            "PATCH",
            path.clone(),
            json!({ "merchantMetadata": { "merchantReferenceId": "R" } }),
        ),
    ] {
        let answer = world.call(method, &route, body).await;
        assert_eq!(answer.status, 409, "{route}: {}", answer.value());
        assert!(
            answer.value()["reason"]
                .as_str()
                .unwrap()
                .contains("checked out")
        );
    }
    assert_eq!(world.stored(&purchase.purchase_id).await, claimed);
    assert_eq!(world.submissions(), 0);
}

async fn a_purchase_held_for_reconciliation_is_completed_with_the_confirmed_order<
    S: PurchaseStore,
>(
    world: World<S>,
) {
    let purchase = sample_purchase("held-1", true);
    let now = chrono::Utc::now();
    let held = purchase
        .claim_for_checkout(now, chrono::Duration::minutes(1), "t")
        .unwrap()
        .hold(
            ConstraintKind::CheckoutOutcomeUnknown,
            "409 after a lost answer",
            now,
        );
    world.insert(&held).await;
    let path = format!("/v1/purchases/{}", purchase.purchase_id);
    // Submitting it plainly is refused: Amazon may have charged it.
    let plain = world
        .call("POST", &format!("{path}/complete"), json!({}))
        .await;
    assert_eq!(plain.status, 409);
    assert!(
        plain.value()["reason"]
            .as_str()
            .unwrap()
            .contains("reconciliation")
    );
    // Nor is a plain cancel: only once Amazon says it did not charge.
    let cancel = world
        .call(
            "POST",
            &format!("{path}/cancel"),
            json!({ "reason": "unsure" }),
        )
        .await;
    assert_eq!(cancel.status, 409, "{}", cancel.value());
    assert!(
        cancel.value()["reason"]
            .as_str()
            .unwrap()
            .contains("notCharged")
    );
    let confirmed = world
        .call(
            "POST",
            &format!("{path}/complete"),
            json!({ "orderId": "order-from-amazon" }),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.value());
    let stored = world.stored(&purchase.purchase_id).await;
    assert_eq!(
        (stored.state, stored.order_id.as_deref()),
        (PurchaseState::Completed, Some("order-from-amazon"))
    );
    assert_eq!(stored.history.last().unwrap().actor, ACTOR);
    assert_eq!(world.submissions(), 0, "nothing was submitted");
}

async fn a_held_purchase_can_be_resubmitted_and_an_open_one_canceled<S: PurchaseStore>(
    world: World<S>,
) {
    let purchase = sample_purchase("resubmit-1", true);
    let now = chrono::Utc::now();
    let held = purchase
        .claim_for_checkout(now, chrono::Duration::minutes(1), "t")
        .unwrap()
        .hold(ConstraintKind::CheckoutRefused, "404", now);
    world.insert(&held).await;
    let path = format!("/v1/purchases/{}", purchase.purchase_id);
    let resubmitted = world
        .call(
            "POST",
            &format!("{path}/complete"),
            json!({ "resubmit": true }),
        )
        .await;
    assert_eq!(resubmitted.status, 200, "{}", resubmitted.value());
    assert_eq!(resubmitted.value()["outcome"], "Completed");
    assert_eq!(world.submissions(), 1);

    let blocked = sample_purchase("cancel-1", false);
    world.insert(&blocked).await;
    let path = format!("/v1/purchases/{}", blocked.purchase_id);
    let no_reason = world
        .call("POST", &format!("{path}/cancel"), json!({}))
        .await;
    assert_eq!(no_reason.status, 400);
    assert_eq!(no_reason.value()["errors"][0]["field"], "reason");
    let canceled = world
        .call(
            "POST",
            &format!("{path}/cancel"),
            json!({ "reason": "a test cart" }),
        )
        .await;
    assert_eq!(canceled.status, 200);
    assert_eq!(
        canceled.value()["statusDetail"]["reasonCode"],
        "OperatorCanceled"
    );
}

async fn a_person_prices_a_line_and_completes_at_the_total_they_saw<S: PurchaseStore>(
    world: World<S>,
) {
    let blocked = sample_purchase("override-1", false);
    world.insert(&blocked).await;
    let path = format!("/v1/purchases/{}", blocked.purchase_id);
    let price = json!({ "lineOverrides": [
        { "line": 0, "unitPrice": "2.00", "taxCode": "FOOD", "reason": "shelf tag says 2.00" }
    ] });
    for (body, field) in [
        (
            json!({ "lineOverrides": [{ "line": 3, "unitPrice": "2.00", "taxCode": "FOOD", "reason": "r" }] }),
            "lineOverrides[0].line",
        ),
        (
            json!({ "lineOverrides": [{ "line": 0, "unitPrice": "2.00", "taxCode": "NOPE", "reason": "r" }] }),
            "lineOverrides[0].taxCode",
        ),
        (
            json!({ "lineOverrides": [{ "line": 0, "unitPrice": "2", "taxCode": "FOOD", "reason": "r" }] }),
            "lineOverrides[0].unitPrice",
        ),
        (
            json!({ "lineOverrides": [{ "lineItemId": "SKU-999", "unitPrice": "2.00", "taxCode": "FOOD", "reason": "r" }] }),
            "lineOverrides[0].lineItemId",
        ),
        (
            json!({ "lineOverrides": [{ "line": 0, "unitPrice": "2.00", "taxCode": "FOOD" }] }),
            "lineOverrides[0].reason",
        ),
    ] {
        let answer = world.call("PATCH", &path, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.value());
        assert_eq!(answer.value()["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(world.stored(&blocked.purchase_id).await, blocked);

    let priced = world.call("PATCH", &path, price.clone()).await;
    assert_eq!(priced.status, 200, "{}", priced.value());
    let session = priced.value();
    assert_eq!(session["constraints"], json!([]));
    assert_eq!(
        session["lineItems"][0]["unitPrice"]["price"]["amount"],
        "2.00"
    );
    let explanation = &session["lineItems"][0]["explanation"];
    assert_eq!(explanation["foundBy"], "person", "{session}");
    assert_eq!(explanation["pricedBy"]["actor"], ACTOR);
    assert_eq!(explanation["pricedBy"]["reason"], "shelf tag says 2.00");
    assert_eq!(session["history"][0]["action"], "lineOverrides");
    let version = world.stored(&blocked.purchase_id).await.version;
    let again = world.call("PATCH", &path, price).await;
    assert_eq!(again.status, 200);
    assert_eq!(world.stored(&blocked.purchase_id).await.version, version);

    // Completing at a total other than the stored one submits nothing.
    let wrong = world
        .call(
            "POST",
            &format!("{path}/complete"),
            json!({ "orderTotals": { "priceTotal": { "amount": "3.49", "currencyCode": "USD" } } }),
        )
        .await;
    assert_eq!(wrong.status, 409, "{}", wrong.value());
    assert_eq!(wrong.value()["code"], "AmountMismatch");
    assert_eq!(world.submissions(), 0);
    let completed = world
        .call(
            "POST",
            &format!("{path}/complete"),
            json!({ "orderTotals": { "priceTotal": { "amount": "2.00", "currencyCode": "USD" } } }),
        )
        .await;
    assert_eq!(completed.status, 200, "{}", completed.value());
    assert_eq!(completed.value()["outcome"], "Completed");
    assert_eq!(world.submissions(), 1);
}

/// What-if pricing: the body a cart would be submitted with and its explanation, or what the
/// book lacks; a bad cart named field by field; nothing stored either way.
async fn a_cart_is_priced_and_explained_without_storing_anything<S: PurchaseStore>(
    world: World<S>,
) {
    let cart = std::fs::read(jwo_test_support::fixtures(
        "create_purchases/1.02_multi_item_cart.json",
    ))
    .unwrap();
    let priced = world
        .call("POST", "/v1/price", serde_json::from_slice(&cart).unwrap())
        .await;
    assert_eq!(priced.status, 200, "{}", priced.value());
    let priced = priced.value();
    let book = PriceBook::from_json(&std::fs::read(jwo_test_support::sample_price_book()).unwrap())
        .unwrap();
    let request = jwo_domain::validation::validate_create_purchases(&cart).unwrap();
    let (checkout, explanation) =
        jwo_domain::pricing::explain_cart(&book, &request, book.amount_basis, &[]).unwrap();
    assert_eq!(priced["checkout"], serde_json::to_value(&checkout).unwrap());
    assert_eq!(
        priced["explanation"],
        serde_json::to_value(&explanation).unwrap()
    );
    assert_eq!(priced["constraints"], json!([]));

    let mut unknown: Value = serde_json::from_slice(&cart).unwrap();
    unknown["cartItems"][2]["id"] = json!("SKU-NOWHERE");
    let held = world.call("POST", "/v1/price", unknown).await.value();
    assert_eq!(held["checkout"], Value::Null);
    assert_eq!(held["constraints"][0]["constraintId"], "UnknownSku");
    assert_eq!(held["constraints"][0]["field"], "cartItems[2].id");

    let mut invalid: Value = serde_json::from_slice(&cart).unwrap();
    invalid["cartItems"][0]["quantity"]["value"] = json!("-1");
    let refused = world.call("POST", "/v1/price", invalid).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.value()["errors"][0]["field"],
        "cartItems[0].quantity.value"
    );
    assert_eq!(
        world.call("GET", "/v1/price", Value::Null).await.status,
        405
    );
    assert!(world.checkout.store.all_open().await.unwrap().is_empty());
}

/// The same scenario through GraphQL alone: the held purchase found by query, repriced and
/// completed by mutations; a refusal is an error with its code and the field.
async fn graphql_finds_reprices_and_completes_a_held_purchase<S: PurchaseStore>(world: World<S>) {
    let mut unpriced = sample_purchase("graphql-1", true);
    unpriced.checkout = None;
    unpriced.constraints = vec![Constraint::no_price_book("none")];
    world.insert(&unpriced).await;
    let routes: Arc<dyn crate::rest::OperatorRoutes> =
        Arc::new(Operator::new(Arc::clone(&world.checkout)));
    let schema = crate::graphql::schema(routes);
    let ask = |query: &str, variables: Value| {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let schema = &schema;
        async move {
            let answer = crate::graphql::execute(schema, ACTOR, body.as_bytes()).await;
            assert_eq!(answer.status, 200);
            answer.value()
        }
    };
    let held = ask(
        "query Held($store: String) { purchases(state: Open, storeId: $store, constraintId: \"NoPriceBook\", first: 10) { nodes { purchaseId constraints { constraintId field } } pageInfo { hasNextPage } } }",
        json!({ "store": "STORE-001" }),
    )
    .await;
    assert_eq!(held["errors"], Value::Null, "{held}");
    let nodes = &held["data"]["purchases"]["nodes"];
    assert_eq!(nodes[0]["purchaseId"], json!(unpriced.purchase_id));
    assert_eq!(nodes[0]["constraints"][0]["constraintId"], "NoPriceBook");

    let id = json!(unpriced.purchase_id);
    let refused = ask(
        "mutation($id: ID!) { updatePurchase(id: $id, input: { lineOverrides: [{ line: 9, unitPrice: \"1.00\", taxCode: \"STD\", reason: \"r\" }] }) { purchaseId } }",
        json!({ "id": id }),
    )
    .await;
    let error = &refused["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_REQUEST", "{refused}");
    assert_eq!(error["extensions"]["field"], "lineOverrides[0].line");
    assert_eq!(error["path"], json!(["updatePurchase"]));

    let repriced = ask(
        "mutation($id: ID!) { updatePurchase(id: $id, input: { reprice: true }) { constraints { constraintId } priceBookVersion orderTotals { priceTotal { amount currencyCode } } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(repriced["errors"], Value::Null, "{repriced}");
    let purchase = &repriced["data"]["updatePurchase"];
    assert_eq!(purchase["constraints"], json!([]));
    let total = purchase["orderTotals"]["priceTotal"].clone();
    let mismatch = ask(
        "mutation($id: ID!) { completePurchase(id: $id, expectedTotal: { amount: \"0.01\", currencyCode: \"USD\" }) { outcome } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        mismatch["errors"][0]["extensions"]["code"], "AmountMismatch",
        "{mismatch}"
    );
    assert_eq!(world.submissions(), 0);
    let completed = ask(
        "mutation($id: ID!, $total: MoneyInput) { completePurchase(id: $id, expectedTotal: $total) { outcome purchase { orderId statusDetail { state } history { actor action } } } }",
        json!({ "id": id, "total": total }),
    )
    .await;
    assert_eq!(completed["errors"], Value::Null, "{completed}");
    let done = &completed["data"]["completePurchase"];
    assert_eq!(done["outcome"], "Completed");
    assert_eq!(done["purchase"]["orderId"], "order-1");
    assert_eq!(done["purchase"]["statusDetail"]["state"], "Completed");
    assert_eq!(done["purchase"]["history"][0]["actor"], ACTOR);
    let missing = ask(
        "{ purchase(id: \"no-such-id\") { purchaseId } }",
        Value::Null,
    )
    .await;
    assert_eq!(missing["errors"], Value::Null, "{missing}");
    assert_eq!(missing["data"]["purchase"], Value::Null, "{missing}");
    let canceled = ask(
        "mutation($id: ID!) { cancelPurchase(id: $id, reason: \"late\") { purchaseId } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        canceled["errors"][0]["extensions"]["code"], "NotOpen",
        "{canceled}"
    );
    assert_eq!(canceled["errors"][0]["extensions"]["state"], "Completed");
    // Aliases cannot multiply the work: five listings, or two mutations, are one too many.
    let listings = |count: usize| {
        let fields: Vec<String> = (0..count)
            .map(|n| format!("l{n}: purchases(state: Open) {{ nodes {{ purchaseId }} }}"))
            .collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let refused = ask(&listings(5), Value::Null).await;
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{refused}"
    );
    assert_eq!(ask(&listings(4), Value::Null).await["errors"], Value::Null);
    let two = ask(
        "mutation($id: ID!) { a: cancelPurchase(id: $id, reason: \"x\") { purchaseId } b: cancelPurchase(id: $id, reason: \"y\") { purchaseId } }",
        json!({ "id": id }),
    )
    .await;
    assert!(
        two["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{two}"
    );
    assert_eq!(world.submissions(), 1);
}

async fn bad_bodies_name_the_field_and_change_nothing<S: PurchaseStore>(world: World<S>) {
    let purchase = sample_purchase("bad-1", false);
    world.insert(&purchase).await;
    let path = format!("/v1/purchases/{}", purchase.purchase_id);
    for (method, route, body, field) in [
        (
            "PATCH",
            path.clone(),
            json!({ "reprice": "yes" }),
            "reprice",
        ),
        ("PATCH", path.clone(), json!({ "colour": "red" }), "colour"),
        ("PATCH", path.clone(), json!({}), "body"),
        ("PATCH", path.clone(), json!([1]), "body"),
        (
            "PATCH",
            path.clone(),
            json!({ "merchantMetadata": { "note": 1 } }),
            "merchantMetadata",
        ),
        (
            "PATCH",
            path.clone(),
            json!({ "lineOverrides": [] }),
            "lineOverrides",
        ),
        (
            "POST",
            format!("{path}/complete"),
            json!({ "orderId": "" }),
            "orderId",
        ),
        (
            "POST",
            format!("{path}/complete"),
            json!({ "orderId": "o", "resubmit": true }),
            "orderId",
        ),
        (
            "POST",
            format!("{path}/complete"),
            json!({ "resubmit": 1 }),
            "resubmit",
        ),
        (
            "PATCH",
            path.clone(),
            json!({ "merchantMetadata": { "merchantReferenceId": "r".repeat(257) } }),
            "merchantMetadata.merchantReferenceId",
        ),
        (
            "POST",
            format!("{path}/cancel"),
            json!({ "reason": "x", "notCharged": "yes" }),
            "notCharged",
        ),
        (
            "PATCH",
            path.clone(),
            json!({ "lineOverrides": [{ "line": 0, "unitPrice": "1000000.01", "taxCode": "STD", "reason": "r" }] }),
            "lineOverrides[0].unitPrice",
        ),
        (
            "PATCH",
            path.clone(),
            json!({ "lineOverrides": [
                { "line": 0, "unitPrice": "1.00", "taxCode": "STD", "reason": "r" },
                { "lineItemId": "SKU-002", "unitPrice": "2.00", "taxCode": "STD", "reason": "r" }
            ] }),
            "lineOverrides[1].line",
        ),
    ] {
        let answer = world.call(method, &route, body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.value());
        assert_eq!(answer.value()["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(world.stored(&purchase.purchase_id).await, purchase);
    let wrong_method = world.call("DELETE", &path, Value::Null).await;
    assert_eq!(wrong_method.status, 405);
    let elsewhere = world
        .call("GET", &format!("{path}/history"), Value::Null)
        .await;
    assert_eq!(elsewhere.status, 404);
}

/// Each scenario against both stores.
macro_rules! on_both_stores {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test]
                async fn on_the_embedded_store() {
                    super::$scenario(super::embedded().await).await;
                }

                #[tokio::test]
                async fn on_dynamodb() {
                    super::$scenario(super::dynamodb().await).await;
                }
            }
        )+
    };
}

on_both_stores!(
    get_answers_the_checkout_session_by_id_or_by_trip,
    list_pages_through_what_is_open_filtered_by_store_and_constraint,
    a_stores_history_lists_every_state_by_creation_time,
    a_held_back_cart_is_repriced_once_its_sku_is_in_the_book_then_completed,
    nothing_is_changed_while_a_checkout_holds_the_purchase,
    a_purchase_held_for_reconciliation_is_completed_with_the_confirmed_order,
    a_held_purchase_can_be_resubmitted_and_an_open_one_canceled,
    a_person_prices_a_line_and_completes_at_the_total_they_saw,
    bad_bodies_name_the_field_and_change_nothing,
    a_cart_is_priced_and_explained_without_storing_anything,
    graphql_finds_reprices_and_completes_a_held_purchase,
);
