//! Alerts published to the SNS alerts topic (e-mail, pager, chat subscribe to it).

use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;

use jwo_domain::alerts::{Alert, AlertError};
use jwo_domain::ports::Alerts;

/// SNS subjects are at most 100 printable ASCII characters.
const MAX_SUBJECT: usize = 100;

pub struct SnsAlerts {
    client: Client,
    topic_arn: String,
}

impl SnsAlerts {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> SnsAlerts {
        SnsAlerts {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

fn subject(text: &str) -> String {
    let printable: String = text
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(MAX_SUBJECT)
        .collect();
    if printable.is_empty() {
        "Ordering connector alert".into()
    } else {
        printable
    }
}

impl Alerts for SnsAlerts {
    async fn publish(&self, alert: &Alert) -> Result<(), AlertError> {
        let message = serde_json::to_string_pretty(alert).expect("an alert always serializes");
        let kind = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(format!("{:?}", alert.kind))
            .build()
            .map_err(|error| AlertError(error.to_string()))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject(&alert.subject))
            .message(message)
            .message_attributes("kind", kind)
            .send()
            .await
            .map_err(|error| AlertError(format!("{}", DisplayErrorContext(&error))))?;
        tracing::info!(alert = ?alert.kind, purchase_id = alert.purchase_id.as_deref(), "alert published");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwo_domain::alerts::AlertKind;

    #[tokio::test]
    async fn alerts_arrive_at_a_queue_subscribed_to_the_topic() {
        let config = crate::sdk::emulator_sdk_config(jwo_test_support::moto_endpoint()).await;
        let sns = Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let (topic_arn, queue_url) = jwo_test_support::topic_with_queue(&config, false).await;

        let alert = Alert {
            kind: AlertKind::PurchaseBlocked,
            subject: "Purchase held back from checkout at store STORE-001".into(),
            detail: "cartItems[0].id (UnknownSku): no price book item has SKU 'X'".into(),
            purchase_id: Some("p-1".into()),
            store_id: Some("STORE-001".into()),
        };
        SnsAlerts::new(sns, &topic_arn)
            .publish(&alert)
            .await
            .unwrap();

        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .wait_time_seconds(5)
            .send()
            .await
            .unwrap();
        let message = &received.messages()[0];
        let envelope: crate::sns::envelope::SnsEnvelope =
            serde_json::from_str(message.body().unwrap()).unwrap();
        assert_eq!(envelope.subject.as_deref(), Some(alert.subject.as_str()));
        let delivered: Alert = serde_json::from_str(&envelope.message).unwrap();
        assert_eq!(delivered, alert);
    }

    #[tokio::test]
    async fn a_missing_topic_is_an_error_not_a_silent_drop() {
        let config = crate::sdk::emulator_sdk_config(jwo_test_support::moto_endpoint()).await;
        let alerts = SnsAlerts::new(
            Client::new(&config),
            "arn:aws:sns:us-east-1:123456789012:no-such-topic",
        );
        let alert = Alert {
            kind: AlertKind::CheckoutDeclined,
            subject: "x".into(),
            detail: String::new(),
            purchase_id: None,
            store_id: None,
        };
        assert!(alerts.publish(&alert).await.is_err());
    }

    #[test]
    fn subjects_fit_sns() {
        assert_eq!(
            subject("Purchase blocked: unknown SKU"),
            "Purchase blocked: unknown SKU"
        );
        assert_eq!(subject(&"x".repeat(150)).len(), 100);
        assert_eq!(subject("café\nline"), "caf??line");
        assert_eq!(subject(""), "Ordering connector alert");
    }
}
