//! Against moto: a real SNS topic (Amazon's, in production) subscribed to a real SQS queue
//! (ours); messages published, and the consumer run on what arrives, the way Lambda's SQS
//! event source delivers it. Moto's envelopes carry a placeholder signature, so the tests of
//! other behaviour run with signatures off, and the signature tests sign what moto delivered
//! with the test key, as SNS would have. Messages are acted on only from the topic the consumer
//! is configured with, published within its age window.

use std::collections::HashMap;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use catalog_notifications::lambda::handle_batch;
use catalog_notifications::{Acceptance, CatalogNotifications};
use jwo_aws::dynamodb::catalog;
use jwo_aws::dynamodb::catalog::DynamoDbCatalog;
use jwo_aws::sns::certificates::SnsCertificates;
use jwo_aws::sns::subscriptions::SnsSubscriptions;
use jwo_aws::testing::sign_sns;
use jwo_domain::alerts::AlertKind;
use jwo_domain::contract::catalog::ProcessingStatus;
use jwo_domain::ports::IngestionStore;
use jwo_local::log_alerts::LocalAlerts;
use jwo_test_support::{
    moto_endpoint, new_topic, sns_signing_certificate, sns_signing_key, subscribe_queue,
    topic_with_queue, unique_name,
};
use serde_json::json;

type Consumer =
    CatalogNotifications<DynamoDbCatalog, LocalAlerts, SnsSubscriptions, SnsCertificates>;

struct World {
    consumer: Consumer,
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    topic_arn: String,
    queue_url: String,
    /// Messages received but reported failed, with how often they were received.
    redeliveries: Vec<(SqsMessage, u32)>,
}

impl World {
    /// `verifying`: signatures are checked against the tests' signing certificate.
    async fn start(raw_delivery: bool, verifying: bool) -> World {
        let aws = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let table = unique_name("catalog");
        catalog::create_table(&dynamo, &table).await.unwrap();
        let sns = aws_sdk_sns::Client::new(&aws);
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let (topic_arn, queue_url) = topic_with_queue(&aws, raw_delivery).await;
        World {
            consumer: CatalogNotifications::new(
                Acceptance::new(topic_arn.clone()),
                DynamoDbCatalog::new(dynamo.clone(), &table),
                LocalAlerts::new(100),
                SnsSubscriptions::new(sns.clone()),
                verifying.then(|| SnsCertificates::file(&sns_signing_certificate()).unwrap()),
            ),
            dynamo,
            table,
            sns,
            sqs,
            topic_arn,
            queue_url,
            redeliveries: Vec::new(),
        }
    }

    /// Amazon publishes an ingestion status to its topic.
    async fn publish(&self, message: serde_json::Value) {
        self.sns
            .publish()
            .topic_arn(&self.topic_arn)
            .message(message.to_string())
            .send()
            .await
            .unwrap();
    }

