//! `jwo connectivity-test`: plays Amazon's side of Create Purchases against any ordering
//! connector (ours locally, ours deployed, or someone else's) with Amazon's published cases.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use serde_json::Value;

use crate::purchases_endpoint::{AnswerLimits, PurchasesEndpoint, Signing};

/// One of Amazon's published cases, compiled in from `tests/fixtures/create_purchases`.
pub struct PublishedCase {
    pub file: &'static str,
    /// The HTTP status Amazon expects.
    pub status: u16,
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/create_purchases_cases.rs"));

#[derive(Debug, Args)]
pub struct ConnectivityTest {
    /// Base URL of the ordering connector; requests go to {URL}/v1/order/purchases.
    #[arg(long, value_name = "URL")]
    pub endpoint: String,
    /// Sign every request with SigV4 (service execute-api, --region) using the standard AWS
    /// credential environment variables (or profile), as Amazon's Ordering Gateway does.
    #[arg(long)]
    pub sign: bool,
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Print the results as JSON (for CI) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub limits: AnswerLimits,
}

/// One case's result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    pub case: String,
    pub expected: u16,
    /// The status answered; none if there was no answer.
    pub got: Option<u16>,
    pub pass: bool,
    /// Why it failed, or what was checked beyond the status.
    pub detail: String,
}

pub fn run(args: ConnectivityTest) -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    let results = match runtime.block_on(run_cases(&args)) {
        Ok(results) => results,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    let failed = results.iter().filter(|r| !r.pass).count();
    if args.json {
        let report = serde_json::json!({
            "endpoint": args.endpoint,
            "passed": results.len() - failed,
            "failed": failed,
            "cases": results,
        });
        let _ = writeln!(out, "{report:#}");
    } else {
        let _ = writeln!(
            out,
            "{:<48} {:>8} {:>5}  result  detail",
            "case", "expected", "got"
        );
        for result in &results {
            let got = result.got.map_or("-".to_owned(), |s| s.to_string());
            let verdict = if result.pass { "pass" } else { "FAIL" };
            let _ = writeln!(
                out,
                "{:<48} {:>8} {got:>5}  {verdict:<6}  {}",
                result.case, result.expected, result.detail
            );
        }
        let _ = writeln!(
            out,
            "\n{} of {} cases passed against {}",
            results.len() - failed,
            results.len(),
            args.endpoint
        );
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs every case in order (2.2 needs 2.1 first). Trip ids get a suffix of this run, so the
/// test can be run again and again against the same connector.
pub async fn run_cases(args: &ConnectivityTest) -> Result<Vec<CaseResult>, String> {
    let signing = if args.sign {
        Some(Signing::from_environment(&args.region).await?)
    } else {
        None
    };
    let endpoint = PurchasesEndpoint::new(&args.endpoint, signing)?.with_limits(args.limits);
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let mut results = Vec::with_capacity(CASES.len());
    for case in CASES {
        let body = for_this_run(case.body, run);
        let first = endpoint.post(&body).await;
        let mut result = judge(case, &first);
        // An idempotent replay: the same call again names the same purchase.
        if case.file.starts_with("2.1") && result.pass {
            let replay = endpoint.post(&body).await;
            let (first_id, replay_id) = (purchase_id(&first), purchase_id(&replay));
            if replay.as_ref().map(|(status, _)| *status).ok() != Some(201) || first_id != replay_id
            {
                result.pass = false;
                result.detail = format!(
                    "replay answered {:?} with purchaseId {replay_id:?}, first call {first_id:?}",
                    replay.as_ref().map(|(status, _)| *status)
                );
            } else {
                result.detail = "sent twice: same purchaseId".into();
            }
        }
        results.push(result);
    }
    Ok(results)
}

/// The case's body with this run's suffix on a (valid-length) trip id.
fn for_this_run(body: &[u8], run: &str) -> Vec<u8> {
    let Ok(Value::Object(mut request)) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    match request.get("idempotentShoppingTripId") {
        Some(Value::String(trip)) if !trip.is_empty() && trip.len() <= 200 => {
            let trip = format!("{trip}-{run}");
            request.insert("idempotentShoppingTripId".into(), Value::String(trip));
            serde_json::to_vec(&request).expect("JSON serializes")
        }
        _ => body.to_vec(),
    }
}

fn purchase_id(answer: &Result<(u16, Vec<u8>), String>) -> Option<String> {
    let (_, body) = answer.as_ref().ok()?;
    let body: Value = serde_json::from_slice(body).ok()?;
    body["purchaseId"].as_str().map(str::to_owned)
}

fn judge(case: &PublishedCase, answer: &Result<(u16, Vec<u8>), String>) -> CaseResult {
    let mut result = CaseResult {
        case: case.file.trim_end_matches(".json").to_owned(),
        expected: case.status,
        got: None,
        pass: false,
        detail: String::new(),
    };
    let (status, body) = match answer {
        Ok(answer) => answer,
        Err(error) => {
            result.detail = error.clone();
            return result;
        }
    };
    result.got = Some(*status);
    if *status != case.status {
        result.detail = String::from_utf8_lossy(body).chars().take(160).collect();
        return result;
    }
    result.pass = true;
    if *status == 201 {
        let empty_cart = serde_json::from_slice::<Value>(case.body)
            .is_ok_and(|request| request["cartItems"].as_array().is_some_and(Vec::is_empty));
        match (purchase_id(answer), empty_cart) {
            (Some(id), true) if id.is_empty() => {
                result.detail = "empty cart: purchaseId \"\"".into()
            }
            (Some(id), false) if !id.is_empty() => result.detail = format!("purchaseId {id}"),
            (id, _) => {
                result.pass = false;
                result.detail = format!("unexpected purchaseId {id:?}");
            }
        }
    }
    result
}
