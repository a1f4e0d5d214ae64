//! Amazon's side of Create Purchases, as the test tools play it: `POST {URL}/v1/order/purchases`,
//! optionally SigV4-signed like the Ordering Gateway's calls.

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use bytes::Bytes;
use http::Uri;
use http_body_util::BodyExt;
use jwo_aws::amazon::http::{HttpClient, base_url, client, json_request};

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

pub struct PurchasesEndpoint {
    base: Uri,
    http: HttpClient,
    signing: Option<Signing>,
}

impl PurchasesEndpoint {
    pub fn new(base: &str, signing: Option<Signing>) -> Result<PurchasesEndpoint, String> {
        Ok(PurchasesEndpoint {
            base: base_url(base).map_err(|error| format!("--endpoint {error}"))?,
            http: client()?,
            signing,
        })
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
        let response = self
            .http
            .request(request)
            .await
            .map_err(|error| format!("no answer: {error}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| format!("reading the answer failed: {error}"))?
            .to_bytes();
        Ok((status, body.to_vec()))
    }

    /// `GET {URL}{path}` as JSON (the built-in simulator's stats), if there is such a page.
    pub async fn get_json(&self, path: &str) -> Option<serde_json::Value> {
        let uri = format!("{}{path}", self.base.to_string().trim_end_matches('/'));
        let request = http::Request::get(uri)
            .body(http_body_util::Full::new(Bytes::new()))
            .ok()?;
        let response = self.http.request(request).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let body = response.into_body().collect().await.ok()?.to_bytes();
        serde_json::from_slice(&body).ok()
    }
}
