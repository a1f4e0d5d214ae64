//! Everything SNS in one place: the envelopes SNS delivers, their signatures and the certificates
//! that sign them, confirming a subscription, and publishing alerts to a topic. The ports here
//! are SNS's own, so they live beside their adapters rather than in the domain.

pub mod alerts;
pub mod certificates;
pub mod envelope;
pub mod signature;
pub mod subscriptions;

use std::future::Future;
use std::sync::Arc;

use thiserror::Error;

/// Confirms an SNS subscription (`sns:ConfirmSubscription`); answers the subscription ARN.
pub trait Subscriptions: Send + Sync + 'static {
    fn confirm(
        &self,
        topic_arn: &str,
        token: &str,
    ) -> impl Future<Output = Result<String, String>> + Send;
}

/// Why the certificate that signed an SNS message could not be had.
#[derive(Debug, Error)]
pub enum CertificateError {
    /// Not to be fetched at all (not SNS's own address): the message is refused.
    #[error(transparent)]
    Refused(#[from] signature::SignatureError),
    /// The fetch failed (network, an error answer): the message is tried again later.
    #[error("the signing certificate could not be fetched: {0}")]
    Unavailable(String),
}

/// Where the certificates that sign SNS messages come from (the message's `SigningCertURL`).
pub trait SigningCertificates: Send + Sync + 'static {
    /// The certificate, PEM.
    fn certificate(
        &self,
        url: &str,
    ) -> impl Future<Output = Result<Arc<[u8]>, CertificateError>> + Send;
}
