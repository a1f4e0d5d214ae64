//! What each Lambda function is, in one place: its binary, the environment variables it reads
//! and the AWS API actions it calls. The stack's template must agree (`tests/template_agreement.rs`
//! iterates [`ALL`]), and the build and deploy scripts take the function list from the template.

/// One Lambda function of the stack.
#[derive(Debug)]
pub struct FunctionManifest {
    /// The `[[bin]]` name, and the `Metadata.Binary` of its resource in the template.
    pub binary: &'static str,
    /// Every environment variable the function reads.
    pub environment: &'static [&'static str],
    /// Those without which it does not start.
    pub required: &'static [&'static str],
    /// The AWS API actions it calls (what Lambda itself does under the role is not listed).
    pub iam_actions: &'static [&'static str],
}

/// Every function of the stack.
pub const ALL: [&FunctionManifest; 4] = [
    &CREATE_PURCHASES,
    &CHECKOUT,
    &CATALOG_NOTIFICATIONS,
    &OPERATOR,
];

/// The `create-purchases` function.
pub const CREATE_PURCHASES: FunctionManifest = FunctionManifest {
    binary: "create-purchases",
    // Every environment variable the function reads (the stack's template sets them).
    environment: &[
        "AWS_CALL_ATTEMPT_TIMEOUT_MS",
        "AWS_CALL_TIMEOUT_MS",
        "PURCHASES_TABLE",
        "ALERTS_TOPIC_ARN",
        "CATALOG_TABLE",
        "PRICE_BOOK_CACHE_SECONDS",
        "ALLOWED_CALLER_ARNS",
        "RETENTION_DAYS",
        "AMOUNT_BASIS",
    ],
    // Those without which it does not start.
    required: &["PURCHASES_TABLE", "ALERTS_TOPIC_ARN", "CATALOG_TABLE"],
    // The AWS API actions it calls: the purchase store's insert (a conditional `PutItem`, reading
    // the existing item back on an old store), get and update (`GetItem`, `PutItem`; a purchase
    // split across items is written with `TransactWriteItems`, which IAM authorizes as its
    // `PutItem`s and the `DeleteItem`s of stale parts, and read with `TransactGetItems`, a
    // `GetItem`); the price book's head and parts in the catalog table (`GetItem`, read only);
    // alerts. It never lists Open purchases (no `Scan`).
    iam_actions: &[
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "sns:Publish",
    ],
};

/// The `checkout` function.
pub const CHECKOUT: FunctionManifest = FunctionManifest {
    binary: "checkout",
    // Every environment variable the function reads (the stack's template sets them).
    environment: &[
        "AWS_CALL_ATTEMPT_TIMEOUT_MS",
        "AWS_CALL_TIMEOUT_MS",
        "PURCHASES_TABLE",
        "ALERTS_TOPIC_ARN",
        "CHECKOUT_ENDPOINT",
        "CHECKOUT_REGION",
        "STUCK_OPEN_AFTER_MINUTES",
        "CATALOG_TABLE",
        "PRICE_BOOK_CACHE_SECONDS",
        "CHECKOUT_CONCURRENCY",
        "CHECKOUT_CALLS_PER_SECOND",
        "CHECKOUT_CONCURRENT_INVOCATIONS",
    ],
    // Those without which it does not start.
    required: &[
        "PURCHASES_TABLE",
        "ALERTS_TOPIC_ARN",
        "CHECKOUT_ENDPOINT",
        "CATALOG_TABLE",
    ],
    // The AWS API actions it calls: the purchase store's get, update (`GetItem`, `PutItem`, and
    // `DeleteItem` for the stale parts of a split purchase, as for Create Purchases) and pages
    // of Open purchases for the sweep (`Query` of the sparse index); the price book in the
    // catalog table (`GetItem`, read only) for carts stored without one; alerts. Reading the
    // stream and sending to the on-failure queue are Lambda's, under the same role.
    iam_actions: &[
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "sns:Publish",
    ],
};

/// The `catalog-notifications` function.
pub const CATALOG_NOTIFICATIONS: FunctionManifest = FunctionManifest {
    binary: "catalog-notifications",
    // Every environment variable the function reads (the stack's template sets them, but for the
    // local certificate, which tests use).
    environment: &[
        "AWS_CALL_ATTEMPT_TIMEOUT_MS",
        "AWS_CALL_TIMEOUT_MS",
        "CATALOG_TABLE",
        "ALERTS_TOPIC_ARN",
        "SNS_TOPIC_ARN",
        "SNS_SIGNATURES",
        "SNS_MIN_SIGNATURE_VERSION",
        "SNS_MAX_MESSAGE_AGE_SECONDS",
        "SNS_SIGNING_CERTIFICATE",
    ],
    // Those without which it does not start.
    required: &["CATALOG_TABLE", "ALERTS_TOPIC_ARN", "SNS_TOPIC_ARN"],
    // The AWS API actions it calls: the ingestion store (`PutItem` for a status or the
    // subscription, `GetItem`, `UpdateItem` to mark an alert sent), alerts, and confirming the
    // subscription. Receiving and deleting queue messages is Lambda's, under the same role.
    iam_actions: &[
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "sns:ConfirmSubscription",
        "sns:Publish",
    ],
};

/// The `operator` function: the operator routes (`/v1/purchases…`).
pub const OPERATOR: FunctionManifest = FunctionManifest {
    binary: "operator",
    // What the checkout reads (it completes purchases as the checkout does), and who may call.
    environment: &[
        "AWS_CALL_ATTEMPT_TIMEOUT_MS",
        "AWS_CALL_TIMEOUT_MS",
        "PURCHASES_TABLE",
        "ALERTS_TOPIC_ARN",
        "CHECKOUT_ENDPOINT",
        "CHECKOUT_REGION",
        "STUCK_OPEN_AFTER_MINUTES",
        "CATALOG_TABLE",
        "PRICE_BOOK_CACHE_SECONDS",
        "CHECKOUT_CONCURRENCY",
        "CHECKOUT_CALLS_PER_SECOND",
        "CHECKOUT_CONCURRENT_INVOCATIONS",
        "ALLOWED_CALLER_ARNS",
    ],
    required: &[
        "PURCHASES_TABLE",
        "ALERTS_TOPIC_ARN",
        "CHECKOUT_ENDPOINT",
        "CATALOG_TABLE",
        "ALLOWED_CALLER_ARNS",
    ],
    // The purchase store's get and update (`GetItem`, `PutItem`, `DeleteItem` for a split
    // purchase's stale parts) and pages of Open purchases (`Query` of the sparse index); the
    // price book for a reprice (`GetItem` on the catalog table); alerts of the checkouts it
    // runs. It never scans the table.
    iam_actions: &[
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "sns:Publish",
    ],
};
