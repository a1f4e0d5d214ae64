//! The Lambda side: an SQS batch in, the messages to retry out (`batchItemFailures`, only
//! those), with one span per message id.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use jwo_aws::sns::{SigningCertificates, Subscriptions};
use jwo_domain::ports::{Alerts, IngestionStore};
use lambda_runtime::{Error, LambdaEvent};
use tracing::Instrument;

use crate::{CatalogNotifications, QueuedMessage};

pub async fn handle_event<
    I: IngestionStore,
    A: Alerts,
    C: Subscriptions,
    S: SigningCertificates,
>(
    service: &CatalogNotifications<I, A, C, S>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    Ok(handle_batch(service, event.payload).await)
}

/// A plain loop: each message handled, the ids of those that failed collected.
pub async fn handle_batch<
    I: IngestionStore,
    A: Alerts,
    C: Subscriptions,
    S: SigningCertificates,
>(
    service: &CatalogNotifications<I, A, C, S>,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("message", message_id = %message_id);
        let message = QueuedMessage {
            message_id: &message_id,
            body: record.body.as_deref().unwrap_or(""),
            first_delivery: record
                .attributes
                .get("ApproximateReceiveCount")
                .is_none_or(|count| count == "1"),
        };
        if let Err(error) = service.handle(message).instrument(span.clone()).await {
            span.in_scope(|| tracing::warn!(error = %error, "message to be retried"));
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}
