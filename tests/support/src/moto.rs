//! The AWS emulator (`moto_server`, PyPI `moto[server]`) for tests that need DynamoDB, SNS or
//! SQS. `infra/scripts/test` starts one for the whole run and exports `MOTO_ENDPOINT`; a test
//! binary run on its own starts its own from `.venv/bin/moto_server` (or `$MOTO_SERVER`), which
//! stops when the test process ends.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The emulator's base URL (`http://127.0.0.1:PORT`), started on first use.
pub fn moto_endpoint() -> &'static str {
    ENDPOINT.get_or_init(|| match std::env::var("MOTO_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => start_moto(),
    })
}

fn start_moto() -> String {
    let server = std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join(".venv/bin/moto_server"));
    assert!(
        server.exists(),
        "{} not found: run infra/scripts/test (it installs moto into .venv), or set MOTO_ENDPOINT \
         to a running moto_server, or MOTO_SERVER to its path",
        server.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A watchdog shell stops the emulator when this test process goes away.
    let script = format!(
        "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & child=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $child",
        server.display(),
        parent = std::process::id()
    );
    let mut watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .spawn()
        .expect("sh starts moto_server");
    // Reaped whenever it ends, so it never lingers as a zombie.
    std::thread::spawn(move || watchdog.wait());
    wait_for_port(port, Duration::from_secs(60));
    format!("http://127.0.0.1:{port}")
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "nothing listens on port {port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A name no other test in this run uses (tables, topics, queues).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new SNS topic on the emulator, with a new SQS queue subscribed to it (raw message delivery
/// as asked): `(topic ARN, queue URL)`.
pub async fn topic_with_queue(aws: &aws_config::SdkConfig, raw_delivery: bool) -> (String, String) {
    let sqs = aws_sdk_sqs::Client::new(aws);
    let topic_arn = new_topic(aws).await;
    let queue_url = sqs
        .create_queue()
        .queue_name(unique_name("inbox"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    subscribe_queue(aws, &topic_arn, &queue_url, raw_delivery).await;
    (topic_arn, queue_url)
}

/// Subscribes the queue at `queue_url` to `topic_arn` (one more topic sending to it).
pub async fn subscribe_queue(
    aws: &aws_config::SdkConfig,
    topic_arn: &str,
    queue_url: &str,
    raw_delivery: bool,
) {
    let sns = aws_sdk_sns::Client::new(aws);
    let sqs = aws_sdk_sqs::Client::new(aws);
    let arn = aws_sdk_sqs::types::QueueAttributeName::QueueArn;
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(arn.clone())
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&arn]
        .clone();
    let mut subscribe = sns
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn);
    if raw_delivery {
        subscribe = subscribe.attributes("RawMessageDelivery", "true");
    }
    subscribe.send().await.unwrap();
}

/// A new SNS topic on the emulator: its ARN.
pub async fn new_topic(aws: &aws_config::SdkConfig) -> String {
    aws_sdk_sns::Client::new(aws)
        .create_topic()
        .name(unique_name("topic"))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap()
}
