//! Confirming an SNS subscription (`sns:ConfirmSubscription`): the catalog queue's
//! subscription to Amazon's topic is inactive until the token SNS sent is presented back.

use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;

use crate::sns::Subscriptions;

pub struct SnsSubscriptions {
    client: Client,
}

impl SnsSubscriptions {
    pub fn new(client: Client) -> SnsSubscriptions {
        SnsSubscriptions { client }
    }
}

impl Subscriptions for SnsSubscriptions {
    async fn confirm(&self, topic_arn: &str, token: &str) -> Result<String, String> {
        let confirmed = self
            .client
            .confirm_subscription()
            .topic_arn(topic_arn)
            .token(token)
            .send()
            .await
            .map_err(|error| format!("{}", DisplayErrorContext(&error)))?;
        // SNS answers the subscription ARN; "pending confirmation" is not an answer here.
        confirmed
            .subscription_arn
            .ok_or_else(|| "SNS confirmed without a subscription ARN".to_owned())
    }
}
