//! Catalog notifications (docs/contract.md §3): Amazon publishes the results of catalog uploads to
//! an SNS topic it owns; our SQS queue is subscribed to it, and this function consumes the
//! queue.
//!
//! [`CatalogNotifications::handle`] is the whole behaviour for one queued message, generic over
//! the ingestion store, the alerts and the subscription confirmer:
//! - a **SubscriptionConfirmation** is confirmed with `sns:ConfirmSubscription` (TopicArn and
//!   Token) and recorded: without it no notification ever arrives;
//! - a **Notification** carries an ingestion's status, read tolerantly (unknown fields kept),
//!   recorded idempotently (a duplicate or an older status changes nothing), and alerted once
//!   when FATAL or CANCELLED;
//! - anything else that cannot be read is an error: the message is reported failed, retried,
//!   and lands in the dead-letter queue; it is alerted on its first delivery. Never dropped.
//!
//! With signatures verified (the default), an envelope is acted on only once its SNS signature
//! checks out against the certificate it names (fetched from SNS only); a forged, altered or
//! unsigned message is refused like an unreadable one.

pub mod lambda;

use chrono::Utc;
use jwo_aws::sns::certificates::SnsCertificates;
use jwo_aws::sns::envelope::{SnsEnvelope, SnsMessageType};
use jwo_aws::sns::{CertificateError, SigningCertificates, Subscriptions, signature};
use jwo_domain::alerts::{Alert, AlertError, AlertKind};
use jwo_domain::catalog::ingestion::{Ingestion, StatusRecorded};
use jwo_domain::contract::catalog::IngestionNotification;
use jwo_domain::ports::{Alerts, IngestionStore};
use jwo_domain::store::StoreError;
use thiserror::Error;

/// One message as the queue delivered it.
#[derive(Debug, Clone, Copy)]
pub struct QueuedMessage<'a> {
    /// The SQS message id.
    pub message_id: &'a str,
    pub body: &'a str,
    /// The first delivery of this message (SQS `ApproximateReceiveCount` 1): alerts about an
    /// unreadable message go out once, not on every retry.
    pub first_delivery: bool,
}

/// What a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    SubscriptionConfirmed {
        topic_arn: String,
        subscription_arn: String,
    },
    Status {
        ingestion_id: String,
        /// False for a duplicate or a late older status: nothing changed.
        advanced: bool,
        alerted: bool,
    },
    /// Nothing to do (an UnsubscribeConfirmation).
    Ignored(&'static str),
}

