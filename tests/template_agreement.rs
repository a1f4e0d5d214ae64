//! The CloudFormation template and the code agree: every function in the template is a binary
//! of the workspace and every function binary is in the template; every environment variable a
//! function reads is set by the template (the required ones at least) and the template sets
//! nothing else; every IAM action a function calls is granted to its role, and nothing broader:
//! no wildcard action, no wildcard resource.

use std::collections::{BTreeMap, BTreeSet};

use jwo_test_support::repo_root;
use serde_json::Value;

use jwo_aws::functions::{ALL as FUNCTIONS, FunctionManifest};

/// Actions Lambda itself uses under the function's role, for what the template wires to it:
/// its own log group, the stream it reads, the queue it polls, the on-failure destination.
const PLATFORM_ACTIONS: [&str; 11] = [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
    "sqs:SendMessage",
];

fn template() -> Value {
    let path = repo_root().join("cloudformation/connector.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("the template is JSON")
}

/// The `[[bin]]` names of the crates under `functions/`.
fn function_binaries() -> BTreeSet<String> {
    let mut binaries = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("functions")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let mut in_bin = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bin = line == "[[bin]]";
            } else if let Some(name) = line.strip_prefix("name = ").filter(|_| in_bin) {
                binaries.insert(name.trim_matches('"').to_owned());
            }
        }
    }
    binaries
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .collect()
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(values) => values.clone(),
        other => vec![other.clone()],
    }
}

