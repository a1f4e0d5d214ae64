//! A stand-in for Amazon's Catalog API (docs/contract.md §3), for tests and local trials of
//! `jwo catalog upload` / `status`: it holds callers to the published limits (10,000 items a
//! call, 10 calls a second, SigV4), answers `{"errorMsg": ...}` like the real one, injects
//! faults on request, moves each ingestion INQUEUE → INPROGRESS → DONE one step per status
//! poll, and counts everything (`GET /_catalog/stats`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use http::HeaderMap;
use jwo_aws::amazon::catalog_client::{STATUS_PATH, UPLOAD_PATH};
use jwo_domain::contract::catalog::{
    CatalogUploadRequest, CatalogUploadStatusRequest, MAX_CALLS_PER_SECOND, MAX_ITEMS_PER_UPLOAD,
    ProcessingStatus,
};
use serde::Serialize;
use serde_json::json;

use crate::simulator::{Answer, Faults, InjectedFault};

pub struct CatalogApiConfig {
    pub region: String,
    /// Keys whose signatures are verified. Empty: signatures are required but not verified
    /// (a caller with temporary credentials from STS, whose secret the stand-in cannot know);
    /// their access keys are recorded.
    pub credentials: Vec<Credentials>,
    pub faults: Faults,
}

/// One call as the stand-in saw it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    pub path: String,
    /// Milliseconds since the stand-in started.
    pub at_ms: u64,
    pub status: u16,
    pub items: usize,
    pub access_key: Option<String>,
    /// Whether it carried `X-Amz-Security-Token` (temporary credentials, as after AssumeRole).
    pub session_token: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogStats {
    pub calls: Vec<Call>,
    /// Uploads accepted: one ingestion each.
    pub ingestions: usize,
    /// Catalog items accepted, over all uploads.
    pub items: usize,
    /// The most calls that arrived within any one second.
    pub max_calls_in_a_second: usize,
    /// Calls refused with 429 for going over 10 a second.
    pub rate_limited: u64,
    pub signature_failures: u64,
    pub faults_injected: u64,
    /// Uploads accepted whose answer was lost (`Faults::lose_answer_every`).
    pub answers_lost: u64,
}

struct Ingestion {
    polls: u32,
}

#[derive(Default)]
struct State {
    stats: CatalogStats,
    /// Arrival times of the calls of the last second.
    recent: VecDeque<Instant>,
    ingestions: HashMap<String, Ingestion>,
}

pub struct CatalogApi {
    config: CatalogApiConfig,
    started: Instant,
    state: Mutex<State>,
}

fn error(status: u16, message: impl Into<String>) -> Answer {
    Answer::json(status, json!({ "errorMsg": message.into() }))
}