    /// A message put on the queue directly (what SNS itself sends, or garbage).
    async fn enqueue(&self, body: &str) {
        self.sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    /// Lambda's side: what is on the queue (and what failed before, received once more) as one
    /// batch; the failed ones are kept for the next delivery. Returns the failed message ids.
    async fn deliver(&mut self) -> Vec<String> {
        let mut records: Vec<(SqsMessage, u32)> = std::mem::take(&mut self.redeliveries)
            .into_iter()
            .map(|(message, count)| (message, count + 1))
            .collect();
        for message in self.take().await {
            let mut record = SqsMessage::default();
            record.message_id = message.message_id;
            record.body = message.body;
            records.push((record, 1));
        }
        let mut event = SqsEvent::default();
        event.records = records
            .iter()
            .map(|(message, count)| {
                let mut message = message.clone();
                message.attributes =
                    HashMap::from([("ApproximateReceiveCount".to_owned(), count.to_string())]);
                message
            })
            .collect();
        let response = handle_batch(&self.consumer, event).await;
        let failed: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .map(|failure| failure.item_identifier)
            .collect();
        self.redeliveries = records
            .into_iter()
            .filter(|(message, _)| failed.contains(message.message_id.as_ref().unwrap()))
            .collect();
        failed
    }

    /// What is on the queue, taken off it: the SNS envelopes as delivered.
    async fn receive_all(&self) -> Vec<serde_json::Value> {
        self.take()
            .await
            .into_iter()
            .map(|message| serde_json::from_str(&message.body.unwrap()).unwrap())
            .collect()
    }

    /// Every message on the queue, received and deleted.
    async fn take(&self) -> Vec<aws_sdk_sqs::types::Message> {
        let mut taken = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return taken;
            }
            for message in messages {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle.clone().unwrap())
                    .send()
                    .await
                    .unwrap();
                taken.push(message);
            }
        }
    }

    async fn ingestion(&self, id: &str) -> jwo_domain::catalog::ingestion::Ingestion {
        self.consumer
            .store
            .get_ingestion(id)
            .await
            .unwrap()
            .expect("recorded")
    }

    fn alerts(&self, kind: AlertKind) -> usize {
        self.consumer
            .alerts
            .recent()
            .iter()
            .filter(|alert| alert.kind == kind)
            .count()
    }
}

