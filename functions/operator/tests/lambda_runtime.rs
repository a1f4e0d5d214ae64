//! The operator function as Lambda runs it: `cargo lambda watch` emulates the runtime API, the
//! function's own binary runs with the stack's settings against DynamoDB (moto), and API Gateway
//! REST events (built from `aws_lambda_events`' example request) are sent with
//! `cargo lambda invoke`: a list with its query string, a get, a cancel recorded with the
//! caller's ARN, and a caller who is not an operator refused.

use std::path::{Path, PathBuf};

use jwo_aws::dynamodb::purchases::DynamoDbPurchaseStore;
use jwo_aws::dynamodb::{catalog, purchases};
use jwo_domain::behaviour::purchase_store::sample_purchase;
use jwo_domain::ports::PurchaseStore;
use jwo_domain::purchase::PurchaseState;
use jwo_test_support::{LambdaUnderTest, fixtures, moto_endpoint, unique_name};
use serde_json::{Value, json};

const OPERATOR_ROLE: &str = "arn:aws:iam::111122223333:role/Operator";
const OPERATOR_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/Operator/alice";

/// An API Gateway REST proxy event for the operator routes, written to a file to invoke with.
fn event(
    dir: &Path,
    name: &str,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    caller: &str,
    body: Option<Value>,
) -> PathBuf {
    let mut event: Value =
        serde_json::from_slice(&std::fs::read(fixtures("apigw/rest_request.json")).unwrap())
            .unwrap();
    event["resource"] = json!(path);
    event["path"] = json!(path);
    event["httpMethod"] = json!(method);
    event["requestContext"]["path"] = json!(format!("/Prod{path}"));
    event["requestContext"]["stage"] = json!("Prod");
    event["requestContext"]["httpMethod"] = json!(method);
    event["requestContext"]["identity"]["userArn"] = json!(caller);
    event["headers"] = json!({ "Host": "example.execute-api.us-east-1.amazonaws.com", "Content-Type": "application/json" });
    event["multiValueHeaders"] = json!({ "Host": ["example.execute-api.us-east-1.amazonaws.com"], "Content-Type": ["application/json"] });
    let (single, multi): (serde_json::Map<_, _>, serde_json::Map<_, _>) = query
        .iter()
        .map(|(name, value)| {
            (
                (name.to_string(), json!(value)),
                (name.to_string(), json!([value])),
            )
        })
        .unzip();
    let present = |pairs: serde_json::Map<String, Value>| {
        if pairs.is_empty() {
            Value::Null
        } else {
            Value::Object(pairs)
        }
    };
    event["queryStringParameters"] = present(single);
    event["multiValueQueryStringParameters"] = present(multi);
    event["pathParameters"] = Value::Null;
    event["body"] = body.map_or(Value::Null, |body| json!(body.to_string()));
    event["isBase64Encoded"] = json!(false);
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, event.to_string()).unwrap();
    file
}

fn body_of(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoked_through_the_lambda_runtime_it_lists_gets_and_cancels_for_operators_only() {
    let aws = jwo_aws::sdk::emulator_sdk_config(moto_endpoint()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let table = unique_name("operator-runtime");
    purchases::create_table(&dynamo, &table).await.unwrap();
    let catalog_table = unique_name("operator-runtime-catalog");
    catalog::create_table(&dynamo, &catalog_table)
        .await
        .unwrap();
    let store = DynamoDbPurchaseStore::new(dynamo, &table);
    let held = sample_purchase("operator-runtime-1", false);
    store.insert_if_absent(&held).await.unwrap();

    let function = LambdaUnderTest::start(
        Path::new(env!("CARGO_BIN_EXE_operator")),
        &[
            ("PURCHASES_TABLE", &table),
            (
                "ALERTS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:alerts",
            ),
            ("CATALOG_TABLE", &catalog_table),
            // Nothing here is submitted.
            (
                "CHECKOUT_ENDPOINT",
                "https://us-east-1.test.checkout.amazonphysicalstores.com",
            ),
            ("ALLOWED_CALLER_ARNS", OPERATOR_ROLE),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let item = format!("/v1/purchases/{}", held.purchase_id);

    let listed = function.invoke(&event(
        dir.path(),
        "list",
        "GET",
        "/v1/purchases",
        &[("state", "Open")],
        OPERATOR_SESSION,
        None,
    ));
    assert_eq!(listed["statusCode"], 200, "{listed}");
    assert_eq!(
        body_of(&listed)["purchases"][0]["purchaseId"],
        json!(held.purchase_id)
    );

    // A store's history, from the index by store and creation time.
    let history = function.invoke(&event(
        dir.path(),
        "history",
        "GET",
        "/v1/purchases",
        &[
            ("storeId", "STORE-001"),
            ("since", "2024-03-22T00:00:00Z"),
            ("until", "2024-03-23T00:00:00Z"),
        ],
        OPERATOR_SESSION,
        None,
    ));
    assert_eq!(history["statusCode"], 200, "{history}");
    assert_eq!(
        body_of(&history)["purchases"][0]["purchaseId"],
        json!(held.purchase_id)
    );

    let got = function.invoke(&event(
        dir.path(),
        "get",
        "GET",
        &item,
        &[],
        OPERATOR_SESSION,
        None,
    ));
    assert_eq!(got["statusCode"], 200, "{got}");
    assert_eq!(
        body_of(&got)["constraints"][0]["constraintId"],
        "UnknownSku"
    );

    // GraphQL on the same function, for operators only.
    let query = json!({ "query": "{ purchases(state: Open) { nodes { purchaseId constraints { constraintId } } } }" });
    let graphql = function.invoke(&event(
        dir.path(),
        "graphql",
        "POST",
        "/graphql",
        &[],
        OPERATOR_SESSION,
        Some(query.clone()),
    ));
    assert_eq!(graphql["statusCode"], 200, "{graphql}");
    let answer = body_of(&graphql);
    assert_eq!(answer["errors"], Value::Null, "{answer}");
    assert_eq!(
        answer["data"]["purchases"]["nodes"][0]["purchaseId"],
        json!(held.purchase_id)
    );
    let stranger_graphql = function.invoke(&event(
        dir.path(),
        "stranger-graphql",
        "POST",
        "/graphql",
        &[],
        "arn:aws:sts::111122223333:assumed-role/SomeoneElse/bob",
        Some(query),
    ));
    assert_eq!(stranger_graphql["statusCode"], 403, "{stranger_graphql}");

    let stranger = function.invoke(&event(
        dir.path(),
        "stranger",
        "POST",
        &format!("{item}/cancel"),
        &[],
        "arn:aws:sts::111122223333:assumed-role/SomeoneElse/bob",
        Some(json!({ "reason": "not mine" })),
    ));
    assert_eq!(stranger["statusCode"], 403, "{stranger}");
    assert_eq!(store.get(&held.purchase_id).await.unwrap().unwrap(), held);

    let canceled = function.invoke(&event(
        dir.path(),
        "cancel",
        "POST",
        &format!("{item}/cancel"),
        &[],
        OPERATOR_SESSION,
        Some(json!({ "reason": "a test cart" })),
    ));
    assert_eq!(canceled["statusCode"], 200, "{canceled}");
    let stored = store.get(&held.purchase_id).await.unwrap().unwrap();
    assert_eq!(stored.state, PurchaseState::Canceled);
    assert_eq!(stored.history[0].actor, OPERATOR_SESSION);
}