impl CatalogApi {
    pub fn new(config: CatalogApiConfig) -> CatalogApi {
        CatalogApi {
            config,
            started: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    pub fn stats(&self) -> CatalogStats {
        self.lock().stats.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        crate::simulator::lock(&self.state)
    }

    /// Either call: the checks every call gets, then the operation.
    pub async fn call(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> Answer {
        let arrived = Instant::now();
        let mut call = Call {
            path: path.to_owned(),
            at_ms: arrived.duration_since(self.started).as_millis() as u64,
            status: 0,
            items: 0,
            access_key: None,
            session_token: headers.contains_key("x-amz-security-token"),
        };
        let answer = self.answer(path, headers, body, arrived, &mut call).await;
        call.status = answer.status;
        self.lock().stats.calls.push(call);
        answer
    }

    async fn answer(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
        arrived: Instant,
        call: &mut Call,
    ) -> Answer {
        // Every call counts against the rate, refused ones too, as at a real API's front door.
        {
            let mut state = self.lock();
            while state
                .recent
                .front()
                .is_some_and(|at| arrived.duration_since(*at) >= Duration::from_secs(1))
            {
                state.recent.pop_front();
            }
            state.recent.push_back(arrived);
            let in_this_second = state.recent.len();
            state.stats.max_calls_in_a_second =
                state.stats.max_calls_in_a_second.max(in_this_second);
            if in_this_second > MAX_CALLS_PER_SECOND as usize {
                state.stats.rate_limited += 1;
                return error(429, "Rate exceeded: at most 10 calls a second");
            }
        }
        match self.check_signature(path, headers, body) {
            Ok(access_key) => call.access_key = Some(access_key),
            Err(message) => {
                self.lock().stats.signature_failures += 1;
                return error(403, message);
            }
        }
        if let Some(fault) = self.config.faults.inject().await {
            self.lock().stats.faults_injected += 1;
            return match fault {
                InjectedFault::Timeout => error(504, "injected timeout"),
                InjectedFault::Status(status, retry_after) => {
                    let mut answer = error(status, format!("injected {status}"));
                    answer.headers.extend(retry_after);
                    answer
                }
            };
        }
        match path {
            UPLOAD_PATH => {
                let answer = self.upload(body, call);
                let every = self.config.faults.lose_answer_every;
                let accepted = self.lock().stats.ingestions;
                if answer.status == 200 && every > 0 && accepted.is_multiple_of(every as usize) {
                    // The ingestion is made; its answer is lost (it waits past the caller).
                    self.lock().stats.answers_lost += 1;
                    tokio::time::sleep(self.config.faults.hang).await;
                }
                answer
            }
            STATUS_PATH => self.status(body),
            other => error(404, format!("no operation at {other}")),
        }
    }

    fn check_signature(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<String, String> {
        let authorization = headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .ok_or("Missing Authentication Token")?;
        if self.config.credentials.is_empty() {
            let access_key = authorization
                .split("Credential=")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .ok_or("the Authorization header names no credential")?;
            return Ok(access_key.to_owned());
        }
        crate::simulator::verify_signature(
            &self.config.credentials,
            &self.config.region,
            path,
            headers,
            body,
        )
        .map_err(|error| format!("The request signature is not valid: {error}"))
    }

    fn upload(&self, body: &[u8], call: &mut Call) -> Answer {
        let request: CatalogUploadRequest = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(problem) => return error(400, format!("Invalid request body: {problem}")),
        };
        call.items = request.catalog_items.len();
        if request.catalog_items.is_empty() {
            return error(400, "catalogItems must not be empty");
        }
        if request.catalog_items.len() > MAX_ITEMS_PER_UPLOAD {
            return error(
                400,
                format!(
                    "catalogItems holds {} items; at most {MAX_ITEMS_PER_UPLOAD} a call",
                    request.catalog_items.len()
                ),
            );
        }
        for (index, item) in request.catalog_items.iter().enumerate() {
            if item.item_sku.is_empty() || item.store_id.is_empty() {
                return error(
                    400,
                    format!("catalogItems[{index}]: item_sku and store_id are required"),
                );
            }
            if item
                .standard_price
                .parse::<rust_decimal::Decimal>()
                .is_err()
            {
                return error(
                    400,
                    format!(
                        "catalogItems[{index}].standard_price '{}' is not a price",
                        item.standard_price
                    ),
                );
            }
        }
        let ingestion_id = uuid::Uuid::new_v4().to_string();
        let mut state = self.lock();
        state.stats.ingestions += 1;
        state.stats.items += request.catalog_items.len();
        state
            .ingestions
            .insert(ingestion_id.clone(), Ingestion { polls: 0 });
        Answer::json(200, json!({ "ingestionId": ingestion_id }))
    }

    fn status(&self, body: &[u8]) -> Answer {
        let request: CatalogUploadStatusRequest = match serde_json::from_slice(body) {
            Ok(request) => request,
            Err(problem) => return error(400, format!("Invalid request body: {problem}")),
        };
        let mut state = self.lock();
        let Some(ingestion) = state.ingestions.get_mut(&request.ingestion_id) else {
            return error(
                400,
                format!(
                    "No ingestion found for ingestionId {}",
                    request.ingestion_id
                ),
            );
        };
        ingestion.polls += 1;
        let status = match ingestion.polls {
            1 => ProcessingStatus::InQueue,
            2 => ProcessingStatus::InProgress,
            _ => ProcessingStatus::Done,
        };
        let mut answer = json!({ "processingStatus": status });
        if status.is_final() {
            answer["reportDownloadLink"] = json!(format!(
                "https://catalog-reports.example.com/{}.json",
                request.ingestion_id
            ));
        }
        Answer::json(200, answer)
    }
}

/// The stand-in over HTTP: the two Catalog API operations and `GET /_catalog/stats`.
pub fn router(api: Arc<CatalogApi>) -> axum::Router {
    use axum::extract::State;
    use axum::response::IntoResponse;
    use axum::routing::{get, post};

    async fn call(
        State(api): State<Arc<CatalogApi>>,
        uri: http::Uri,
        headers: HeaderMap,
        body: bytes::Bytes,
    ) -> axum::response::Response {
        api.call(uri.path(), &headers, &body).await.into_response()
    }

    async fn stats(State(api): State<Arc<CatalogApi>>) -> axum::Json<CatalogStats> {
        axum::Json(api.stats())
    }

    axum::Router::new()
        .route(UPLOAD_PATH, post(call))
        .route(STATUS_PATH, post(call))
        .route("/_catalog/stats", get(stats))
        .with_state(api)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> CatalogApi {
        CatalogApi::new(CatalogApiConfig {
            region: "us-east-1".into(),
            credentials: Vec::new(),
            faults: Faults::default(),
        })
    }

    fn signed() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261122/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00"
                .parse()
                .unwrap(),
        );
        headers
    }

    #[tokio::test]
    async fn more_than_ten_calls_in_a_second_are_refused() {
        let api = api();
        let body = json!({ "ingestionId": "none" }).to_string();
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(
                api.call(STATUS_PATH, &signed(), body.as_bytes())
                    .await
                    .status,
            );
        }
        assert_eq!(statuses[..10], [400; 10], "{statuses:?}");
        assert_eq!(statuses[10..], [429, 429]);
        let stats = api.stats();
        assert_eq!((stats.rate_limited, stats.max_calls_in_a_second), (2, 12));
    }

