//! The behaviour every [`PurchaseStore`] must show, run against each adapter.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};

use crate::ports::PurchaseStore;
use crate::pricing::{Constraint, ConstraintKind, PricingOutcome};
use crate::purchase::{CancelReason, Purchase, PurchaseState};
use crate::store::{HistoryCursor, HistoryQuery, Inserted, Updated};
use crate::validation::validate_create_purchases;

/// A purchase of trip `trip`: ready for checkout, or blocked by an unknown SKU.
pub fn sample_purchase(trip: &str, ready: bool) -> Purchase {
    let body = serde_json::json!({
        "requestId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "idempotentShoppingTripId": trip, "storeId": "STORE-001",
        "shoppingTrip": { "startTime": "2024-03-22T17:00:00Z", "endTime": "2024-03-22T17:09:39Z",
            "authEvents": [{ "id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "payloadType": "FINANCIAL" }] },
        "cartItems": [{ "id": "SKU-002", "type": "SKU", "quantity": { "value": "1", "unit": "each" } }]
    });
    let request = validate_create_purchases(body.to_string().as_bytes()).unwrap();
    let pricing = if ready {
        let book = crate::pricing::PriceBook::from_json(
            serde_json::json!({
                "currency": "USD",
                "stores": { "STORE-001": { "taxRates": { "STD": "0.0825" } } },
                "items": [{ "sku": "SKU-002", "name": "Chips", "price": "3.49", "taxCode": "STD" }]
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        crate::pricing::price_cart(
            &book,
            &request,
            crate::contract::checkout::AmountBasis::Line,
        )
    } else {
        PricingOutcome::Unpriceable(vec![Constraint {
            kind: ConstraintKind::UnknownSku,
            field: "cartItems[0].id".into(),
            detail: "no price book item has SKU 'SKU-002'".into(),
        }])
    };
    // Whole seconds: what every store keeps exactly.
    let now = Utc.with_ymd_and_hms(2024, 3, 22, 17, 10, 0).unwrap();
    Purchase::new(
        &request,
        pricing,
        Some("book-v1"),
        None,
        now,
        Duration::days(30),
    )
}

pub async fn run_all(store: &impl PurchaseStore) {
    insert_if_absent_keeps_the_first(store).await;
    update_is_conditional_on_the_version(store).await;
    list_open_follows_the_state(store).await;
    list_open_reads_only_the_open_page_by_page(store).await;
    list_history_pages_a_store_in_time_order(store).await;
    get_of_an_unknown_id_is_none(store).await;
}

async fn insert_if_absent_keeps_the_first(store: &impl PurchaseStore) {
    let first = sample_purchase("insert-1", true);
    assert!(matches!(
        store.insert_if_absent(&first).await.unwrap(),
        Inserted::New
    ));
    let mut second = first.clone();
    second.request_id = "b1b2c3d4-e5f6-7890-abcd-ef1234567890".into();
    match store.insert_if_absent(&second).await.unwrap() {
        Inserted::Existing(existing) => assert_eq!(*existing, first),
        Inserted::New => panic!("a second insert of one purchase id was written"),
    }
    assert_eq!(store.get(&first.purchase_id).await.unwrap(), Some(first));
}

async fn update_is_conditional_on_the_version(store: &impl PurchaseStore) {
    let purchase = sample_purchase("update-1", true);
    store.insert_if_absent(&purchase).await.unwrap();
    let now = purchase.created_at;
    let attempted = purchase
        .claim_for_checkout(now, chrono::Duration::seconds(30), "suite")
        .unwrap();
    assert!(matches!(
        store.update(&attempted).await.unwrap(),
        Updated::Done
    ));
    // A change computed from the old version loses, and says what is stored now.
    let stale = purchase.complete("order-stale", now).unwrap();
    match store.update(&stale).await.unwrap() {
        Updated::Conflict(Some(current)) => assert_eq!(*current, attempted),
        other => panic!("stale update: {other:?}"),
    }
    let completed = attempted.complete("order-1", now).unwrap();
    assert!(matches!(
        store.update(&completed).await.unwrap(),
        Updated::Done
    ));
    assert_eq!(
        store.get(&purchase.purchase_id).await.unwrap(),
        Some(completed.clone())
    );
    // The same change twice: the second finds the version moved on.
    assert!(matches!(
        store.update(&completed).await.unwrap(),
        Updated::Conflict(Some(_))
    ));
    // An update of a record that does not exist writes nothing.
    let ghost = sample_purchase("never-inserted", true)
        .claim_for_checkout(now, chrono::Duration::seconds(30), "suite")
        .unwrap();
    assert!(matches!(
        store.update(&ghost).await.unwrap(),
        Updated::Conflict(None)
    ));
    assert_eq!(store.get(&ghost.purchase_id).await.unwrap(), None);
}

async fn list_open_follows_the_state(store: &impl PurchaseStore) {
    let open = sample_purchase("open-1", true);
    let blocked = sample_purchase("open-2", false);
    store.insert_if_absent(&open).await.unwrap();
    store.insert_if_absent(&blocked).await.unwrap();
    let listed: Vec<String> = store
        .all_open()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.purchase_id)
        .collect();
    assert!(listed.contains(&open.purchase_id) && listed.contains(&blocked.purchase_id));
    let canceled = blocked
        .cancel(CancelReason::OperatorCanceled, "test", blocked.created_at)
        .unwrap();
    assert!(matches!(
        store.update(&canceled).await.unwrap(),
        Updated::Done
    ));
    let listed = store.all_open().await.unwrap();
    assert!(listed.iter().all(|p| p.state == PurchaseState::Open));
    assert!(!listed.iter().any(|p| p.purchase_id == blocked.purchase_id));
    assert!(listed.iter().any(|p| p.purchase_id == open.purchase_id));

    // A closed purchase with an alert still to publish stays listed until it is published.
    let mut declined = open
        .cancel(CancelReason::Declined, "test", open.created_at)
        .unwrap();
    let alert = declined.alert(
        crate::alerts::AlertKind::CheckoutDeclined,
        "declined".into(),
        "test".into(),
    );
    declined.add_pending_alert(alert.clone());
    assert!(matches!(
        store.update(&declined).await.unwrap(),
        Updated::Done
    ));
    let listed = store.all_open().await.unwrap();
    assert!(listed.contains(&declined), "{listed:?}");
    let published = declined.with_alerts_published(&[alert], declined.created_at);
    assert!(matches!(
        store.update(&published).await.unwrap(),
        Updated::Done
    ));
    assert!(published.was_alerted(crate::alerts::AlertKind::CheckoutDeclined));
    let listed = store.all_open().await.unwrap();
    assert!(!listed.iter().any(|p| p.purchase_id == open.purchase_id));
}

/// Many closed purchases and a few open ones: the pages hold only the open ones, in id order,
/// and walking them with `next` finds each once.
async fn list_open_reads_only_the_open_page_by_page(store: &impl PurchaseStore) {
    let mut open_ids = Vec::new();
    for n in 0..60 {
        let purchase = sample_purchase(&format!("paged-{n}"), true);
        store.insert_if_absent(&purchase).await.unwrap();
        if n % 12 == 0 {
            open_ids.push(purchase.purchase_id);
        } else {
            let done = purchase.complete("order", purchase.created_at).unwrap();
            assert!(matches!(store.update(&done).await.unwrap(), Updated::Done));
        }
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store.list_open(after.as_deref(), 2).await.unwrap();
        pages += 1;
        assert!(page.purchases.len() <= 2);
        for purchase in page.purchases {
            let purchase = purchase.unwrap();
            assert_eq!(purchase.state, PurchaseState::Open);
            seen.push(purchase.purchase_id);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
        assert!(pages < 100, "the pages do not end");
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "in purchase-id order");
    // Of this test's purchases, exactly the open ones are listed, each once.
    let ours: Vec<&String> = seen
        .iter()
        .filter(|id| {
            (0..60)
                .any(|n| **id == crate::purchase::purchase_id("STORE-001", &format!("paged-{n}")))
        })
        .collect();
    let mut expected: Vec<&String> = open_ids.iter().collect();
    expected.sort();
    assert_eq!(ours, expected);
}

/// A store's purchases of a window, oldest first, in whatever state, page by page; not the
/// other stores', not those before `since` or at `until`.
async fn list_history_pages_a_store_in_time_order(store: &impl PurchaseStore) {
    let base = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let at = |minutes: i64| base + Duration::minutes(minutes);
    let mut expected = Vec::new();
    // Inserted out of time order; two at the same time; one of another store; one before the
    // window and one at its end.
    let trips = [
        ("STORE-H", 5),
        ("STORE-H", 1),
        ("STORE-H", 3),
        ("STORE-H", 3),
        ("STORE-OTHER", 2),
        ("STORE-H", -1),
        ("STORE-H", 10),
        ("STORE-H", 7),
    ];
    let mut first = None;
    for (n, (store_id, minute)) in trips.into_iter().enumerate() {
        let mut purchase = sample_purchase(&format!("history-{n}"), n % 2 == 0);
        purchase.store_id = store_id.into();
        purchase.purchase_id =
            crate::purchase::purchase_id(store_id, &purchase.idempotent_shopping_trip_id);
        purchase.created_at = at(minute);
        store.insert_if_absent(&purchase).await.unwrap();
        if store_id == "STORE-H" && (0..10).contains(&minute) {
            expected.push((purchase.created_at, purchase.purchase_id.clone()));
            first.get_or_insert(purchase);
        }
    }
    // A closed purchase stays in the history.
    let first = first.unwrap();
    let completed = first.complete("order-h", first.created_at).unwrap();
    assert!(matches!(
        store.update(&completed).await.unwrap(),
        Updated::Done
    ));
    expected.sort();
    let query = HistoryQuery {
        store_id: "STORE-H".into(),
        since: at(0),
        until: at(10),
    };
    let mut seen = Vec::new();
    let mut after: Option<HistoryCursor> = None;
    for _ in 0..10 {
        let page = store.list_history(&query, after.as_ref(), 2).await.unwrap();
        assert!(page.purchases.len() <= 2);
        for purchase in page.purchases {
            let purchase = purchase.unwrap();
            if purchase.purchase_id == completed.purchase_id {
                assert_eq!(purchase, completed);
            }
            seen.push((purchase.created_at, purchase.purchase_id));
        }
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert!(after.is_none(), "the pages do not end");
    // Oldest first; the order of purchases created at the same instant is the store's own.
    assert!(
        seen.windows(2).all(|pair| pair[0].0 <= pair[1].0),
        "{seen:?}"
    );
    seen.sort();
    assert_eq!(seen, expected);
    // An empty window, and a window of another store with nothing in it.
    let empty = HistoryQuery {
        since: at(10),
        until: at(10),
        ..query.clone()
    };
    assert!(
        store
            .list_history(&empty, None, 10)
            .await
            .unwrap()
            .purchases
            .is_empty()
    );
    let elsewhere = HistoryQuery {
        store_id: "STORE-NONE".into(),
        ..query
    };
    assert!(
        store
            .list_history(&elsewhere, None, 10)
            .await
            .unwrap()
            .purchases
            .is_empty()
    );
}

async fn get_of_an_unknown_id_is_none(store: &impl PurchaseStore) {
    assert_eq!(
        store
            .get("00000000-0000-0000-0000-000000000000")
            .await
            .unwrap(),
        None
    );
}

/// An insert handed to the caller's runtime, to run in parallel with the others.
pub type InsertTask = Pin<Box<dyn Future<Output = Inserted> + Send>>;

/// 50 concurrent inserts of one trip: exactly one is new, all see the same record. `spawn` runs
/// each insert as a task of the test's runtime (this crate has none of its own).
pub async fn concurrent_inserts<S, J>(store: Arc<S>, spawn: impl Fn(InsertTask) -> J)
where
    S: PurchaseStore,
    J: Future<Output = Inserted>,
{
    let purchase = sample_purchase("concurrent-1", true);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            let purchase = purchase.clone();
            spawn(Box::pin(async move {
                store.insert_if_absent(&purchase).await.unwrap()
            }))
        })
        .collect();
    let mut new = 0;
    for task in tasks {
        match task.await {
            Inserted::New => new += 1,
            Inserted::Existing(existing) => assert_eq!(existing.purchase_id, purchase.purchase_id),
        }
    }
    assert_eq!(new, 1);
    assert_eq!(
        store.get(&purchase.purchase_id).await.unwrap(),
        Some(purchase)
    );
}
