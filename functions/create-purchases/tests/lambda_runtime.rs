//! The function as Lambda runs it: `cargo lambda watch --only-lambda-apis` emulates the Lambda
//! runtime API, the function's own binary (as `cargo test` built it) runs against it with the
//! settings the stack gives it, `cargo lambda invoke --data-file` sends an API Gateway REST
//! event, and the purchase lands in DynamoDB (moto).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jwo_end_to_end::{fixtures, moto_endpoint, repo_root, unique_name, wait_for_port};
use jwo_shared::adapters::dynamodb::{self, DynamoDbPurchaseStore};
use jwo_shared::ports::PurchaseStore;
use jwo_shared::purchase::purchase_id;
use serde_json::Value;

/// Kills a process when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `PATH` with the project's `.venv/bin` (where cargo-lambda is installed) in front.
fn path_with_venv() -> String {
    let venv: PathBuf = repo_root().join(".venv/bin");
    format!(
        "{}:{}",
        venv.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoked_through_the_lambda_runtime_it_stores_the_purchase() {
    let config = jwo_shared::adapters::aws::emulator_sdk_config(moto_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("purchases");
    dynamodb::create_table(&client, &table).await.unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let emulator = Command::new("cargo")
        .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()])
        .current_dir(repo_root())
        .env("PATH", path_with_venv())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo lambda watch starts (cargo-lambda is installed into .venv by infra/scripts/test)");
    let _emulator = Killed(emulator);
    wait_for_port(port, Duration::from_secs(60));

    let function = Command::new(env!("CARGO_BIN_EXE_create-purchases"))
        // What the runtime API emulator asks of a function it does not start itself.
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("PURCHASES_TABLE", &table)
        .env(
            "ALERTS_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:alerts",
        )
        .env(
            "PRICE_BOOK_FILE",
            repo_root().join("infra/pricebook/sample.json"),
        )
        .env(
            "ALLOWED_CALLER_ARNS",
            "arn:aws:iam::111122223333:role/OrderingGateway",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _function = Killed(function);

    let event = fixtures("apigw/create_purchases_event.json");
    let output = Command::new("cargo")
        .args([
            "lambda",
            "invoke",
            "_",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
            "--data-file",
        ])
        .arg(&event)
        .current_dir(repo_root())
        .env("PATH", path_with_venv())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(response["statusCode"], 201, "{response}");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();

    let sent: Value = serde_json::from_slice(&std::fs::read(&event).unwrap()).unwrap();
    let cart: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    let id = purchase_id(
        cart["storeId"].as_str().unwrap(),
        cart["idempotentShoppingTripId"].as_str().unwrap(),
    );
    assert_eq!(body["purchaseId"], id.as_str());
    let stored = DynamoDbPurchaseStore::new(client, table)
        .get(&id)
        .await
        .unwrap()
        .expect("stored in DynamoDB");
    assert!(stored.is_ready_for_checkout());
    assert_eq!(body["orderTotals"]["priceTotal"]["amount"], "9.72");
}