#[test]
fn every_function_is_a_binary_and_every_binary_a_function() {
    let template = template();
    let in_template: BTreeSet<String> = resources_of_type(&template, "AWS::Lambda::Function")
        .iter()
        .map(|(_, function)| function["Metadata"]["Binary"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(in_template, function_binaries());
    let described: BTreeSet<String> = FUNCTIONS.iter().map(|f| f.binary.to_owned()).collect();
    assert_eq!(in_template, described);
    for (name, function) in resources_of_type(&template, "AWS::Lambda::Function") {
        let properties = &function["Properties"];
        assert_eq!(properties["Runtime"], "provided.al2023", "{name}");
        assert_eq!(
            properties["Architectures"],
            serde_json::json!(["arm64"]),
            "{name}"
        );
        assert_eq!(properties["Handler"], "bootstrap", "{name}");
        assert_eq!(properties["LoggingConfig"]["LogFormat"], "JSON", "{name}");
    }
}

#[test]
fn every_variable_the_code_reads_is_set_and_nothing_else() {
    let template = template();
    for (name, function) in resources_of_type(&template, "AWS::Lambda::Function") {
        let binary = function["Metadata"]["Binary"].as_str().unwrap();
        let code: &FunctionManifest = FUNCTIONS.iter().find(|f| f.binary == binary).unwrap();
        let set: BTreeSet<&str> = function["Properties"]["Environment"]["Variables"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for required in code.required {
            assert!(set.contains(required), "{name} does not set {required}");
        }
        for variable in &set {
            assert!(
                code.environment.contains(variable),
                "{name} sets {variable}, which {binary} does not read"
            );
        }
    }
}

#[test]
fn every_action_the_code_calls_is_granted_and_nothing_broader() {
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    for (name, function) in resources_of_type(&template, "AWS::Lambda::Function") {
        let binary = function["Metadata"]["Binary"].as_str().unwrap();
        let code: &FunctionManifest = FUNCTIONS.iter().find(|f| f.binary == binary).unwrap();
        let role_name = function["Properties"]["Role"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap();
        let role = &resources[role_name];
        let mut granted: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for policy in role["Properties"]["Policies"].as_array().unwrap() {
            for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
                assert_eq!(statement["Effect"], "Allow", "{role_name}");
                for resource in as_list(&statement["Resource"]) {
                    assert!(
                        !resource.to_string().contains('*'),
                        "{role_name} grants on a wildcard resource: {resource}"
                    );
                }
                for action in as_list(&statement["Action"]) {
                    let action = action.as_str().unwrap().to_owned();
                    assert!(
                        !action.contains('*'),
                        "{role_name} grants a wildcard action: {action}"
                    );
                    granted
                        .entry(action)
                        .or_default()
                        .extend(as_list(&statement["Resource"]));
                }
            }
        }
        assert!(
            role["Properties"].get("ManagedPolicyArns").is_none(),
            "{role_name}: managed policies are broader than the code needs"
        );
        for action in code.iam_actions {
            assert!(
                granted.contains_key(*action),
                "{name} calls {action}, not granted"
            );
        }
        for action in granted.keys() {
            assert!(
                code.iam_actions.contains(&action.as_str())
                    || PLATFORM_ACTIONS.contains(&action.as_str()),
                "{role_name} grants {action}, which {binary} does not call"
            );
        }
    }
}

/// The actions the code declares are ones its adapters really call (an SDK operation of that
/// name appears in the adapters' source).
#[test]
fn declared_actions_are_real_calls() {
    let source = rust_source(&repo_root().join("shared/aws/src"));
    for function in &FUNCTIONS {
        for action in function.iam_actions {
            let operation = action.split(':').nth(1).unwrap();
            let mut snake = String::new();
            for (i, c) in operation.chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            // A transaction's parts are authorized as the item actions they are.
            let in_transaction = match operation {
                "PutItem" => {
                    source.contains(".transact_write_items()") && source.contains("Put::builder()")
                }
                "DeleteItem" => {
                    source.contains(".transact_write_items()")
                        && source.contains("Delete::builder()")
                }
                "GetItem" => {
                    source.contains(".transact_get_items()") && source.contains("Get::builder()")
                }
                _ => false,
            };
            assert!(
                source.contains(&format!(".{snake}()")) || in_transaction,
                "{}: {action} is declared, but no adapter calls .{snake}()",
                function.binary
            );
        }
    }
}

/// Every `.rs` file under `dir`, concatenated.
fn rust_source(dir: &std::path::Path) -> String {
    let mut source = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source.push_str(&rust_source(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            source.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    source
}

/// The catalog queue gives a message time for six tries of the function before it shows again,
/// and five receives before the dead-letter queue; failures are reported per message.
#[test]
fn the_catalog_queue_fits_its_function() {
    let template = template();
    let resources = &template["Resources"];
    let queue = &resources["CatalogQueue"]["Properties"];
    let timeout = resources["CatalogNotificationsFunction"]["Properties"]["Timeout"]
        .as_u64()
        .unwrap();
    assert!(queue["VisibilityTimeout"].as_u64().unwrap() >= 6 * timeout);
    assert!(queue["RedrivePolicy"]["maxReceiveCount"].as_u64().unwrap() >= 5);
    let mapping = &resources["CatalogQueueMapping"]["Properties"];
    assert_eq!(
        mapping["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    let stream = &resources["CheckoutStreamMapping"]["Properties"];
    assert_eq!(stream["BisectBatchOnFunctionError"], true);
    assert!(stream["DestinationConfig"]["OnFailure"]["Destination"].is_object());
    assert_eq!(
        stream["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
}

/// The purchases table has the two indexes the store queries, keyed and projected as the store
/// expects them (`create_table` builds the same for the emulator).
#[test]
fn the_purchases_table_has_the_indexes_the_store_queries() {
    use jwo_aws::dynamodb::purchases::{OPEN_INDEX, OPEN_INDEX_KEY, STORE_INDEX, STORE_INDEX_TIME};
    let template = template();
    let table = &template["Resources"]["PurchasesTable"]["Properties"];
    let indexes: BTreeMap<String, (Vec<String>, String)> =
        as_list(&table["GlobalSecondaryIndexes"])
            .iter()
            .map(|index| {
                let keys = as_list(&index["KeySchema"])
                    .iter()
                    .map(|key| {
                        format!(
                            "{} {}",
                            key["AttributeName"].as_str().unwrap(),
                            key["KeyType"].as_str().unwrap()
                        )
                    })
                    .collect();
                (
                    index["IndexName"].as_str().unwrap().to_owned(),
                    (
                        keys,
                        index["Projection"]["ProjectionType"]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    ),
                )
            })
            .collect();
    let expected = BTreeMap::from([
        (
            OPEN_INDEX.to_owned(),
            (
                vec![format!("{OPEN_INDEX_KEY} HASH"), "purchaseId RANGE".into()],
                "ALL".to_owned(),
            ),
        ),
        (
            STORE_INDEX.to_owned(),
            (
                vec!["storeId HASH".into(), format!("{STORE_INDEX_TIME} RANGE")],
                "KEYS_ONLY".to_owned(),
            ),
        ),
    ]);
    assert_eq!(indexes, expected);
    // Only the operator lists a store's history.
    let text = template.to_string();
    let history_grants = text.matches(&format!("/index/{STORE_INDEX}")).count();
    assert_eq!(
        history_grants, 1,
        "the history index is granted to the operator role alone"
    );
    assert!(
        template["Resources"]["OperatorRole"]
            .to_string()
            .contains(&format!("/index/{STORE_INDEX}"))
    );
}

/// Every operator route is an API Gateway method with IAM auth, integrated with the operator
/// function, allowed to the operator roles, and nothing else reaches the operator function.
#[test]
fn every_operator_route_is_a_method_for_the_operator_roles() {
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    // The full path of each API resource, from its chain of parents.
    let path_of = |name: &str| {
        let mut parts = Vec::new();
        let mut current = name.to_owned();
        while let Some(resource) = resources.get(&current) {
            parts.push(
                resource["Properties"]["PathPart"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
            match resource["Properties"]["ParentId"]["Ref"].as_str() {
                Some(parent) => current = parent.to_owned(),
                None => break,
            }
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    };
    let methods: BTreeSet<(String, String)> =
        resources_of_type(&template, "AWS::ApiGateway::Method")
            .into_iter()
            .filter(|(_, method)| {
                method["Properties"]["Integration"]
                    .to_string()
                    .contains("OperatorFunction.Arn")
            })
            .map(|(name, method)| {
                let properties = &method["Properties"];
                assert_eq!(properties["AuthorizationType"], "AWS_IAM", "{name}");
                (
                    properties["HttpMethod"].as_str().unwrap().to_owned(),
                    path_of(properties["ResourceId"]["Ref"].as_str().unwrap()),
                )
            })
            .collect();
    let routes: BTreeSet<(String, String)> = operator::rest::ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(methods, routes);
    let policy = template["Resources"]["Api"]["Properties"]["Policy"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|statement| statement["Sid"] == "OperatorsOnly")
        .unwrap()
        .to_string();
    for (method, path) in operator::rest::ROUTES {
        let pattern = path.replace("{purchaseId}", "*");
        assert!(
            policy.contains(&format!("/{method}{pattern}\"")),
            "{method} {path} not in OperatorsOnly"
        );
    }
}