/// Now, as SNS writes an envelope's Timestamp.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn confirmation(topic_arn: &str) -> String {
    json!({
        "Type": "SubscriptionConfirmation", "MessageId": "c0a1b2c3-0000-4000-8000-000000000001",
        "Token": "2336412f37fb687f5d51e6e2425c464de12884", "TopicArn": topic_arn,
        "Message": "You have chosen to subscribe to the topic. To confirm, visit the SubscribeURL.",
        "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336",
        "Timestamp": now(), "SignatureVersion": "1", "Signature": "c2ln",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem"
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_is_confirmed_and_recorded_and_a_bad_one_is_retried() {
    let mut world = World::start(false, false).await;
    world.enqueue(&confirmation(&world.topic_arn)).await;
    assert!(world.deliver().await.is_empty());

    // A consumer configured with a topic that does not exist cannot confirm it: retried.
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic";
    world.consumer.acceptance.topic_arn = missing.to_owned();
    world.enqueue(&confirmation(missing)).await;
    let failed = world.deliver().await;

    assert_eq!(
        failed.len(),
        1,
        "the confirmation for a topic that does not exist fails"
    );
    assert_eq!(world.alerts(AlertKind::UnverifiedNotification), 0);
    let (subscription_arn, _) =
        catalog::confirmed_subscription(&world.dynamo, &world.table, &world.topic_arn)
            .await
            .unwrap()
            .expect("the confirmation is recorded");
    assert!(
        subscription_arn.starts_with(&world.topic_arn),
        "{subscription_arn}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_are_recorded_once_in_order_and_failures_alerted_once() {
    let mut world = World::start(false, false).await;
    // Given an upload that moves along, with a duplicate and a late older status,
    for status in ["INQUEUE", "INPROGRESS", "DONE"] {
        world
            .publish(json!({ "ingestionId": "ing-1", "processingStatus": status }))
            .await;
    }
    world
        .publish(json!({ "ingestionId": "ing-1", "processingStatus": "DONE" }))
        .await;
    world
        .publish(json!({ "ingestionId": "ing-1", "processingStatus": "INPROGRESS" }))
        .await;
    // and two that fail, one delivered twice, with fields we do not know.
    let fatal = json!({ "ingestionId": "ing-2", "processingStatus": "FATAL",
        "reportDownloadLink": "https://example.com/report-2", "errorCount": 3 });
    world.publish(fatal.clone()).await;
    world.publish(fatal).await;
    world
        .publish(json!({ "IngestionId": "ing-3", "status": "CANCELLED" }))
        .await;

    let failed = world.deliver().await;

    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(
        world.ingestion("ing-1").await.status,
        ProcessingStatus::Done
    );
    let ing2 = world.ingestion("ing-2").await;
    assert_eq!(
        (
            ing2.status,
            ing2.report_download_link.as_deref(),
            ing2.alerted
        ),
        (
            ProcessingStatus::Fatal,
            Some("https://example.com/report-2"),
            true
        )
    );
    assert_eq!(ing2.detail["errorCount"], 3, "unknown fields are kept");
    assert_eq!(
        world.ingestion("ing-3").await.status,
        ProcessingStatus::Cancelled
    );
    assert_eq!(world.alerts(AlertKind::CatalogIngestionFailed), 2);
    let alerts = world.consumer.alerts.recent();
    assert!(
        alerts
            .iter()
            .any(|a| a.detail.contains("https://example.com/report-2"))
    );

    // A late INQUEUE for a finished upload, days later, still changes nothing.
    world
        .publish(json!({ "ingestionId": "ing-2", "processingStatus": "INQUEUE" }))
        .await;
    assert!(world.deliver().await.is_empty());
    assert_eq!(
        world.ingestion("ing-2").await.status,
        ProcessingStatus::Fatal
    );
    assert_eq!(world.alerts(AlertKind::CatalogIngestionFailed), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_reported_failed_alerted_once_and_kept_for_the_dead_letter_queue() {
    let mut world = World::start(false, false).await;
    world.enqueue("not json at all").await;
    world
        .enqueue(
            &json!({ "Type": "Notification", "MessageId": "m-9", "TopicArn": world.topic_arn,
            "Message": "{\"nothing\": \"useful\"}", "Timestamp": now() })
            .to_string(),
        )
        .await;
    world
        .publish(json!({ "ingestionId": "ing-ok", "processingStatus": "DONE" }))
        .await;

    let first = world.deliver().await;
    let second = world.deliver().await;

    assert_eq!(first.len(), 2, "only the two unreadable messages fail");
    assert_eq!(second, first, "retried, not dropped");
    assert_eq!(
        world.alerts(AlertKind::UnreadableNotification),
        2,
        "alerted on the first delivery only"
    );
    assert_eq!(
        world.ingestion("ing-ok").await.status,
        ProcessingStatus::Done
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_raw_delivery_the_message_itself_is_read() {
    let mut world = World::start(true, false).await;
    world
        .publish(json!({ "ingestionId": "ing-raw", "processingStatus": "INPROGRESS" }))
        .await;
    assert!(world.deliver().await.is_empty());
    assert_eq!(
        world.ingestion("ing-raw").await.status,
        ProcessingStatus::InProgress
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_messages_signed_with_the_signing_certificate_are_acted_on() {
    let mut world = World::start(false, true).await;
    // Given a status as moto's SNS delivers it: its placeholder signature does not check out.
    world
        .publish(json!({ "ingestionId": "ing-signed", "processingStatus": "FATAL" }))
        .await;
    let unsigned = world.deliver().await;
    assert_eq!(unsigned.len(), 1);
    assert_eq!(world.alerts(AlertKind::UnverifiedNotification), 1);
    let delivered: serde_json::Value =
        serde_json::from_str(world.redeliveries[0].0.body.as_deref().unwrap()).unwrap();
    assert!(
        world
            .consumer
            .store
            .get_ingestion("ing-signed")
            .await
            .unwrap()
            .is_none(),
        "nothing is recorded from an unverified message"
    );

    // When the same envelope arrives signed with the key, and once more altered after signing,
    let signed = sign_sns(delivered, &sns_signing_key());
    world.enqueue(&signed.to_string()).await;
    let mut altered = signed.clone();
    altered["Message"] = altered["Message"]
        .as_str()
        .unwrap()
        .replace("FATAL", "DONE")
        .into();
    world.enqueue(&altered.to_string()).await;
    // and a subscription confirmation, signed.
    let confirmation: serde_json::Value =
        serde_json::from_str(&confirmation(&world.topic_arn)).unwrap();
    world
        .enqueue(&sign_sns(confirmation, &sns_signing_key()).to_string())
        .await;
    let failed = world.deliver().await;

    // Then the signed ones are acted on; the altered one and moto's are refused and kept.
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.contains(&unsigned[0]));
    assert_eq!(
        world.ingestion("ing-signed").await.status,
        ProcessingStatus::Fatal
    );
    assert!(
        catalog::confirmed_subscription(&world.dynamo, &world.table, &world.topic_arn)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        world.alerts(AlertKind::UnverifiedNotification),
        2,
        "one alert per refused message, on its first delivery"
    );
    assert_eq!(world.alerts(AlertKind::CatalogIngestionFailed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_signatures_verified_raw_delivery_is_refused_naming_it() {
    let mut world = World::start(true, true).await;
    world
        .publish(json!({ "ingestionId": "ing-raw-unsigned", "processingStatus": "DONE" }))
        .await;
    assert_eq!(world.deliver().await.len(), 1);
    let alerts = world.consumer.alerts.recent();
    let alert = alerts
        .iter()
        .find(|alert| alert.kind == AlertKind::UnverifiedNotification)
        .expect("alerted");
    assert!(
        alert
            .detail
            .contains("raw message delivery carries no signature"),
        "{}",
        alert.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_recent_messages_of_amazons_topic_are_acted_on_however_well_signed() {
    let mut world = World::start(false, true).await;
    // Given another topic of the same region sending to the same queue (SNS signs both with
    // the same certificate),
    let aws = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let other_topic = new_topic(&aws).await;
    subscribe_queue(&aws, &other_topic, &world.queue_url, false).await;
    world
        .sns
        .publish()
        .topic_arn(&other_topic)
        .message(json!({ "ingestionId": "ing-1", "processingStatus": "DONE" }).to_string())
        .send()
        .await
        .unwrap();
    world
        .publish(json!({ "ingestionId": "ing-1", "processingStatus": "FATAL" }))
        .await;
    // when both arrive signed, as SNS signs them, and Amazon's once more, published two days ago,
    let delivered = world.receive_all().await;
    assert_eq!(delivered.len(), 2);
    let mut signed: Vec<serde_json::Value> = delivered
        .into_iter()
        .map(|envelope| sign_sns(envelope, &sns_signing_key()))
        .collect();
    let mut old = signed
        .iter()
        .find(|envelope| envelope["TopicArn"] == world.topic_arn.as_str())
        .unwrap()
        .clone();
    old["Timestamp"] = (chrono::Utc::now() - chrono::Duration::days(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        .into();
    old["MessageId"] = "replayed".into();
    signed.push(sign_sns(old, &sns_signing_key()));
    for envelope in &signed {
        world.enqueue(&envelope.to_string()).await;
    }
    let failed = world.deliver().await;

    // then only Amazon's recent one is acted on: the FATAL stands, alerted once.
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(
        world.ingestion("ing-1").await.status,
        ProcessingStatus::Fatal
    );
    assert_eq!(world.alerts(AlertKind::CatalogIngestionFailed), 1);
    let alerts = world.consumer.alerts.recent();
    let refused: Vec<&str> = alerts
        .iter()
        .filter(|alert| alert.kind == AlertKind::UnverifiedNotification)
        .map(|alert| alert.detail.as_str())
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused
            .iter()
            .any(|detail| detail.contains(&format!("it comes from topic {other_topic}")))
    );
    assert!(
        refused
            .iter()
            .any(|detail| detail.contains("longer ago than SNS_MAX_MESSAGE_AGE_SECONDS"))
    );

    // And with version 2 required, a message signed with version 1 is refused too.
    world.consumer.acceptance.min_signature_version = 2;
    let mut v1 = signed
        .iter()
        .find(|envelope| envelope["TopicArn"] == world.topic_arn.as_str())
        .unwrap()
        .clone();
    v1["SignatureVersion"] = "1".into();
    world.enqueue(&v1.to_string()).await;
    world.redeliveries.clear();
    assert_eq!(world.deliver().await.len(), 1);
    assert!(world.consumer.alerts.recent().iter().any(|alert| {
        alert
            .detail
            .contains("SNS_MIN_SIGNATURE_VERSION asks for 2")
    }));
}
