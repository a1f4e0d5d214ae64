//! The Lambda side. Two kinds of event reach the function:
//! - the purchases table's stream: each new purchase ready for checkout is checked out; a
//!   record that must be retried is reported in `batchItemFailures` (only that one), so the
//!   stream retries it and, past the retry limit, sends it to the on-failure destination;
//! - a schedule (EventBridge): a [`Checkout::sweep`] retries what failed and alerts on
//!   purchases open too long.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures_util::StreamExt;
use jwo_domain::ports::{Alerts, CheckoutService, CurrentPriceBook, PurchaseStore};
use lambda_runtime::{Error, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_dynamo::AttributeValue;
use tracing::Instrument;

use crate::{Checkout, SWEEP_IDLE_FOR, SweepReport};

/// The checkout as the stack runs it: the purchases table, the alerts topic, the Checkout
/// Service signed with the function's own role, and the catalog table's price book.
pub type AwsCheckout = Checkout<
    jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore,
    jwo_aws::sns::alerts::SnsAlerts,
    jwo_aws::amazon::checkout_client::CheckoutClient,
    jwo_domain::catalog::price_book_versions::CachedPriceBook<
        jwo_aws::dynamodb::catalog::DynamoDbCatalog,
    >,
>;

/// Builds [`AwsCheckout`] from the settings, once at cold start (the checkout Lambda's, and the
/// operator Lambda's, which completes purchases the same way).
pub async fn aws_checkout(settings: crate::config::LambdaSettings) -> Result<AwsCheckout, String> {
    use jwo_aws::amazon::checkout_client::CheckoutClient;
    use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
    use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
    use jwo_aws::sns::alerts::SnsAlerts;
    use jwo_domain::catalog::price_book_versions::CachedPriceBook;

    let aws = jwo_aws::sdk::sdk_config(settings.call_timeouts).await;
    let credentials = aws
        .credentials_provider()
        .ok_or("no AWS credentials provider: the checkout must sign its requests")?;
    let mut client = CheckoutClient::new(
        &settings.checkout_endpoint,
        &settings.checkout_region,
        credentials,
    )
    .map_err(|error| format!("CHECKOUT_ENDPOINT: {error}"))?;
    client.pacer =
        jwo_aws::pacer::Pacer::shared(settings.calls_per_second, settings.concurrent_invocations);
    if let Some(pacer) = &client.pacer {
        tracing::info!(
            spacing_us = pacer.spacing().as_micros() as u64,
            "calls to the Checkout Service paced"
        );
    }
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let price_books = CachedPriceBook::new(
        DynamoDbCatalog::new(dynamodb.clone(), settings.catalog_table),
        settings.price_book_cache,
    );
    Ok(Checkout::new(
        DynamoDbPurchaseStore::new(dynamodb, settings.purchases_table),
        SnsAlerts::new(aws_sdk_sns::Client::new(&aws), settings.alerts_topic_arn),
        client,
        price_books,
        settings.config,
    ))
}

/// Kept free at the end of an invocation to record outcomes and answer.
const RECORDING_MARGIN: Duration = Duration::from_secs(3);

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum CheckoutEvent {
    Stream(StreamEvent),
    Schedule(EventBridgeEvent),
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum CheckoutAnswer {
    Stream(DynamoDbEventResponse),
    Sweep(SweepReport),
}

pub async fn handle_event<S: PurchaseStore, A: Alerts, C: CheckoutService, B: CurrentPriceBook>(
    service: &Checkout<S, A, C, B>,
    event: LambdaEvent<CheckoutEvent>,
) -> Result<CheckoutAnswer, Error> {
    let deadline = deadline_of(event.context.deadline);
    match event.payload {
        CheckoutEvent::Stream(stream) => Ok(CheckoutAnswer::Stream(
            handle_stream(service, stream, deadline).await,
        )),
        CheckoutEvent::Schedule(schedule) => {
            tracing::info!(source = %schedule.source, detail_type = %schedule.detail_type, "scheduled sweep");
            Ok(CheckoutAnswer::Sweep(
                service.sweep(deadline, SWEEP_IDLE_FOR).await?,
            ))
        }
    }
}

/// The Lambda's deadline (milliseconds since the epoch) as an instant, less the margin.
pub fn deadline_of(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        });
    let remaining = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + remaining.saturating_sub(RECORDING_MARGIN)
}

/// What a stream record asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordAction {
    /// Check out this purchase.
    CheckOut(String),
    /// Not a new purchase ready for checkout (a change we made, a held-back or empty cart,
    /// an expiry).
    Skip(&'static str),
    /// Cannot be read: reported failed, so it is kept (on-failure destination), not dropped.
    Unreadable(String),
}

