//! The SNS envelope that carries catalog notifications into our SQS queue (CONTRACT.md §3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::wire_enum;

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
