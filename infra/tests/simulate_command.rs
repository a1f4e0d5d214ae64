//! `jwo simulate checkout` as a process: carts from a DynamoDB purchases table (moto), a signed
//! submission accepted, a wrongly signed one refused.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use jwo_aws::amazon::checkout_client::CheckoutClient;
use jwo_aws::dynamodb::purchases;
use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_domain::contract::checkout::CheckoutOutcome;
use jwo_domain::ports::{CheckoutService, PurchaseStore};
use jwo_test_support::{moto_endpoint, unique_name};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_simulator_charges_a_signed_cart_from_the_purchases_table() {
    let config = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("purchases");
    purchases::create_table(&client, &table).await.unwrap();
    let purchase = common::priced_purchase("simulated-1");
    DynamoDbPurchaseStore::new(client, &table)
        .insert_if_absent(&purchase)
        .await
        .unwrap();

    let mut simulator = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args([
            "simulate",
            "checkout",
            "--listen",
            "127.0.0.1:0",
            "--purchases-table",
            &table,
        ])
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
        .env("AWS_SECRET_ACCESS_KEY", "local-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kept open for the whole test: the simulator may still be writing its banner.
    let mut banner = BufReader::new(simulator.stdout.take().unwrap()).lines();
    let first_line = banner.next().unwrap().unwrap();
    let _simulator = Killed(simulator);
    let endpoint = first_line.rsplit(' ').next().unwrap().to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{first_line}");

    let body = purchase.checkout.unwrap().to_json_bytes();
    let deadline = Instant::now() + Duration::from_secs(20);
    let signed_with = |secret: &str| {
        let credentials = SharedCredentialsProvider::new(Credentials::new(
            "AKIDLOCAL",
            secret,
            None,
            None,
            "test",
        ));
        CheckoutClient::new(&endpoint, "us-east-1", credentials).unwrap()
    };
    let outcome = signed_with("local-secret")
        .submit(&body, deadline)
        .await
        .outcome;
    assert!(
        matches!(outcome, CheckoutOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    assert!(matches!(
        signed_with("guessed").submit(&body, deadline).await.outcome,
        CheckoutOutcome::Forbidden { .. }
    ));
}

/// A secret is never taken from the command line (every local user can read it there): the
/// flag does not exist, and without the environment variable the simulator says where it looks.
#[test]
fn the_secret_comes_from_the_environment_only() {
    let on_the_command_line = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args([
            "simulate",
            "checkout",
            "--purchases-table",
            "t",
            "--access-key-id",
            "AKIDLOCAL",
            "--secret-access-key",
            "shown-to-everyone",
        ])
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert_eq!(on_the_command_line.status.code(), Some(2));
    let said = String::from_utf8_lossy(&on_the_command_line.stderr);
    assert!(said.contains("--secret-access-key"), "{said}");
    let missing = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args([
            "simulate",
            "checkout",
            "--listen",
            "127.0.0.1:0",
            "--purchases-table",
            "t",
            "--access-key-id",
            "AKIDLOCAL",
        ])
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(said.contains("AWS_SECRET_ACCESS_KEY"), "{said}");
}
