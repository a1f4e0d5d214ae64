//! `jwo connectivity-test` and `jwo load` against connectors that misbehave: one that accepts
//! connections and never answers, and one whose answer has no end. Each request fails on its own
//! (a timeout, a cap on the answer) instead of stalling the tool.

use std::process::Command;

use serde_json::Value;

/// A listener that accepts every connection and says nothing; its address.
async fn silent_connector() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://{address}")
}

/// A connector that answers every Create Purchases call 201 with 2 MiB of JSON.
async fn endless_connector() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/v1/order/purchases",
        axum::routing::post(|| async {
            let padding = "x".repeat(2 * 1024 * 1024);
            (
                http::StatusCode::CREATED,
                [(http::header::CONTENT_TYPE, "application/json")],
                format!(r#"{{"purchaseId":"p-1","padding":"{padding}"}}"#),
            )
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

/// `jwo connectivity-test --json` with `flags`: its report.
async fn connectivity_test(endpoint: String, flags: &'static [&'static str]) -> Value {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_jwo"))
            .args(["connectivity-test", "--json", "--endpoint", &endpoint])
            .args(flags)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!output.status.success(), "every case fails");
    serde_json::from_slice(&output.stdout).expect("a JSON report")
}

fn details(report: &Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| case["detail"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_that_never_answers_fails_every_case_on_its_timeout() {
    let report = connectivity_test(silent_connector().await, &["--timeout-ms", "200"]).await;
    assert_eq!(report["passed"], 0);
    for detail in details(&report) {
        assert_eq!(detail, "no answer within 200ms");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_past_the_cap_fails_its_case_unread() {
    let endpoint = endless_connector().await;
    let report = connectivity_test(endpoint.clone(), &["--max-answer-bytes", "65536"]).await;
    let capped = details(&report)
        .iter()
        .filter(|detail| detail.contains("length limit exceeded"))
        .count();
    assert!(capped > 0, "{:#}", report["cases"]);
    // With room for the answer, the same connector's 201s are read (and judged on their own).
    let roomy = connectivity_test(endpoint, &["--max-answer-bytes", "4194304"]).await;
    assert!(
        details(&roomy)
            .iter()
            .all(|detail| !detail.contains("length limit exceeded")),
        "{:#}",
        roomy["cases"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_against_a_silent_connector_counts_timeouts_and_ends() {
    let endpoint = silent_connector().await;
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_jwo"))
            .args([
                "load",
                "--endpoint",
                &endpoint,
                "--rate",
                "20",
                "--duration",
                "1",
            ])
            .args(["--timeout-ms", "300", "--settle-seconds", "1"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("errors: 20"), "{said}");
    assert!(said.contains("no answer within 300ms"), "{said}");
}
