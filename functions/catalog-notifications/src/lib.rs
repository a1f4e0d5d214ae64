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
//! unsigned message is refused like an unreadable one. SNS signs every topic of a region with
//! the same certificate, so a signature alone does not say whose topic a message is from: an
//! envelope is also refused unless it comes from Amazon's catalog topic, was published within
//! the age window, and has at least the SignatureVersion required ([`Acceptance`]).

pub mod lambda;

use chrono::{DateTime, Utc};
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

/// What an SNS envelope must be, besides signed, to be acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// Amazon's catalog topic (`SNS_TOPIC_ARN`), the only one whose messages count.
    pub topic_arn: String,
    /// `SNS_MAX_MESSAGE_AGE_SECONDS`: a message published longer ago is refused, so an old one
    /// cannot be replayed (a replay within the window changes nothing: statuses only advance).
    pub max_age: chrono::Duration,
    /// `SNS_MIN_SIGNATURE_VERSION`: 1 (SHA1withRSA or SHA256withRSA) or 2 (SHA256withRSA only).
    pub min_signature_version: u8,
}

/// How far ahead of our clock a message's Timestamp may be (clock skew), before it is refused.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

impl Acceptance {
    /// Messages of `topic_arn`, published within the last day, of either SignatureVersion.
    pub fn new(topic_arn: impl Into<String>) -> Acceptance {
        Acceptance {
            topic_arn: topic_arn.into(),
            max_age: chrono::Duration::seconds(i64::from(DEFAULT_MAX_AGE_SECONDS)),
            min_signature_version: 1,
        }
    }

    /// Why `envelope` is refused at `now`, if it is.
    pub fn check(&self, envelope: &SnsEnvelope, now: DateTime<Utc>) -> Result<(), String> {
        if envelope.topic_arn != self.topic_arn {
            return Err(format!(
                "it comes from topic {}, not from Amazon's catalog topic {} (SNS_TOPIC_ARN)",
                envelope.topic_arn, self.topic_arn
            ));
        }
        let version = envelope.signature_version.as_deref().unwrap_or("");
        if self.min_signature_version >= 2 && version != "2" {
            return Err(format!(
                "its SignatureVersion is '{version}', and SNS_MIN_SIGNATURE_VERSION asks for 2"
            ));
        }
        let published = DateTime::parse_from_rfc3339(&envelope.timestamp)
            .map_err(|_| format!("its Timestamp '{}' is not a time", envelope.timestamp))?
            .with_timezone(&Utc);
        if published < now - self.max_age {
            return Err(format!(
                "it was published at {}, longer ago than SNS_MAX_MESSAGE_AGE_SECONDS ({} s) allows; ask getCatalogUploadStatus for the upload's status",
                envelope.timestamp,
                self.max_age.num_seconds()
            ));
        }
        if published > now + CLOCK_SKEW {
            return Err(format!(
                "it was published at {}, ahead of our clock",
                envelope.timestamp
            ));
        }
        Ok(())
    }
}

/// `SNS_MAX_MESSAGE_AGE_SECONDS` when not set: a day.
pub const DEFAULT_MAX_AGE_SECONDS: u32 = 86_400;

pub struct CatalogNotifications<I, A, C, S> {
    /// Which envelopes are acted on.
    pub acceptance: Acceptance,
    pub store: I,
    pub alerts: A,
    pub subscriptions: C,
    /// Where signing certificates come from; `None`: signatures are not checked.
    pub signatures: Option<S>,
}

