//! The one HTTP(S) client the project's own calls use (Amazon's APIs, and the `jwo` test
//! tools): hyper over rustls with the ring provider and the system's roots; plain `http://`
//! for local stand-ins.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::sigv4;

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

pub fn client() -> Result<HttpClient, String> {
    let mut http = HttpConnector::new();
    // A request's head and body can go out as two writes; with Nagle on, the second waits for
    // the peer's (delayed) ACK of the first, adding up to tens of milliseconds.
    http.set_nodelay(true);
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|error| format!("cannot load the system's root certificates: {error}"))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// `POST {base}{path}` of a JSON `body`, SigV4-signed (`execute-api`) when `signing` gives the
/// credentials and region. Sign anew for every attempt: the date is part of the signature.
pub fn json_post(
    base: &Uri,
    path: &str,
    body: Bytes,
    signing: Option<(&Credentials, &str)>,
) -> Result<Request<Full<Bytes>>, String> {
    json_request(Method::POST, base, path, body, signing)
}

/// [`json_post`] with another method (the operator routes' GET, PATCH).
pub fn json_request(
    method: Method,
    base: &Uri,
    path: &str,
    body: Bytes,
    signing: Option<(&Credentials, &str)>,
) -> Result<Request<Full<Bytes>>, String> {
    let authority = base
        .authority()
        .ok_or_else(|| format!("{base} has no host"))?
        .clone();
    let path = format!("{}{path}", base.path().trim_end_matches('/'));
    let mut headers = HeaderMap::new();
    headers.insert(
        HOST,
        HeaderValue::from_str(authority.as_str()).map_err(|error| error.to_string())?,
    );
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let signature = match signing {
        Some((credentials, region)) => sigv4::sign_request(
            method.as_str(),
            &path,
            &headers,
            &body,
            credentials,
            region,
            SystemTime::now(),
        )
        .map_err(|error| format!("cannot sign: {error}"))?,
        None => Vec::new(),
    };
    let uri = Uri::builder()
        .scheme(base.scheme_str().unwrap_or("https"))
        .authority(authority)
        .path_and_query(path.as_str())
        .build()
        .map_err(|error| error.to_string())?;
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    for (name, value) in signature {
        request = request.header(name, value);
    }
    request
        .body(Full::new(body))
        .map_err(|error| error.to_string())
}

/// Sends `request` and reads the answer (at most `max_bytes` of it), all within `timeout`.
/// Every failure (connect, send, read, time) is a message: the callers treat them alike, as
/// transient.
pub async fn exchange(
    http: &HttpClient,
    request: Request<Full<Bytes>>,
    timeout: std::time::Duration,
    max_bytes: usize,
) -> Result<(http::response::Parts, Bytes), String> {
    use http_body_util::{BodyExt, Limited};
    let exchange = async {
        let response = http
            .request(request)
            .await
            .map_err(|error| format!("request failed: {error}"))?;
        let (parts, body) = response.into_parts();
        let answer = Limited::new(body, max_bytes)
            .collect()
            .await
            .map_err(|error| format!("reading the answer failed: {error}"))?
            .to_bytes();
        Ok((parts, answer))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Err(format!("no answer within {timeout:?}")),
        Ok(result) => result,
    }
}

/// A base URL from configuration or the command line: `http(s)://host[:port][/prefix]`.
pub fn base_url(text: &str) -> Result<Uri, String> {
    let base: Uri = text
        .trim_end_matches('/')
        .parse()
        .map_err(|error| format!("'{text}' is not a URL: {error}"))?;
    match (base.scheme_str(), base.authority()) {
        (Some("https" | "http"), Some(_)) => Ok(base),
        _ => Err(format!("'{text}' must be an http(s) URL with a host")),
    }
}