/// Why a message must be retried (and, past the queue's receive limit, dead-lettered).
#[derive(Debug, Error)]
pub enum NotificationError {
    #[error("unreadable message: {0}")]
    Unreadable(String),
    #[error("refused message: {0}")]
    Unverified(String),
    #[error(transparent)]
    Certificate(CertificateError),
    #[error("the subscription to {topic_arn} could not be confirmed: {reason}")]
    Confirm { topic_arn: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Alert(#[from] AlertError),
}

/// What a message says, once read.
#[derive(Debug)]
enum Message {
    Confirm { topic_arn: String, token: String },
    Status(IngestionNotification),
    Ignore(&'static str),
}

/// A queued body: an SNS envelope (raw delivery off), or the notification itself (raw delivery
/// on, which carries no signature).
#[derive(Debug)]
enum Delivered {
    Envelope(Box<SnsEnvelope>),
    Raw(IngestionNotification),
}

fn read(body: &str) -> Result<Delivered, String> {
    let envelope_error = match serde_json::from_str::<SnsEnvelope>(body) {
        Ok(envelope) => return Ok(Delivered::Envelope(Box::new(envelope))),
        Err(error) => error,
    };
    serde_json::from_str::<IngestionNotification>(body)
        .map(Delivered::Raw)
        .map_err(|raw_error| {
            format!(
                "neither an SNS envelope ({envelope_error}) nor an ingestion status ({raw_error})"
            )
        })
}

/// What a delivered message asks for.
fn meaning(delivered: Delivered) -> Result<Message, String> {
    let envelope = match delivered {
        Delivered::Raw(notification) => return Ok(Message::Status(notification)),
        Delivered::Envelope(envelope) => *envelope,
    };
    match envelope.message_type {
        SnsMessageType::SubscriptionConfirmation => match envelope.token {
            Some(token) if !token.is_empty() => Ok(Message::Confirm {
                topic_arn: envelope.topic_arn,
                token,
            }),
            _ => Err("a SubscriptionConfirmation without a Token".into()),
        },
        SnsMessageType::Notification => {
            serde_json::from_str::<IngestionNotification>(&envelope.message)
                .map(Message::Status)
                .map_err(|error| {
                    format!("the Notification's Message is not an ingestion status: {error}")
                })
        }
        SnsMessageType::UnsubscribeConfirmation => {
            Ok(Message::Ignore("an UnsubscribeConfirmation"))
        }
    }
}

pub struct CatalogNotifications<I, A, C, S> {
    pub store: I,
    pub alerts: A,
    pub subscriptions: C,
    /// Where signing certificates come from; `None`: signatures are not checked.
    pub signatures: Option<S>,
}

impl<I: IngestionStore, A: Alerts, C: Subscriptions, S: SigningCertificates>
    CatalogNotifications<I, A, C, S>
{
    pub fn new(store: I, alerts: A, subscriptions: C, signatures: Option<S>) -> Self {
        CatalogNotifications {
            store,
            alerts,
            subscriptions,
            signatures,
        }
    }

    pub async fn handle(&self, message: QueuedMessage<'_>) -> Result<Handled, NotificationError> {
        let delivered = match read(message.body) {
            Ok(delivered) => delivered,
            Err(reason) => return Err(self.refuse(message, reason, false).await),
        };
        if let Some(certificates) = &self.signatures
            && let Err(error) = verify(certificates, &delivered).await
        {
            return Err(match error {
                CertificateError::Refused(reason) => {
                    self.refuse(message, reason.to_string(), true).await
                }
                unavailable => NotificationError::Certificate(unavailable),
            });
        }
        match meaning(delivered) {
            Ok(Message::Confirm { topic_arn, token }) => {
                let subscription_arn = self
                    .subscriptions
                    .confirm(&topic_arn, &token)
                    .await
                    .map_err(|reason| NotificationError::Confirm {
                        topic_arn: topic_arn.clone(),
                        reason,
                    })?;
                self.store
                    .record_subscription(&topic_arn, &subscription_arn)
                    .await?;
                tracing::info!(%topic_arn, %subscription_arn, "subscription confirmed");
                Ok(Handled::SubscriptionConfirmed {
                    topic_arn,
                    subscription_arn,
                })
            }
            Ok(Message::Status(notification)) => self.record(message, notification).await,
            Ok(Message::Ignore(what)) => {
                tracing::info!(what, "nothing to do");
                Ok(Handled::Ignored(what))
            }
            Err(reason) => Err(self.refuse(message, reason, false).await),
        }
    }

    /// A message that cannot be acted on: alerted on its first delivery, then retried and
    /// dead-lettered.
    async fn refuse(
        &self,
        message: QueuedMessage<'_>,
        reason: String,
        unverified: bool,
    ) -> NotificationError {
        if message.first_delivery {
            let alert = refused_alert(message, &reason, unverified);
            if let Err(error) = self.alerts.publish(&alert).await {
                tracing::error!(error = %error, "refused-message alert not published");
            }
        }
        if unverified {
            NotificationError::Unverified(reason)
        } else {
            NotificationError::Unreadable(reason)
        }
    }

    async fn record(
        &self,
        message: QueuedMessage<'_>,
        notification: IngestionNotification,
    ) -> Result<Handled, NotificationError> {
        let update = Ingestion {
            ingestion_id: notification.ingestion_id,
            status: notification.processing_status,
            report_download_link: notification.report_download_link,
            message_id: Some(message.message_id.to_owned()),
            detail: notification.other,
            alerted: false,
            updated_at: Utc::now(),
            upload: None,
        };
        let (stored, advanced) = match self.store.record_status(&update).await? {
            StatusRecorded::Advanced(stored) => (stored, true),
            StatusRecorded::Unchanged(stored) => (stored, false),
        };
        tracing::info!(ingestion_id = %stored.ingestion_id, status = %update.status, stored = %stored.status, advanced, "ingestion status");
        // Checked on what is stored, so an alert that failed before goes out on the retry.
        let alerted = stored.status.needs_attention() && !stored.alerted;
        if alerted {
            self.alerts.publish(&failed_alert(&stored)).await?;
            self.store.mark_alerted(&stored.ingestion_id).await?;
        }
        Ok(Handled::Status {
            ingestion_id: stored.ingestion_id,
            advanced,
            alerted,
        })
    }
}

fn failed_alert(ingestion: &Ingestion) -> Alert {
    let report = ingestion
        .report_download_link
        .as_deref()
        .map_or(String::from("no report link was given"), |link| {
            format!("the report is at {link}")
        });
    Alert {
        kind: AlertKind::CatalogIngestionFailed,
        subject: format!(
            "Catalog upload {} ended {}",
            ingestion.ingestion_id, ingestion.status
        ),
        detail: format!(
            "Amazon reports catalog upload (ingestion) {} as {}: its items are not in Amazon's catalog, and carts with them may not be recognised. {report}. Fix the rows it names and upload again.",
            ingestion.ingestion_id, ingestion.status
        ),
        purchase_id: None,
        store_id: None,
    }
}

/// The signature of a delivered message, checked against the certificate it names.
async fn verify<S: SigningCertificates>(
    certificates: &S,
    delivered: &Delivered,
) -> Result<(), CertificateError> {
    let envelope = match delivered {
        Delivered::Envelope(envelope) => envelope,
        Delivered::Raw(_) => {
            return Err(CertificateError::Refused(
                signature::SignatureError::Missing(
                    "SNS envelope (raw message delivery carries no signature: turn it off for the subscription, or set SNS_SIGNATURES=off)",
                ),
            ));
        }
    };
    let url = envelope
        .signing_cert_url
        .as_deref()
        .ok_or(signature::SignatureError::Missing("SigningCertURL"))?;
    let certificate = certificates.certificate(url).await?;
    Ok(signature::verify(envelope, &certificate)?)
}

fn refused_alert(message: QueuedMessage<'_>, reason: &str, unverified: bool) -> Alert {
    let excerpt: String = message.body.chars().take(500).collect();
    let (kind, subject, what) = if unverified {
        (
            AlertKind::UnverifiedNotification,
            "Catalog notification with a bad SNS signature",
            "was refused: its SNS signature does not check out",
        )
    } else {
        (
            AlertKind::UnreadableNotification,
            "Unreadable catalog notification",
            "could not be read",
        )
    };
    Alert {
        kind,
        subject: subject.into(),
        detail: format!(
            "SQS message {} {what} ({reason}). It is kept: retried, then moved to the dead-letter queue. It begins: {excerpt}",
            message.message_id
        ),
        purchase_id: None,
        store_id: None,
    }
}

/// The Lambda's settings, read once at cold start; a missing one stops the start, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaSettings {
    /// `AWS_CALL_ATTEMPT_TIMEOUT_MS`, `AWS_CALL_TIMEOUT_MS`: how long an AWS call may take.
    pub call_timeouts: jwo_aws::sdk::CallTimeouts,
    /// `CATALOG_TABLE`: the DynamoDB table of ingestions and the subscription.
    pub catalog_table: String,
    /// `ALERTS_TOPIC_ARN`: the SNS topic alerts go to.
    pub alerts_topic_arn: String,
    /// `SNS_SIGNATURES`: `verify` (the default) or `off`.
    pub verify_signatures: bool,
    /// `SNS_SIGNING_CERTIFICATE`: a local PEM file that signs every message, instead of the
    /// certificate each message names (fetched from SNS). For tests.
    pub signing_certificate: Option<std::path::PathBuf>,
}

impl LambdaSettings {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LambdaSettings, String> {
        let settings = jwo_aws::settings::Settings::new(get);
        let call_timeouts = jwo_aws::sdk::CallTimeouts::from_settings(&settings)?;
        let required = |name: &str| settings.required(name);
        let present = |name: &str| settings.optional(name);
        let (catalog_table, alerts_topic_arn) =
            (required("CATALOG_TABLE"), required("ALERTS_TOPIC_ARN"));
        let (signatures, signing_certificate) = (
            present("SNS_SIGNATURES"),
            present("SNS_SIGNING_CERTIFICATE"),
        );
        Ok(LambdaSettings {
            call_timeouts,
            catalog_table: catalog_table?,
            alerts_topic_arn: alerts_topic_arn?,
            verify_signatures: match signatures.as_deref().map(str::trim) {
                None | Some("verify") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(format!(
                        "SNS_SIGNATURES is '{other}': it must be 'verify' or 'off'"
                    ));
                }
            },
            signing_certificate: signing_certificate.map(Into::into),
        })
    }

    /// Where signing certificates come from, or `None` when signatures are not checked.
    pub fn signing_certificates(&self) -> Result<Option<SnsCertificates>, String> {
        if !self.verify_signatures {
            return Ok(None);
        }
        match &self.signing_certificate {
            Some(path) => SnsCertificates::file(path).map(Some),
            None => SnsCertificates::from_sns().map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_envelopes_raw_messages_and_refuses_the_rest() {
        let confirm = r#"{"Type":"SubscriptionConfirmation","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"confirm","Timestamp":"2026-01-01T00:00:00Z","Token":"tok"}"#;
        let read = |body: &str| super::read(body).and_then(meaning);
        assert!(matches!(read(confirm), Ok(Message::Confirm { ref token, .. }) if token == "tok"));
        let no_token = confirm.replace(r#","Token":"tok""#, "");
        assert!(read(&no_token).unwrap_err().contains("without a Token"));
        let raw = r#"{"ingestionId":"i-1","processingStatus":"DONE","extra":1}"#;
        assert!(matches!(read(raw), Ok(Message::Status(ref n)) if n.other.contains_key("extra")));
        let garbage = read("not json").unwrap_err();
        assert!(garbage.starts_with("neither an SNS envelope"), "{garbage}");
        let bad_inner = r#"{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"{}","Timestamp":"x"}"#;
        assert!(
            read(bad_inner)
                .unwrap_err()
                .contains("not an ingestion status")
        );
    }

    #[test]
    fn the_environment_list_is_what_is_read() {
        jwo_aws::testing::assert_settings_follow_manifest(
            &jwo_aws::functions::CATALOG_NOTIFICATIONS,
            |get| LambdaSettings::from_lookup(get).map(|_| ()),
            |name| match name {
                "SNS_SIGNATURES" => Some("verify".to_owned()),
                "AWS_CALL_ATTEMPT_TIMEOUT_MS" | "AWS_CALL_TIMEOUT_MS" => Some("1000".to_owned()),
                "SNS_SIGNING_CERTIFICATE" => Some(
                    jwo_test_support::sns_signing_certificate()
                        .display()
                        .to_string(),
                ),
                _ => Some("x".to_owned()),
            },
        );
    }

    #[test]
    fn settings_name_what_is_missing() {
        let settings = LambdaSettings::from_lookup(|name| match name {
            "CATALOG_TABLE" => Some("catalog".into()),
            "ALERTS_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:1:alerts".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(settings.catalog_table, "catalog");
        assert!(settings.verify_signatures, "verified unless turned off");
        assert_eq!(settings.signing_certificate, None);
        assert_eq!(
            LambdaSettings::from_lookup(|_| None).unwrap_err(),
            "CATALOG_TABLE is not set"
        );
        let with_signatures = |value: &'static str| {
            LambdaSettings::from_lookup(move |name| match name {
                "SNS_SIGNATURES" => Some(value.into()),
                "AWS_CALL_ATTEMPT_TIMEOUT_MS" | "AWS_CALL_TIMEOUT_MS" => Some("1000".into()),
                _ => Some("x".into()),
            })
        };
        assert!(!with_signatures("off").unwrap().verify_signatures);
        assert!(with_signatures("verify").unwrap().verify_signatures);
        assert_eq!(
            with_signatures("yes").unwrap_err(),
            "SNS_SIGNATURES is 'yes': it must be 'verify' or 'off'"
        );
    }
}
