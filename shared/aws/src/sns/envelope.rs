//! The SNS envelope that carries catalog notifications into our SQS queue (docs/contract.md §3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use jwo_domain::wire_enum;

wire_enum! {
    /// The envelope's `Type`.
    SnsMessageType {
        SubscriptionConfirmation = "SubscriptionConfirmation",
        Notification = "Notification",
        UnsubscribeConfirmation = "UnsubscribeConfirmation",
    }
}

/// An SNS message as delivered to SQS without raw delivery (the SQS body is this JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnsEnvelope {
    #[serde(rename = "Type")]
    pub message_type: SnsMessageType,
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    #[serde(rename = "Token", default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(rename = "Subject", default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(
        rename = "SubscribeURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subscribe_url: Option<String>,
    #[serde(
        rename = "UnsubscribeURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub unsubscribe_url: Option<String>,
    #[serde(
        rename = "SignatureVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub signature_version: Option<String>,
    #[serde(rename = "Signature", default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(
        rename = "SigningCertURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub signing_cert_url: Option<String>,
    /// Message attributes and anything SNS adds later, kept as they are.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_subscription_confirmation_and_a_notification() {
        let confirmation: SnsEnvelope = serde_json::from_str(
            r#"{"Type":"SubscriptionConfirmation","MessageId":"m-1","Token":"tok-123",
                "TopicArn":"arn:aws:sns:us-east-1:123456789012:catalog","Message":"You have chosen to subscribe",
                "SubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok-123",
                "Timestamp":"2024-03-22T17:09:39.000Z","SignatureVersion":"1","Signature":"c2ln",
                "SigningCertURL":"https://sns.us-east-1.amazonaws.com/cert.pem"}"#,
        )
        .unwrap();
        assert_eq!(
            confirmation.message_type,
            SnsMessageType::SubscriptionConfirmation
        );
        assert_eq!(confirmation.token.as_deref(), Some("tok-123"));

        let notification: SnsEnvelope = serde_json::from_str(
            r#"{"Type":"Notification","MessageId":"m-2","TopicArn":"arn:aws:sns:us-east-1:123456789012:catalog",
                "Message":"{\"ingestionId\":\"ing-1\",\"processingStatus\":\"DONE\"}","Timestamp":"2024-03-22T17:09:39.000Z",
                "MessageAttributes":{"kind":{"Type":"String","Value":"catalog"}},"SomethingNew":1}"#,
        )
        .unwrap();
        assert_eq!(notification.message_type, SnsMessageType::Notification);
        // Unknown members are kept, and written back.
        assert!(notification.other.contains_key("MessageAttributes"));
        let again = serde_json::to_value(&notification).unwrap();
        assert_eq!(again["SomethingNew"], 1);
        let message: jwo_domain::contract::catalog::IngestionNotification =
            serde_json::from_str(&notification.message).unwrap();
        assert_eq!(message.ingestion_id, "ing-1");
    }
}
