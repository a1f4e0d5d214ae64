//! One way to reach AWS: the SDK configuration every adapter's client is built from.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::settings::Settings;

/// How long an AWS call may take: one attempt, and all its retries together. Without them a
/// stalled `PutItem` right after a 201 would hold the outcome until the function timed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallTimeouts {
    /// `AWS_CALL_ATTEMPT_TIMEOUT_MS` (default 3,000).
    pub attempt: Duration,
    /// `AWS_CALL_TIMEOUT_MS` (default 10,000): every attempt of one call.
    pub call: Duration,
}

impl Default for CallTimeouts {
    fn default() -> Self {
        CallTimeouts {
            attempt: Duration::from_millis(3_000),
            call: Duration::from_millis(10_000),
        }
    }
}

impl CallTimeouts {
    /// The two environment variables every function reads for them.
    pub const ENVIRONMENT: [&'static str; 2] =
        ["AWS_CALL_ATTEMPT_TIMEOUT_MS", "AWS_CALL_TIMEOUT_MS"];

    /// Read from a function's settings; a call's budget must cover one attempt.
    pub fn from_settings<F: Fn(&str) -> Option<String>>(
        settings: &Settings<F>,
    ) -> Result<CallTimeouts, String> {
        let defaults = CallTimeouts::default();
        let millis = |name: &str, default: Duration| {
            settings
                .whole_number(name, 100..=900_000, "milliseconds")
                .map(|ms| ms.map_or(default, |ms| Duration::from_millis(u64::from(ms))))
        };
        let timeouts = CallTimeouts {
            attempt: millis(Self::ENVIRONMENT[0], defaults.attempt)?,
            call: millis(Self::ENVIRONMENT[1], defaults.call)?,
        };
        if timeouts.call < timeouts.attempt {
            return Err(format!(
                "AWS_CALL_TIMEOUT_MS ({} ms) is shorter than AWS_CALL_ATTEMPT_TIMEOUT_MS ({} ms)",
                timeouts.call.as_millis(),
                timeouts.attempt.as_millis()
            ));
        }
        Ok(timeouts)
    }
}

/// Defaults plus the HTTPS client of every AWS SDK client here (hyper with rustls on ring) and
/// the call timeouts.
fn loader(timeouts: CallTimeouts) -> ConfigLoader {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let timeout_config = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3).min(timeouts.attempt))
        .operation_attempt_timeout(timeouts.attempt)
        .operation_timeout(timeouts.call)
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .timeout_config(timeout_config)
}

/// The SDK configuration from the environment: region, credential chain, and
/// `AWS_ENDPOINT_URL` (how tests and local runs point at the `moto` emulator).
pub async fn sdk_config(timeouts: CallTimeouts) -> SdkConfig {
    loader(timeouts).load().await
}

/// The SDK configuration for an AWS emulator on loopback (`moto_server`): its endpoint, region
/// us-east-1 and fixed test credentials. For tests and local runs only. Its timeouts are
/// generous: one emulator serves a whole parallel test run on two cores, and a `CreateTable`
/// retried after a timeout would fail with "already exists" although it went through.
pub async fn emulator_sdk_config(endpoint: &str) -> SdkConfig {
    let credentials =
        aws_credential_types::Credentials::new("testing", "testing", None, None, "emulator");
    loader(CallTimeouts {
        attempt: Duration::from_secs(30),
        call: Duration::from_secs(90),
    })
    .endpoint_url(endpoint)
    .region(aws_config::Region::new("us-east-1"))
    .credentials_provider(credentials)
    .load()
    .await
}

/// Credentials from the environment's chain (variables, profile, role) for signing requests to
/// `region`, fetched once now so a missing one is reported at start, naming what to set.
pub async fn signing_credentials(
    region: &str,
    why: &str,
) -> Result<
    (
        aws_credential_types::provider::SharedCredentialsProvider,
        aws_credential_types::Credentials,
    ),
    String,
> {
    use aws_credential_types::provider::ProvideCredentials;
    let missing =
        format!("{why} needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    let config = loader(CallTimeouts::default())
        .region(aws_config::Region::new(region.to_owned()))
        .load()
        .await;
    let provider = config.credentials_provider().ok_or(missing.clone())?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|error| format!("{missing} ({error})"))?;
    Ok((provider, credentials))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts(values: &'static [(&'static str, &'static str)]) -> Result<CallTimeouts, String> {
        CallTimeouts::from_settings(&Settings::new(|name: &str| {
            values
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }))
    }

    #[test]
    fn call_timeouts_are_read_checked_and_defaulted() {
        assert_eq!(timeouts(&[]), Ok(CallTimeouts::default()));
        assert_eq!(
            timeouts(&[
                ("AWS_CALL_ATTEMPT_TIMEOUT_MS", "500"),
                ("AWS_CALL_TIMEOUT_MS", " ")
            ]),
            Ok(CallTimeouts {
                attempt: Duration::from_millis(500),
                call: CallTimeouts::default().call,
            })
        );
        let error = timeouts(&[
            ("AWS_CALL_ATTEMPT_TIMEOUT_MS", "5000"),
            ("AWS_CALL_TIMEOUT_MS", "1000"),
        ])
        .unwrap_err();
        assert!(error.contains("AWS_CALL_TIMEOUT_MS"), "{error}");
        assert!(timeouts(&[("AWS_CALL_TIMEOUT_MS", "0")]).is_err());
    }

    /// A DynamoDB endpoint that accepts connections and never answers: the call ends with an
    /// error once its budget is spent, instead of waiting for ever.
    #[tokio::test]
    async fn a_stalled_call_ends_at_its_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().take(16) {
                held.push(stream);
            }
        });
        let stalled = CallTimeouts {
            attempt: Duration::from_millis(200),
            call: Duration::from_millis(500),
        };
        let credentials =
            aws_credential_types::Credentials::new("testing", "testing", None, None, "test");
        let config = loader(stalled)
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .load()
            .await;
        let client = aws_sdk_dynamodb::Client::new(&config);
        // The guard only keeps a broken build from hanging the suite; it is 60 times the budget.
        let call = client.get_item().table_name("t").send();
        let result = tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .expect("the SDK's own timeout ends the call");
        assert!(result.is_err());
    }
}
