//! The Checkout Service client (docs/contract.md §2): `POST {endpoint}/v1/checkout/carts`, SigV4
//! signed (`execute-api`, the endpoint's region), the exact body bytes, signed again for every
//! attempt. Transient failures (429, 5xx, timeouts, connection errors) are retried with
//! [`Backoff`] inside the caller's deadline; a 4xx never is. Each attempt that sent the cart
//! and got no answer is counted: after one, Amazon may have charged the trip.

use std::time::{Duration, Instant};

use super::signed_json::{Attempt, SignedJson, retry_after, with_retries};
use crate::pacer::Pacer;
use crate::retry::Backoff;
use aws_credential_types::provider::SharedCredentialsProvider;
use bytes::Bytes;
use jwo_domain::contract::checkout::{
    CheckoutErrorBody, CheckoutOutcome, CheckoutResponse, Submission,
};
use jwo_domain::ports::CheckoutService;

/// The Checkout Service's one route.
pub const CHECKOUT_PATH: &str = "/v1/checkout/carts";
/// Answers larger than this are not read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// A paced call is made only if its slot leaves it this long before the deadline.
const PACED_CALL_AT_LEAST: Duration = Duration::from_secs(1);

pub struct CheckoutClient {
    api: SignedJson,
    /// One attempt (connect, send, answer) may take this long.
    pub attempt_timeout: Duration,
    pub backoff: Backoff,
    /// Every attempt waits for a slot of this pace (the stack's `CheckoutCallsPerSecond`).
    pub pacer: Option<Pacer>,
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
            api: SignedJson::new(base, region, credentials)?,
            attempt_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
            pacer: None,
        })
    }

    async fn attempt(&self, body: &Bytes, timeout: Duration) -> Attempt<CheckoutOutcome> {
        match self
            .api
            .post(CHECKOUT_PATH, body, timeout, MAX_ANSWER_BYTES)
            .await
        {
            Ok((parts, answer)) => classify(&parts, &answer),
            Err(reason) => Attempt::unanswered(reason),
        }
    }
}

impl CheckoutService for CheckoutClient {
    /// Submits the exact `body` bytes, retrying transient failures until `deadline`.
    async fn submit(&self, body: &[u8], deadline: Instant) -> Submission {
        let body = &Bytes::copy_from_slice(body);
        let attempts = with_retries(
            "checkout",
            &self.backoff,
            self.attempt_timeout,
            deadline,
            |timeout| async move {
                if let Some(pacer) = &self.pacer {
                    let latest = deadline
                        .checked_sub(PACED_CALL_AT_LEAST)
                        .unwrap_or(deadline);
                    if !pacer.wait_until(latest).await {
                        // Nothing was sent, so the outcome stays known.
                        return Attempt::Transient {
                            reason: "the pace (CHECKOUT_CALLS_PER_SECOND) allows no call before the deadline".into(),
                            retry_after: None,
                            answered: true,
                        };
                    }
                }
                let timeout = timeout.min(deadline.saturating_duration_since(Instant::now()));
                self.attempt(body, timeout).await
            },
        )
        .await;
        let retry_after = attempts.retry_after;
        Submission {
            outcome: attempts.result.unwrap_or_else(|(attempts, last_error)| {
                CheckoutOutcome::GaveUp {
                    attempts,
                    last_error,
                    retry_after,
                }
            }),
            unanswered_attempts: attempts.unanswered,
        }
    }
}

/// What an answer means for the purchase.
fn classify(parts: &http::response::Parts, answer: &[u8]) -> Attempt<CheckoutOutcome> {
    let status = parts.status;
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
            // Accepted but unreadable: the trip may be charged, so the outcome is unknown until
            // a repeat is answered 201 with the orderId.
            _ => Attempt::unanswered(format!("{status} without an orderId: {}", text())),
        },
        // Any other 2xx says nothing we can record either.
        200..=299 => Attempt::unanswered(format!("{status} is not 201: {}", text())),
        // "Try later": the cart was not taken.
        429 | 503 => Attempt::Transient {
            reason: format!("{status}: {}", text()),
            retry_after: retry_after(parts),
            answered: true,
        },
        // A 500, or a gateway's 502/504: the service behind may have charged before it
        // failed, so the outcome is unknown (retried, but a later 4xx is no decline).
        500..=599 => Attempt::Transient {
            reason: format!("{status}: {}", text()),
            retry_after: retry_after(parts),
            answered: false,
        },
        403 => Attempt::Done(CheckoutOutcome::Forbidden { message: text() }),
        other => {
            let body: CheckoutErrorBody = serde_json::from_slice(answer).unwrap_or_default();
            Attempt::Done(CheckoutOutcome::Refused {
                status: other,
                code: body.code,
                message: body.message.unwrap_or_else(text),
            })
        }
    }
}
