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
use crate::pacer::Pacer;
use crate::retry::Backoff;
use jwo_domain::contract::catalog::{
    CatalogErrorBody, CatalogUploadRequest, CatalogUploadResponse, CatalogUploadStatusRequest,
    CatalogUploadStatusResponse, MAX_CALLS_PER_SECOND,
};

pub const UPLOAD_PATH: &str = "/v1/catalog/upload";
pub const STATUS_PATH: &str = "/v1/catalog/getCatalogUploadStatus";
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

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