impl<I: IngestionStore, A: Alerts, C: Subscriptions, S: SigningCertificates>
    CatalogNotifications<I, A, C, S>
{
    pub fn new(
        acceptance: Acceptance,
        store: I,
        alerts: A,
        subscriptions: C,
        signatures: Option<S>,
    ) -> Self {
        CatalogNotifications {
            acceptance,
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
        // Checked before the signature: a refused message needs no certificate.
        if let Delivered::Envelope(envelope) = &delivered
            && let Err(reason) = self.acceptance.check(envelope, Utc::now())
        {
            return Err(self.refuse(message, reason, true).await);
        }
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
            "Catalog notification refused: not verified as Amazon's",
            "was refused: it is not verified as a recent message of Amazon's catalog topic",
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
    /// `SNS_TOPIC_ARN`, `SNS_MAX_MESSAGE_AGE_SECONDS`, `SNS_MIN_SIGNATURE_VERSION`.
    pub acceptance: Acceptance,
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
        let (catalog_table, alerts_topic_arn, topic_arn) = (
            required("CATALOG_TABLE"),
            required("ALERTS_TOPIC_ARN"),
            required("SNS_TOPIC_ARN"),
        );
        let max_age = settings
            .whole_number("SNS_MAX_MESSAGE_AGE_SECONDS", 60..=u32::MAX, "seconds")?
            .unwrap_or(DEFAULT_MAX_AGE_SECONDS);
        let min_signature_version = match present("SNS_MIN_SIGNATURE_VERSION").as_deref() {
            None | Some("1") => 1,
            Some("2") => 2,
            Some(other) => {
                return Err(format!(
                    "SNS_MIN_SIGNATURE_VERSION is '{other}': it must be 1 or 2"
                ));
            }
        };
        let (signatures, signing_certificate) = (
            present("SNS_SIGNATURES"),
            present("SNS_SIGNING_CERTIFICATE"),
        );
        Ok(LambdaSettings {
            call_timeouts,
            catalog_table: catalog_table?,
            alerts_topic_arn: alerts_topic_arn?,
            acceptance: Acceptance {
                topic_arn: topic_arn?,
                max_age: chrono::Duration::seconds(i64::from(max_age)),
                min_signature_version,
            },
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
                "SNS_MIN_SIGNATURE_VERSION" => Some("2".to_owned()),
                "SNS_MAX_MESSAGE_AGE_SECONDS" => Some("3600".to_owned()),
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
            "SNS_TOPIC_ARN" => Some(TOPIC.into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(settings.catalog_table, "catalog");
        assert_eq!(
            settings.acceptance,
            Acceptance::new(TOPIC),
            "a day, either version"
        );
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
                "SNS_MIN_SIGNATURE_VERSION" | "SNS_MAX_MESSAGE_AGE_SECONDS" => None,
                _ => Some("x".into()),
            })
        };
        assert!(!with_signatures("off").unwrap().verify_signatures);
        assert!(with_signatures("verify").unwrap().verify_signatures);
        assert_eq!(
            with_signatures("yes").unwrap_err(),
            "SNS_SIGNATURES is 'yes': it must be 'verify' or 'off'"
        );
        let with = |name: &'static str, value: &'static str| {
            LambdaSettings::from_lookup(move |asked| match asked {
                "CATALOG_TABLE" | "ALERTS_TOPIC_ARN" | "SNS_TOPIC_ARN" => Some(TOPIC.into()),
                _ if asked == name => Some(value.into()),
                _ => None,
            })
        };
        assert_eq!(
            with("SNS_MIN_SIGNATURE_VERSION", "3").unwrap_err(),
            "SNS_MIN_SIGNATURE_VERSION is '3': it must be 1 or 2"
        );
        assert_eq!(
            with("SNS_MIN_SIGNATURE_VERSION", "2")
                .unwrap()
                .acceptance
                .min_signature_version,
            2
        );
        assert!(
            with("SNS_MAX_MESSAGE_AGE_SECONDS", "10")
                .unwrap_err()
                .starts_with("SNS_MAX_MESSAGE_AGE_SECONDS: '10' is not a whole number")
        );
        assert!(
            LambdaSettings::from_lookup(|name| matches!(
                name,
                "CATALOG_TABLE" | "ALERTS_TOPIC_ARN"
            )
            .then(|| "x".into()))
            .unwrap_err()
            .contains("SNS_TOPIC_ARN is not set")
        );
    }

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:catalog-upload-results";

    fn envelope(topic: &str, version: &str, timestamp: &str) -> SnsEnvelope {
        serde_json::from_value(serde_json::json!({
            "Type": "Notification", "MessageId": "m", "TopicArn": topic,
            "Message": "{}", "Timestamp": timestamp, "SignatureVersion": version,
        }))
        .unwrap()
    }

    #[test]
    fn only_recent_messages_of_amazons_topic_with_the_version_asked_for_are_accepted() {
        let now: DateTime<Utc> = "2026-11-22T12:00:00Z".parse().unwrap();
        let accept = Acceptance::new(TOPIC);
        let check =
            |acceptance: &Acceptance, envelope: SnsEnvelope| acceptance.check(&envelope, now);
        assert_eq!(
            check(&accept, envelope(TOPIC, "1", "2026-11-22T11:59:00.000Z")),
            Ok(())
        );
        assert_eq!(
            check(&accept, envelope(TOPIC, "2", "2026-11-21T12:00:00.000Z")),
            Ok(())
        );
        let other = check(
            &accept,
            envelope(
                "arn:aws:sns:us-east-1:123456789012:other",
                "2",
                "2026-11-22T11:59:00Z",
            ),
        );
        assert!(
            other
                .unwrap_err()
                .contains("comes from topic arn:aws:sns:us-east-1:123456789012:other")
        );
        let old = check(&accept, envelope(TOPIC, "2", "2026-11-21T11:59:59Z")).unwrap_err();
        assert!(
            old.contains("longer ago than SNS_MAX_MESSAGE_AGE_SECONDS (86400 s)"),
            "{old}"
        );
        let ahead = check(&accept, envelope(TOPIC, "2", "2026-11-22T12:06:00Z")).unwrap_err();
        assert!(ahead.contains("ahead of our clock"), "{ahead}");
        assert!(
            check(&accept, envelope(TOPIC, "2", "yesterday"))
                .unwrap_err()
                .contains("is not a time")
        );
        let v2 = Acceptance {
            min_signature_version: 2,
            ..Acceptance::new(TOPIC)
        };
        assert_eq!(
            check(&v2, envelope(TOPIC, "2", "2026-11-22T11:59:00Z")),
            Ok(())
        );
        assert_eq!(
            check(&v2, envelope(TOPIC, "1", "2026-11-22T11:59:00Z")).unwrap_err(),
            "its SignatureVersion is '1', and SNS_MIN_SIGNATURE_VERSION asks for 2"
        );
    }
}
