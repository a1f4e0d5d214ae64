//! Amazon's side of Create Purchases, as the test tools play it: `POST {URL}/v1/order/purchases`,
//! optionally SigV4-signed like the Ordering Gateway's calls.

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use bytes::Bytes;
use http::Uri;
use std::time::Duration;

use jwo_aws::amazon::http::{HttpClient, base_url, client, exchange, json_request};

/// The credentials and region requests are signed with. The provider is asked before each
/// request (it caches, and refreshes what expires), so a long-running `jwo mcp --sign` keeps
/// signing after a role session's credentials expire.
pub struct Signing {
    pub provider: SharedCredentialsProvider,
    pub region: String,
}

impl Signing {
    /// The standard AWS credential environment variables (or profile), via the SDK's chain.
    pub async fn from_environment(region: &str) -> Result<Signing, String> {
        let (provider, _) = jwo_aws::sdk::signing_credentials(region, "--sign").await?;
        Ok(Signing {
            provider,
            region: region.to_owned(),
        })
    }

    async fn credentials(&self) -> Result<Credentials, String> {
        use aws_credential_types::provider::ProvideCredentials;
        self.provider
            .provide_credentials()
            .await
            .map_err(|error| format!("--sign: no AWS credentials now: {error}"))
    }
}

/// Where the operator routes are and how to call them: the options of `jwo purchases` and
/// `jwo reprice`.
#[derive(Debug, clap::Args)]
pub struct OperatorEndpointArgs {
    /// Base URL of the connector: `jwo serve`'s, or the stack's InvokeUrl.
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub endpoint: String,
    /// Sign every request with SigV4 (service execute-api, --region) using the standard AWS
    /// credential environment variables (or profile): an operator role of the stack.
    #[arg(long, global = true)]
    pub sign: bool,
    #[arg(long, default_value = "us-east-1", global = true)]
    pub region: String,
}

impl OperatorEndpointArgs {
    pub async fn connect(&self) -> Result<PurchasesEndpoint, String> {
        let signing = if self.sign {
            Some(Signing::from_environment(&self.region).await?)
        } else {
            None
        };
        PurchasesEndpoint::new(&self.endpoint, signing)
    }
}

/// How long the test tools wait for one answer, and how much of it they read: a connector
/// that hangs or answers without end fails its case instead of stalling the tool.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct AnswerLimits {
    /// How long one request may wait for its whole answer.
    #[arg(long, value_name = "MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=300_000))]
    pub timeout_ms: u64,
    /// The largest answer read; a longer one fails its request. Create Purchases answers are a
    /// few hundred bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024, value_parser = clap::value_parser!(u64).range(1..=64 * 1024 * 1024))]
    pub max_answer_bytes: u64,
}

/// The operator routes' limits: a page is at most 4 MiB, and Lambda answers at most 6 MB.
const OPERATOR_TIMEOUT: Duration = Duration::from_secs(60);
const OPERATOR_MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

pub struct PurchasesEndpoint {
    base: Uri,
    http: HttpClient,
    signing: Option<Signing>,
    timeout: Duration,
    max_answer_bytes: usize,
}

impl PurchasesEndpoint {
    /// With the operator routes' limits (60 s, 8 MiB).
    pub fn new(base: &str, signing: Option<Signing>) -> Result<PurchasesEndpoint, String> {
        Ok(PurchasesEndpoint {
            base: base_url(base).map_err(|error| format!("--endpoint {error}"))?,
            http: client()?,
            signing,
            timeout: OPERATOR_TIMEOUT,
            max_answer_bytes: OPERATOR_MAX_ANSWER_BYTES,
        })
    }

    /// The same, waiting and reading at most what `limits` say.
    pub fn with_limits(mut self, limits: AnswerLimits) -> PurchasesEndpoint {
        self.timeout = Duration::from_millis(limits.timeout_ms);
        self.max_answer_bytes = usize::try_from(limits.max_answer_bytes).unwrap_or(usize::MAX);
        self
    }

    /// Posts `body` and returns the status and the answer's body, or why there was none.
    pub async fn post(&self, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
        self.call(http::Method::POST, create_purchases::PATH, body)
            .await
    }

    /// `method {URL}{path}` with a JSON `body` (signed like every call): the status and the
    /// answer's body, or why there was none. The operator routes are called this way.
    pub async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        let signed = match &self.signing {
            Some(signing) => Some((signing.credentials().await?, signing.region.as_str())),
            None => None,
        };
        let signing = signed
            .as_ref()
            .map(|(credentials, region)| (credentials, *region));
        let request = json_request(
            method,
            &self.base,
            path,
            Bytes::copy_from_slice(body),
            signing,
        )?;
        let (parts, body) =
            exchange(&self.http, request, self.timeout, self.max_answer_bytes).await?;
        Ok((parts.status.as_u16(), body.to_vec()))
    }

    /// `GET {URL}{path}` as JSON (the built-in simulator's stats), if there is such a page.
    pub async fn get_json(&self, path: &str) -> Option<serde_json::Value> {
        let uri = format!("{}{path}", self.base.to_string().trim_end_matches('/'));
        let request = http::Request::get(uri)
            .body(http_body_util::Full::new(Bytes::new()))
            .ok()?;
        let (parts, body) = exchange(&self.http, request, self.timeout, self.max_answer_bytes)
            .await
            .ok()?;
        if !parts.status.is_success() {
            return None;
        }
        serde_json::from_slice(&body).ok()
    }
}