    #[tokio::test]
    async fn uploads_over_ten_thousand_items_or_unsigned_are_refused() {
        let api = api();
        let item = json!({ "item_sku": "SKU-1", "item_name": "Water", "store_id": "S", "standard_price": "1.99" });
        let over =
            json!({ "catalogItems": vec![item.clone(); MAX_ITEMS_PER_UPLOAD + 1] }).to_string();
        let answer = api.call(UPLOAD_PATH, &signed(), over.as_bytes()).await;
        assert_eq!(answer.status, 400);
        assert!(
            answer.body["errorMsg"]
                .as_str()
                .unwrap()
                .contains("at most 10000")
        );
        let answer = api
            .call(UPLOAD_PATH, &HeaderMap::new(), over.as_bytes())
            .await;
        assert_eq!(answer.status, 403);

        let fine = json!({ "catalogItems": vec![item; MAX_ITEMS_PER_UPLOAD] }).to_string();
        let answer = api.call(UPLOAD_PATH, &signed(), fine.as_bytes()).await;
        assert_eq!(answer.status, 200);
        let id = answer.body["ingestionId"].as_str().unwrap().to_owned();
        let poll = json!({ "ingestionId": id }).to_string();
        let mut seen = Vec::new();
        for _ in 0..3 {
            let answer = api.call(STATUS_PATH, &signed(), poll.as_bytes()).await;
            seen.push(answer.body["processingStatus"].as_str().unwrap().to_owned());
        }
        assert_eq!(seen, ["INQUEUE", "INPROGRESS", "DONE"]);
        assert_eq!(api.stats().items, MAX_ITEMS_PER_UPLOAD);
    }
}
