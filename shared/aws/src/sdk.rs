//! One way to reach AWS: the SDK configuration every adapter's client is built from.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// Defaults plus the HTTPS client of every AWS SDK client here: hyper with rustls on ring.
fn loader() -> ConfigLoader {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(https)
}

/// The SDK configuration from the environment: region, credential chain, and
/// `AWS_ENDPOINT_URL` (how tests and local runs point at the `moto` emulator).
pub async fn sdk_config() -> SdkConfig {
    loader().load().await
}

/// The SDK configuration for an AWS emulator on loopback (`moto_server`): its endpoint, region
/// us-east-1 and fixed test credentials. For tests and local runs only.
pub async fn emulator_sdk_config(endpoint: &str) -> SdkConfig {
    let credentials =
        aws_credential_types::Credentials::new("testing", "testing", None, None, "emulator");
    loader()
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
    let config = loader()
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
