//! What the Checkout and Catalog clients share: one SigV4-signed JSON `POST` attempt (signed
//! for that attempt, never reusing an old signature), and retrying the transient ones with
//! [`Backoff`] inside a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use bytes::Bytes;
use http::Uri;
use http::header::RETRY_AFTER;

use super::http::HttpClient;
use crate::retry::{Backoff, NextStep, parse_retry_after, random_jitter};

/// One attempt's result, as the client classified the answer.
pub enum Attempt<T> {
    Done(T),
    /// Worth trying again. `answered`: the service answered (429, 5xx); otherwise the request
    /// may have been sent and its answer never came (a timeout, a dropped connection), and what
    /// the service did with it is unknown.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
        answered: bool,
    },
}

impl<T> Attempt<T> {
    /// No answer came.
    pub fn unanswered(reason: String) -> Attempt<T> {
        Attempt::Transient {
            reason,
            retry_after: None,
            answered: false,
        }
    }
}

/// How a run of attempts ended: what the last one found, and how many went unanswered.
pub struct Attempts<T> {
    pub result: Result<T, (u32, String)>,
    pub unanswered: u32,
    /// The last `Retry-After` the service asked for.
    pub retry_after: Option<Duration>,
}

/// Where the calls go and who signs them.
pub struct SignedJson {
    pub base: Uri,
    pub region: String,
    pub credentials: SharedCredentialsProvider,
    pub http: HttpClient,
}

impl SignedJson {
    pub fn new(
        base: Uri,
        region: &str,
        credentials: SharedCredentialsProvider,
    ) -> Result<SignedJson, String> {
        Ok(SignedJson {
            base,
            region: region.to_owned(),
            credentials,
            http: super::http::client()?,
        })
    }

    /// `POST {base}{path}` of `body`, signed now; the answer (at most `max_bytes`) within
    /// `timeout`. Every failure is a message: no credentials, no connection, no answer in time.
    pub async fn post(
        &self,
        path: &str,
        body: &Bytes,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<(http::response::Parts, Bytes), String> {
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|error| format!("no AWS credentials: {error}"))?;
        let request = super::http::json_post(
            &self.base,
            path,
            body.clone(),
            Some((&credentials, &self.region)),
        )?;
        super::http::exchange(&self.http, request, timeout, max_bytes).await
    }
}

/// The `Retry-After` an answer asks for (delay-seconds).
pub fn retry_after(parts: &http::response::Parts) -> Option<Duration> {
    parts
        .headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_retry_after)
}

/// Runs `attempt` until it is done, retrying transient results as `backoff` says within
/// `deadline`. Each attempt gets `attempt_timeout`, cut to the time left, so none runs past the
/// deadline; with no time left none is made. Gives up with (attempts made, the last reason).
pub async fn with_retries<T, A, F>(
    what: &str,
    backoff: &Backoff,
    attempt_timeout: Duration,
    deadline: Instant,
    mut attempt: A,
) -> Attempts<T>
where
    A: FnMut(Duration) -> F,
    F: Future<Output = Attempt<T>>,
{
    let mut attempts = 0;
    let mut unanswered = 0;
    let mut asked: Option<Duration> = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let reason = "no time left before the deadline".to_owned();
            return Attempts {
                result: Err((attempts, reason)),
                unanswered,
                retry_after: asked,
            };
        }
        attempts += 1;
        let (reason, retry_after) = match attempt(attempt_timeout.min(left)).await {
            Attempt::Done(done) => {
                return Attempts {
                    result: Ok(done),
                    unanswered,
                    retry_after: asked,
                };
            }
            Attempt::Transient {
                reason,
                retry_after,
                answered,
            } => {
                unanswered += u32::from(!answered);
                asked = retry_after;
                (reason, retry_after)
            }
        };
        match backoff.next_step(
            attempts,
            retry_after,
            deadline.saturating_duration_since(Instant::now()),
            attempt_timeout,
            random_jitter,
        ) {
            NextStep::RetryAfter(wait) => {
                tracing::warn!(call = what, attempt = attempts, wait_ms = wait.as_millis() as u64, %reason, "attempt failed; retrying");
                tokio::time::sleep(wait).await;
            }
            NextStep::GiveUp => {
                return Attempts {
                    result: Err((attempts, reason)),
                    unanswered,
                    retry_after: asked,
                };
            }
        }
    }
}