/// Only a new purchase ready for checkout starts one; our own later writes (the lease, the
/// outcome) come back through the stream as MODIFY records and are skipped.
pub fn record_action(record: &EventRecord) -> RecordAction {
    if record.event_name != "INSERT" {
        return RecordAction::Skip("not a new purchase");
    }
    let Some(AttributeValue::S(purchase_id)) = record.change.keys.get("purchaseId") else {
        return RecordAction::Unreadable("the record has no purchaseId key".into());
    };
    if jwo_aws::dynamodb::purchases::is_document_part(purchase_id) {
        return RecordAction::Skip("a part of a large purchase's record");
    }
    // The table writes `readyForCheckout` on every item; a stream without images (KEYS_ONLY)
    // leaves the decision to the stored record.
    if let Some(AttributeValue::Bool(false)) = record.change.new_image.get("readyForCheckout") {
        return RecordAction::Skip("held back or nothing to charge");
    }
    RecordAction::CheckOut(purchase_id.clone())
}

/// Checks out each record's purchase, a few at a time, and reports the ones to retry.
pub async fn handle_stream<S: PurchaseStore, A: Alerts, C: CheckoutService, B: CurrentPriceBook>(
    service: &Checkout<S, A, C, B>,
    event: StreamEvent,
    deadline: Instant,
) -> DynamoDbEventResponse {
    let failed: Vec<Option<String>> = futures_util::stream::iter(event.records)
        .map(|record| {
            let span = tracing::info_span!("stream record", event_id = %record.event_id);
            handle_record(service, record, deadline).instrument(span)
        })
        .buffered(service.config.concurrency)
        .collect()
        .await;
    let mut response = DynamoDbEventResponse::default();
    // A record without a sequence number is reported with an empty one, which fails the whole
    // batch: retried, never dropped.
    response.batch_item_failures = failed
        .into_iter()
        .flatten()
        .map(|sequence_number| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence_number);
            failure
        })
        .collect();
    response
}

/// The record's sequence number if it must be retried.
async fn handle_record<S: PurchaseStore, A: Alerts, C: CheckoutService, B: CurrentPriceBook>(
    service: &Checkout<S, A, C, B>,
    record: EventRecord,
    deadline: Instant,
) -> Option<String> {
    let retry = match record_action(&record) {
        RecordAction::CheckOut(purchase_id) => {
            service.check_out(&purchase_id, deadline).await.is_err()
        }
        RecordAction::Skip(why) => {
            tracing::debug!(why, "record skipped");
            false
        }
        RecordAction::Unreadable(why) => {
            tracing::error!(why = %why, "stream record cannot be read");
            true
        }
    };
    retry.then(|| record.change.sequence_number.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, keys: serde_json::Value, new_image: serde_json::Value) -> EventRecord {
        serde_json::from_value(serde_json::json!({
            "awsRegion": "us-east-1", "eventID": "1", "eventName": name,
            "dynamodb": { "Keys": keys, "NewImage": new_image, "SequenceNumber": "7", "SizeBytes": 10 }
        }))
        .unwrap()
    }

    #[test]
    fn only_new_purchases_that_may_be_ready_start_a_checkout() {
        let key = serde_json::json!({ "purchaseId": { "S": "p-1" } });
        let ready = serde_json::json!({ "readyForCheckout": { "BOOL": true } });
        let held = serde_json::json!({ "readyForCheckout": { "BOOL": false } });
        assert_eq!(
            record_action(&record("INSERT", key.clone(), ready.clone())),
            RecordAction::CheckOut("p-1".into())
        );
        // A KEYS_ONLY stream: the stored record decides.
        assert_eq!(
            record_action(&record("INSERT", key.clone(), serde_json::Value::Null)),
            RecordAction::CheckOut("p-1".into())
        );
        assert!(matches!(
            record_action(&record("INSERT", key.clone(), held)),
            RecordAction::Skip(_)
        ));
        assert!(matches!(
            record_action(&record("MODIFY", key.clone(), ready.clone())),
            RecordAction::Skip(_)
        ));
        assert!(matches!(
            record_action(&record("REMOVE", key, ready.clone())),
            RecordAction::Skip(_)
        ));
        // The parts a large purchase is split into come through the stream too.
        let part = serde_json::json!({ "purchaseId": { "S": "p-1#part0" } });
        assert!(matches!(
            record_action(&record("INSERT", part, serde_json::Value::Null)),
            RecordAction::Skip(_)
        ));
        let no_key = serde_json::json!({ "id": { "S": "p-1" } });
        assert!(matches!(
            record_action(&record("INSERT", no_key, ready)),
            RecordAction::Unreadable(_)
        ));
    }

    #[test]
    fn the_deadline_keeps_a_margin_and_never_lies_in_the_past_of_now() {
        let in_ten_seconds =
            SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(10);
        let deadline = deadline_of(u64::try_from(in_ten_seconds.as_millis()).unwrap());
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_secs(7) && left > Duration::from_secs(6),
            "{left:?}"
        );
        assert!(deadline_of(0) <= Instant::now());
    }
}
