//! The Catalog API client (docs/contract.md §3): `POST {endpoint}/v1/catalog/upload` and
//! `.../getCatalogUploadStatus`, SigV4-signed (`execute-api`), never more than the allowed
//! calls a second (every attempt counts, retries included). Transient failures (429, 5xx,
//! timeouts, connection errors) are retried with [`Backoff`]; any other answer is final, and its
//! `errorMsg` is what the caller shows.

use std::time::{Duration, Instant};

use aws_credential_types::provider::SharedCredentialsProvider;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::signed_json::{Attempt, SignedJson, retry_after, with_retries};
use crate::retry::Backoff;
use jwo_domain::contract::catalog::{
    CatalogErrorBody, CatalogUploadRequest, CatalogUploadResponse, CatalogUploadStatusRequest,
    CatalogUploadStatusResponse, MAX_CALLS_PER_SECOND,
};

pub const UPLOAD_PATH: &str = "/v1/catalog/upload";
pub const STATUS_PATH: &str = "/v1/catalog/getCatalogUploadStatus";
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Added to the spacing of calls, so that network jitter cannot make calls that left a full
/// second apart arrive a little less than a second apart.
const PACING_MARGIN: Duration = Duration::from_millis(5);

/// Why a catalog call did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CatalogCallError {
    /// Amazon answered and refused (400, 403, 404...): not retried. `message` is the answer's
    /// `errorMsg`, or its text.
    #[error("{status}: {message}")]
    Refused { status: u16, message: String },
    /// Only transient failures, until the attempts ran out.
    #[error("gave up after {attempts} attempts: {last_error}")]
    GaveUp { attempts: u32, last_error: String },
}

/// Start times of calls, at most `per_second` in any second: each call starts at least
/// 1 s / `per_second` (plus a small margin) after the one before actually started.
pub struct Pacer {
    spacing: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl Pacer {
    pub fn new(per_second: u32) -> Pacer {
        Pacer {
            spacing: Duration::from_secs(1) / per_second.max(1) + PACING_MARGIN,
            next: tokio::sync::Mutex::new(Instant::now()),
        }
    }

    /// Waits for this call's turn.
    pub async fn wait(&self) {
        let mut next = self.next.lock().await;
        tokio::time::sleep_until((*next).into()).await;
        // A timer may wake late; the next turn counts from when this call really goes, not from
        // when it was due, or a late wake would squeeze the gap after it.
        *next = Instant::now() + self.spacing;
    }
}

/// An accepted upload call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    pub ingestion_id: String,
    /// Attempts before the accepted one that got no answer.
    pub unanswered_attempts: u32,
}

pub struct CatalogClient {
    api: SignedJson,
    pacer: Pacer,
    pub attempt_timeout: Duration,
    pub backoff: Backoff,
}

impl CatalogClient {
    /// `endpoint` is the Catalog API's base URL (from onboarding; `http://` for a local
    /// stand-in). At most `calls_per_second` calls (capped at the Catalog API's 10).
    pub fn new(
        endpoint: &str,
        region: &str,
        credentials: SharedCredentialsProvider,
        calls_per_second: u32,
    ) -> Result<CatalogClient, String> {
        let base =
            super::http::base_url(endpoint).map_err(|error| format!("catalog endpoint {error}"))?;
        Ok(CatalogClient {
            api: SignedJson::new(base, region, credentials)?,
            pacer: Pacer::new(calls_per_second.min(MAX_CALLS_PER_SECOND)),
            attempt_timeout: Duration::from_secs(30),
            backoff: Backoff {
                base: Duration::from_millis(200),
                cap: Duration::from_secs(10),
                max_attempts: 8,
            },
        })
    }

    /// Uploads one call's items; answers the `ingestionId`, and how many attempts before the
    /// accepted one got no answer (each may have made an ingestion Amazon did not tell us of:
    /// the Catalog API has no idempotency key).
    pub async fn upload(
        &self,
        request: &CatalogUploadRequest,
    ) -> Result<Uploaded, CatalogCallError> {
        let (answer, unanswered_attempts) = self
            .call::<_, CatalogUploadResponse>(UPLOAD_PATH, request)
            .await?;
        Ok(Uploaded {
            ingestion_id: answer.ingestion_id,
            unanswered_attempts,
        })
    }

    pub async fn status(
        &self,
        ingestion_id: &str,
    ) -> Result<CatalogUploadStatusResponse, CatalogCallError> {
        self.call(
            STATUS_PATH,
            &CatalogUploadStatusRequest {
                ingestion_id: ingestion_id.to_owned(),
            },
        )
        .await
        .map(|(status, _)| status)
    }

    /// The answer, and how many attempts before it got none.
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(T, u32), CatalogCallError> {
        let body = Bytes::from(serde_json::to_vec(body).expect("catalog requests serialize"));
        // A call is not worth more than this of retrying.
        let deadline = Instant::now() + Duration::from_secs(300);
        let attempts = with_retries(
            path,
            &self.backoff,
            self.attempt_timeout,
            deadline,
            |timeout| self.attempt(path, &body, timeout),
        )
        .await;
        match attempts.result {
            Ok(answer) => answer.map(|answer| (answer, attempts.unanswered)),
            Err((attempts, last_error)) => Err(CatalogCallError::GaveUp {
                attempts,
                last_error,
            }),
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Bytes,
        timeout: Duration,
    ) -> Attempt<Result<T, CatalogCallError>> {
        // Every attempt waits its turn: retries count against the rate too.
        self.pacer.wait().await;
        let (parts, answer) = match self.api.post(path, body, timeout, MAX_ANSWER_BYTES).await {
            Ok(exchange) => exchange,
            Err(reason) => return Attempt::unanswered(reason),
        };
        let status = parts.status.as_u16();
        let message = || match serde_json::from_slice::<CatalogErrorBody>(&answer) {
            Ok(body) => body.error_msg,
            Err(_) => String::from_utf8_lossy(&answer).chars().take(500).collect(),
        };
        match status {
            200..=299 => Attempt::Done(serde_json::from_slice::<T>(&answer).map_err(|error| {
                CatalogCallError::Refused {
                    status,
                    message: format!("unreadable answer ({error}): {}", message()),
                }
            })),
            429 | 500..=599 => Attempt::Transient {
                reason: format!("{status}: {}", message()),
                retry_after: retry_after(&parts),
                answered: true,
            },
            _ => Attempt::Done(Err(CatalogCallError::Refused {
                status,
                message: message(),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_pacer_spaces_calls_to_the_rate() {
        let pacer = Pacer::new(10);
        let started = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..11 {
            pacer.wait().await;
            starts.push(started.elapsed());
        }
        // Eleven calls at ten a second span more than a second.
        assert!(
            starts[10] - starts[0] > Duration::from_secs(1),
            "{starts:?}"
        );
        for pair in starts.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(100),
                "{starts:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_late_wake_does_not_squeeze_the_gap_after_it() {
        let pacer = Pacer::new(10);
        pacer.wait().await;
        // Given the runtime's only thread is busy when the second call is due (at ~105 ms), so
        // that call goes late, at ~140 ms or after...
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(90)).await;
            std::thread::sleep(Duration::from_millis(50));
        });
        pacer.wait().await;
        let second = Instant::now();
        // ...then the third still goes a full spacing after the second really went (a pacer
        // counting from when the second was due would let it go at ~210 ms, ~70 ms later).
        pacer.wait().await;
        let gap = second.elapsed();
        assert!(gap >= Duration::from_millis(100), "{gap:?}");
    }
}
