//! The Checkout Service client (CONTRACT.md §2): `POST {endpoint}/v1/checkout/carts`, SigV4
//! signed (`execute-api`, the endpoint's region), the exact body bytes, signed again for every
//! attempt. Transient failures (429, 5xx, timeouts, connection errors) are retried with
//! [`Backoff`] inside the caller's deadline; a 400 or 403 never is.

use std::time::{Duration, Instant};

use super::http::HttpClient;
use crate::contract::checkout::{CheckoutErrorBody, CheckoutResponse};
use crate::retry::{Backoff, NextStep, parse_retry_after, random_jitter};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use bytes::Bytes;
use http::header::RETRY_AFTER;
use http::{HeaderValue, StatusCode, Uri};

/// The Checkout Service's one route.
pub const CHECKOUT_PATH: &str = "/v1/checkout/carts";
/// Answers larger than this are not read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// How a submission ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutOutcome {
    /// 201: the cart is accepted (or was already, for a repeat of the trip).
    Accepted { order_id: String },
    /// 400: Amazon refused the cart. Not retried; it needs a person.
    Declined {
        code: Option<String>,
        message: String,
    },
    /// 403: signing or allowlisting is wrong. Not retried now; the purchase stays Open.
    Forbidden { message: String },
    /// Only transient failures, until the attempts or the time ran out. Retry later.
    GaveUp { attempts: u32, last_error: String },
}

/// One attempt's result.
enum Attempt {
    Done(CheckoutOutcome),
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
}

pub struct CheckoutClient {
    base: Uri,
    region: String,
    credentials: SharedCredentialsProvider,
    http: HttpClient,
    /// One attempt (connect, send, answer) may take this long.
    pub attempt_timeout: Duration,
    pub backoff: Backoff,
}

impl CheckoutClient {
    /// `endpoint` is the base URL from configuration (`CHECKOUT_ENDPOINT`), for example
    /// `https://us-east-1.test.checkout.amazonphysicalstores.com`; test and live differ only
    /// there. Plain `http://` is accepted for local stand-ins.
    pub fn new(
        endpoint: &str,
        region: &str,
        credentials: SharedCredentialsProvider,
    ) -> Result<CheckoutClient, String> {
        let base = super::http::base_url(endpoint)
            .map_err(|error| format!("checkout endpoint {error}"))?;
        Ok(CheckoutClient {
            base,
            region: region.to_owned(),
            credentials,
            http: super::http::client()?,
            attempt_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
        })
    }

    /// Submits the exact `body` bytes, retrying transient failures until `deadline`.
    pub async fn submit(&self, body: &[u8], deadline: Instant) -> CheckoutOutcome {
        let body = Bytes::copy_from_slice(body);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (reason, retry_after) = match self.attempt(&body).await {
                Attempt::Done(outcome) => return outcome,
                Attempt::Transient {
                    reason,
                    retry_after,
                } => (reason, retry_after),
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.backoff.next_step(
                attempts,
                retry_after,
                remaining,
                self.attempt_timeout,
                random_jitter,
            ) {
                NextStep::RetryAfter(wait) => {
                    tracing::warn!(attempt = attempts, wait_ms = wait.as_millis() as u64, %reason, "checkout attempt failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                NextStep::GiveUp => {
                    return CheckoutOutcome::GaveUp {
                        attempts,
                        last_error: reason,
                    };
                }
            }
        }
    }

    async fn attempt(&self, body: &Bytes) -> Attempt {
        let transient = |reason: String| Attempt::Transient {
            reason,
            retry_after: None,
        };
        let credentials = match self.credentials.provide_credentials().await {
            Ok(credentials) => credentials,
            Err(error) => return transient(format!("no AWS credentials: {error}")),
        };
        // Signed now, for this attempt: a retry never reuses an old signature.
        let request = match super::http::json_post(
            &self.base,
            CHECKOUT_PATH,
            body.clone(),
            Some((&credentials, &self.region)),
        ) {
            Ok(request) => request,
            Err(error) => return transient(error),
        };
        let (parts, answer) = match super::http::exchange(
            &self.http,
            request,
            self.attempt_timeout,
            MAX_ANSWER_BYTES,
        )
        .await
        {
            Ok(exchange) => exchange,
            Err(reason) => return transient(reason),
        };
        classify(parts.status, parts.headers.get(RETRY_AFTER), &answer)
    }
}

/// What an answer means for the purchase.
fn classify(status: StatusCode, retry_after: Option<&HeaderValue>, answer: &[u8]) -> Attempt {
    let text = || {
        String::from_utf8_lossy(answer)
            .chars()
            .take(500)
            .collect::<String>()
    };
    match status.as_u16() {
        200 | 201 => match serde_json::from_slice::<CheckoutResponse>(answer) {
            Ok(accepted) if !accepted.order_id.is_empty() => {
                Attempt::Done(CheckoutOutcome::Accepted {
                    order_id: accepted.order_id,
                })
            }
            // Accepted but unreadable: submitting again is safe (Amazon answers a repeat of the
            // trip with the same orderId), so find out by retrying.
            _ => Attempt::Transient {
                reason: format!("{status} without an orderId: {}", text()),
                retry_after: None,
            },
        },
        429 | 500..=599 => Attempt::Transient {
            reason: format!("{status}: {}", text()),
            retry_after: retry_after
                .and_then(|value| value.to_str().ok())
                .and_then(parse_retry_after),
        },
        403 => Attempt::Done(CheckoutOutcome::Forbidden { message: text() }),
        _ => {
            let body: CheckoutErrorBody = serde_json::from_slice(answer).unwrap_or_default();
            Attempt::Done(CheckoutOutcome::Declined {
                code: body.code,
                message: body
                    .message
                    .unwrap_or_else(|| format!("{status}: {}", text())),
            })
        }
    }
}
