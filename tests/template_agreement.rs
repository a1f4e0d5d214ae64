//! The CloudFormation template and the code agree: every function in the template is a binary
//! of the workspace and every function binary is in the template; every environment variable a
//! function reads is set by the template (the required ones at least) and the template sets
//! nothing else; every IAM action a function calls is granted to its role, and nothing broader:
//! no wildcard action, no wildcard resource (but X-Ray's, which has no resources). The API's
//! resource policy denies whoever it does not allow; the stage keeps access logs; what is at
//! rest is encrypted, with the retailer's key when given; the metric filters count lines the
//! code really logs, and every alarm and dashboard metric exists.

use std::collections::{BTreeMap, BTreeSet};

use jwo_test_support::repo_root;
use serde_json::Value;

use jwo_aws::functions::{ALL as FUNCTIONS, FunctionManifest};

/// Actions Lambda itself uses under the function's role, for what the template wires to it:
/// its own log group, the stream it reads, the queue it polls, the on-failure destination.
/// Also the key that encrypts the queues, topic and tables (their services use it on the
/// function's behalf), and X-Ray, which takes the traces Lambda sends.
const PLATFORM_ACTIONS: [&str; 15] = [
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
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
];

/// X-Ray's actions have no resource-level permissions: `*` is their only resource.
const WITHOUT_RESOURCES: [&str; 2] = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"];

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
                let unscoped = as_list(&statement["Action"])
                    .iter()
                    .all(|action| WITHOUT_RESOURCES.contains(&action.as_str().unwrap()));
                for resource in as_list(&statement["Resource"]) {
                    assert!(
                        unscoped && resource == "*" || !resource.to_string().contains('*'),
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

/// Every principal a route's `Allow` does not name is denied explicitly: without the `Deny`, a
/// same-account principal whose own IAM policy grants `execute-api:Invoke` would get through.
#[test]
fn the_api_denies_every_principal_its_policy_does_not_allow() {
    let template = template();
    let statements = as_list(&template["Resources"]["Api"]["Properties"]["Policy"]["Statement"]);
    let denies: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Deny")
        .collect();
    let allows: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(
        allows.len(),
        2,
        "the Ordering Gateway's route and the operator routes"
    );
    for allow in allows {
        let principals = &allow["Principal"]["AWS"];
        let deny = denies
            .iter()
            .find(|deny| deny["Resource"] == allow["Resource"])
            .unwrap_or_else(|| panic!("no Deny beside {}", allow["Sid"]));
        assert_eq!(deny["Principal"], "*");
        assert_eq!(deny["Action"], allow["Action"]);
        assert_eq!(
            deny["Condition"],
            serde_json::json!({ "ArnNotEquals": { "aws:PrincipalArn": principals } }),
            "{}: everyone but the principals allowed",
            deny["Sid"]
        );
    }
    // A private API also refuses what does not come through its VPC endpoint.
    let private = statements
        .iter()
        .find_map(|s| s["Fn::If"].as_array().filter(|f| f[0] == "IsPrivate"))
        .expect("a Deny for a PRIVATE endpoint");
    assert_eq!(private[1]["Effect"], "Deny");
    assert_eq!(
        private[1]["Condition"]["StringNotEquals"]["aws:SourceVpce"],
        serde_json::json!({ "Ref": "VpcEndpointId" })
    );
}

/// The stage writes a JSON access log line for every call, those IAM or the resource policy
/// refused included, through the account's API Gateway role (the stack's or the one given), and
/// the stage and every function trace with X-Ray unless `Tracing` says otherwise.
#[test]
fn the_stage_logs_every_call_and_everything_traces() {
    let template = template();
    let resources = &template["Resources"];
    let stage = &resources["ApiStage"];
    let log = &stage["Properties"]["AccessLogSetting"];
    assert_eq!(
        log["DestinationArn"],
        serde_json::json!({ "Fn::GetAtt": ["ApiAccessLogGroup", "Arn"] })
    );
    let format: serde_json::Map<String, Value> =
        serde_json::from_str(log["Format"].as_str().unwrap()).expect("a JSON log line");
    for (field, variable) in [
        ("requestId", "$context.requestId"),
        ("caller", "$context.identity.userArn"),
        ("resourcePath", "$context.resourcePath"),
        ("status", "$context.status"),
        ("latencyMs", "$context.responseLatency"),
        ("integrationError", "$context.integration.error"),
    ] {
        assert_eq!(format[field], variable, "{field}");
    }
    // Access logging fails unless the account's role is set first.
    assert_eq!(stage["DependsOn"], "ApiGatewayAccount");
    assert_eq!(
        resources["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"]["Fn::If"],
        serde_json::json!([
            "CreatesApiGatewayCloudWatchRole",
            { "Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"] },
            { "Ref": "ApiGatewayCloudWatchRoleArn" }
        ])
    );
    let role = &resources["ApiGatewayCloudWatchRole"];
    assert_eq!(role["Condition"], "CreatesApiGatewayCloudWatchRole");
    // Every API of the account logs through it: deleting the stack must not take it away.
    assert_eq!(role["DeletionPolicy"], "Retain");
    assert_eq!(
        stage["Properties"]["TracingEnabled"],
        serde_json::json!({ "Fn::If": ["TracingActive", true, false] })
    );
    assert_eq!(template["Parameters"]["Tracing"]["Default"], "Active");
    for (name, function) in resources_of_type(&template, "AWS::Lambda::Function") {
        assert_eq!(
            function["Properties"]["TracingConfig"],
            serde_json::json!({ "Mode": { "Ref": "Tracing" } }),
            "{name}"
        );
    }
}

/// Queues, the alerts topic and the tables are encrypted at rest, and with the retailer's key
/// (`KmsKeyArn`) when one is given; so are the log groups and the functions' environment.
#[test]
fn what_is_at_rest_is_encrypted_with_the_key_given() {
    let template = template();
    let customer_key = serde_json::json!({
        "Fn::If": ["HasKmsKey", { "Ref": "KmsKeyArn" }, { "Ref": "AWS::NoValue" }]
    });
    for (name, queue) in resources_of_type(&template, "AWS::SQS::Queue") {
        let properties = &queue["Properties"];
        assert_eq!(properties["KmsMasterKeyId"], customer_key, "{name}");
        assert_eq!(
            properties["SqsManagedSseEnabled"],
            serde_json::json!({ "Fn::If": ["HasKmsKey", false, true] }),
            "{name}: SSE-SQS without a key (off, not absent, with one: SQS takes one kind at a time)"
        );
    }
    for (name, topic) in resources_of_type(&template, "AWS::SNS::Topic") {
        assert_eq!(
            topic["Properties"]["KmsMasterKeyId"],
            serde_json::json!({
                "Fn::If": ["HasKmsKey", { "Ref": "KmsKeyArn" }, { "Fn::GetAtt": ["AlertsKey", "Arn"] }]
            }),
            "{name}: the AWS-managed SNS key would keep the alarms from publishing"
        );
    }
    let alerts_key = &template["Resources"]["AlertsKey"];
    assert_eq!(alerts_key["Condition"], "NoKmsKey");
    assert_eq!(alerts_key["Properties"]["EnableKeyRotation"], true);
    assert!(
        as_list(&alerts_key["Properties"]["KeyPolicy"]["Statement"])
            .iter()
            .any(|s| s["Principal"]["Service"] == "cloudwatch.amazonaws.com"),
        "the alarms may use the key"
    );
    for (name, table) in resources_of_type(&template, "AWS::DynamoDB::Table") {
        let sse = &table["Properties"]["SSESpecification"];
        assert_eq!(sse["SSEEnabled"], true, "{name}");
        assert_eq!(sse["SSEType"], "KMS", "{name}");
        assert_eq!(sse["KMSMasterKeyId"], customer_key, "{name}");
    }
    for (name, group) in resources_of_type(&template, "AWS::Logs::LogGroup") {
        assert_eq!(group["Properties"]["KmsKeyId"], customer_key, "{name}");
    }
    for (name, function) in resources_of_type(&template, "AWS::Lambda::Function") {
        assert_eq!(function["Properties"]["KmsKeyArn"], customer_key, "{name}");
    }
}

/// A backlog after an outage is checked out at most `CheckoutReservedConcurrency` at a time.
#[test]
fn checkout_runs_within_its_reserved_concurrency() {
    let template = template();
    assert_eq!(
        template["Resources"]["CheckoutFunction"]["Properties"]["ReservedConcurrentExecutions"],
        serde_json::json!({ "Fn::If": [
            "ReservesCheckoutConcurrency",
            { "Ref": "CheckoutReservedConcurrency" },
            { "Ref": "AWS::NoValue" }
        ] })
    );
    let parameter = &template["Parameters"]["CheckoutReservedConcurrency"];
    assert!(
        parameter["Default"].as_u64() >= Some(1),
        "reserved by default"
    );
    // Lambda keeps 100 of an account's 1,000 unreserved.
    assert!(parameter["MaxValue"].as_u64() <= Some(900));
}

/// The ceiling on calls to the Checkout Service is shared by exactly the invocations the reserved
/// concurrency allows, every shard's lanes can fill them, and no ceiling is claimed without a
/// bound on invocations.
#[test]
fn the_call_ceiling_is_shared_by_the_reserved_concurrency() {
    let template = template();
    let checkout = &template["Resources"]["CheckoutFunction"]["Properties"];
    let variables = &checkout["Environment"]["Variables"];
    assert_eq!(
        variables["CHECKOUT_CALLS_PER_SECOND"],
        serde_json::json!({ "Ref": "CheckoutCallsPerSecond" })
    );
    assert_eq!(
        variables["CHECKOUT_CONCURRENT_INVOCATIONS"],
        serde_json::json!({ "Ref": "CheckoutReservedConcurrency" })
    );
    assert!(template["Parameters"]["CheckoutCallsPerSecond"]["Default"].as_u64() >= Some(60));
    let rule = &template["Rules"]["CallCeilingNeedsReservedConcurrency"];
    assert_eq!(
        rule["RuleCondition"],
        serde_json::json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": "CheckoutCallsPerSecond" }, "0"] }] })
    );
    assert_eq!(
        rule["Assertions"][0]["Assert"],
        serde_json::json!({ "Fn::Not": [{ "Fn::Equals": [{ "Ref": "CheckoutReservedConcurrency" }, "0"] }] })
    );
    // One shard's lanes alone can fill the default reservation (BENCHMARKS.md, "Backlog drain").
    let mapping = &template["Resources"]["CheckoutStreamMapping"]["Properties"];
    assert!(
        mapping["ParallelizationFactor"].as_u64()
            >= template["Parameters"]["CheckoutReservedConcurrency"]["Default"].as_u64()
    );
}

/// The catalog function is pinned to Amazon's topic, with the age window and version setting.
#[test]
fn catalog_notifications_are_pinned_to_amazons_topic() {
    let template = template();
    let variables = &template["Resources"]["CatalogNotificationsFunction"]["Properties"]["Environment"]
        ["Variables"];
    assert_eq!(
        variables["SNS_TOPIC_ARN"],
        serde_json::json!({ "Ref": "AmazonCatalogTopicArn" })
    );
    assert_eq!(
        variables["SNS_MAX_MESSAGE_AGE_SECONDS"],
        serde_json::json!({ "Ref": "SnsMaxMessageAgeSeconds" })
    );
    assert_eq!(
        variables["SNS_MIN_SIGNATURE_VERSION"],
        serde_json::json!({ "Ref": "SnsMinSignatureVersion" })
    );
    // The queue keeps a message longer than it may be old.
    let parameters = &template["Parameters"];
    assert!(
        parameters["SnsMaxMessageAgeSeconds"]["MaxValue"].as_u64()
            <= template["Resources"]["CatalogQueue"]["Properties"]["MessageRetentionPeriod"]
                .as_u64()
    );
}

/// Each `"…"` string a JSON filter pattern compares `$.fields.<field>` with.
fn pattern_values(pattern: &str, field: &str) -> Vec<String> {
    let needle = format!("$.fields.{field} = \"");
    pattern
        .match_indices(&needle)
        .map(|(at, _)| {
            let rest = &pattern[at + needle.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// A metric filter counts a log line its function really writes (a renamed message would leave
/// an alarm silent), and every metric an alarm or the dashboard shows is a filter's or AWS's.
#[test]
fn every_metric_counts_a_line_the_code_logs_and_every_alarm_watches_one() {
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    let mut custom: BTreeSet<String> = BTreeSet::new();
    for (name, filter) in resources_of_type(&template, "AWS::Logs::MetricFilter") {
        let group = filter["Properties"]["LogGroupName"]["Ref"]
            .as_str()
            .unwrap();
        let (_, function) = resources_of_type(&template, "AWS::Lambda::Function")
            .into_iter()
            .find(|(_, f)| f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] == group)
            .unwrap_or_else(|| panic!("{name}: {group} is no function's log group"));
        let binary = function["Metadata"]["Binary"].as_str().unwrap();
        let source = rust_source(&repo_root().join("functions").join(binary).join("src"));
        let pattern = filter["Properties"]["FilterPattern"].as_str().unwrap();
        let messages = pattern_values(pattern, "message");
        assert_eq!(messages.len(), 1, "{name}: {pattern}");
        assert!(
            source.contains(&format!("\"{}\")", messages[0])),
            "{name}: {binary} logs no \"{}\"",
            messages[0]
        );
        for result in pattern_values(pattern, "result") {
            assert!(
                source.contains(&format!("=> \"{result}\"")),
                "{name}: no outcome kind \"{result}\" in {binary}"
            );
        }
        for transformation in as_list(&filter["Properties"]["MetricTransformations"]) {
            custom.insert(transformation["MetricName"].as_str().unwrap().to_owned());
        }
    }
    let aws_namespaces = ["AWS/ApiGateway", "AWS/Lambda", "AWS/SQS"];
    for (name, alarm) in resources_of_type(&template, "AWS::CloudWatch::Alarm") {
        let properties = &alarm["Properties"];
        let metric = properties["MetricName"].as_str().unwrap();
        assert!(
            properties["Namespace"].is_string()
                && aws_namespaces.contains(&properties["Namespace"].as_str().unwrap())
                || custom.contains(metric),
            "{name} watches {metric}, which nothing produces"
        );
        assert_eq!(
            properties["AlarmActions"],
            serde_json::json!([{ "Ref": "AlertsTopic" }])
        );
    }
    for (metric, alarm) in [
        ("PurchasesHeld", "PurchasesHeldAlarm"),
        ("SweepFailures", "SweepFailuresAlarm"),
    ] {
        assert_eq!(resources[alarm]["Properties"]["MetricName"], metric);
    }

    let (_, dashboard) = resources_of_type(&template, "AWS::CloudWatch::Dashboard")
        .pop()
        .expect("a dashboard");
    let body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .unwrap();
    let body: Value = serde_json::from_str(body).expect("the dashboard body is JSON");
    let mut shown: BTreeSet<String> = BTreeSet::new();
    // "." repeats the line above's namespace.
    let mut namespace = String::new();
    for widget in as_list(&body["widgets"]) {
        for line in as_list(&widget["properties"]["metrics"]) {
            let line = line.as_array().unwrap();
            if let Some(Value::String(metric)) = line.get(1).filter(|m| *m != ".") {
                shown.insert(metric.clone());
                if line[0] != "." {
                    namespace = line[0].as_str().unwrap().to_owned();
                }
                assert!(
                    aws_namespaces.contains(&namespace.as_str()) || custom.contains(metric),
                    "the dashboard shows {metric}, which nothing produces"
                );
            }
        }
    }
    for metric in [
        "Count",
        "Latency",
        "4XXError",
        "5XXError",
        "CheckoutsCompleted",
        "CheckoutsDeclined",
        "PurchasesHeld",
        "ApproximateNumberOfMessagesVisible",
    ] {
        assert!(
            shown.contains(metric),
            "the dashboard does not show {metric}"
        );
    }
}

/// A scanner check the template skips says why, in its own `Metadata`.
#[test]
fn every_scanner_skip_says_why() {
    let template = template();
    let mut skips = 0;
    for (name, resource) in template["Resources"].as_object().unwrap() {
        for skip in as_list(&resource["Metadata"]["checkov"]["skip"]) {
            if skip.is_null() {
                continue;
            }
            skips += 1;
            assert!(skip["id"].as_str().unwrap().starts_with("CKV_"), "{name}");
            let comment = skip["comment"].as_str().unwrap_or("");
            assert!(
                comment.len() >= 40,
                "{name} skips {} without a reason",
                skip["id"]
            );
        }
    }
    assert!(skips > 0);
}
