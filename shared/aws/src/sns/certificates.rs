//! The certificates that sign SNS messages: fetched over HTTPS from the message's
//! `SigningCertURL`, only from SNS's own hosts, and kept for the life of the process (SNS
//! signs with few certificates); or one local PEM file for every message, where tests (or a
//! network with no way out) supply the certificate themselves.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;

use crate::amazon::http::{HttpClient, client, exchange};
use crate::sns::signature::{SignatureError, check_signing_cert_url};
use crate::sns::{CertificateError, SigningCertificates};

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

pub enum SnsCertificates {
    Fetched(Box<Fetched>),
    File(Arc<[u8]>),
}

pub struct Fetched {
    http: HttpClient,
    /// Which addresses may be fetched from.
    allowed: fn(&str) -> Result<(), SignatureError>,
    by_url: Mutex<HashMap<String, Arc<[u8]>>>,
}

impl SnsCertificates {
    /// From SNS itself: `https://sns.{region}.amazonaws.com/...pem`.
    pub fn from_sns() -> Result<SnsCertificates, String> {
        Ok(SnsCertificates::fetched(client()?, check_signing_cert_url))
    }

    fn fetched(http: HttpClient, allowed: fn(&str) -> Result<(), SignatureError>) -> Self {
        SnsCertificates::Fetched(Box::new(Fetched {
            http,
            allowed,
            by_url: Mutex::new(HashMap::new()),
        }))
    }

    /// One PEM file, read now, for every message whatever its `SigningCertURL`.
    pub fn file(path: &Path) -> Result<SnsCertificates, String> {
        std::fs::read(path)
            .map(|pem| SnsCertificates::File(pem.into()))
            .map_err(|error| {
                format!(
                    "cannot read the signing certificate {}: {error}",
                    path.display()
                )
            })
    }
}

impl SigningCertificates for SnsCertificates {
    async fn certificate(&self, url: &str) -> Result<Arc<[u8]>, CertificateError> {
        let Fetched {
            http,
            allowed,
            by_url,
        } = match self {
            SnsCertificates::File(pem) => return Ok(pem.clone()),
            SnsCertificates::Fetched(fetched) => fetched.as_ref(),
        };
        allowed(url)?;
        if let Some(pem) = by_url.lock().expect("certificate cache").get(url) {
            return Ok(pem.clone());
        }
        let request = Request::builder()
            .method(Method::GET)
            .uri(url)
            .body(Full::new(Bytes::new()))
            .map_err(|error| CertificateError::Unavailable(error.to_string()))?;
        let (answer, pem) = exchange(http, request, FETCH_TIMEOUT, MAX_CERTIFICATE_BYTES)
            .await
            .map_err(|error| CertificateError::Unavailable(format!("{url}: {error}")))?;
        if answer.status != StatusCode::OK {
            return Err(CertificateError::Unavailable(format!(
                "{url} answered {}",
                answer.status
            )));
        }
        let pem: Arc<[u8]> = pem.to_vec().into();
        by_url
            .lock()
            .expect("certificate cache")
            .insert(url.to_owned(), pem.clone());
        Ok(pem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A plain HTTP server answering every request with `status` and `body`; counts requests.
    async fn serve(status: &'static str, body: &'static str) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                counted.fetch_add(1, Ordering::SeqCst);
                let mut request = [0; 4096];
                let _ = socket.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        (format!("http://{address}/cert.pem"), requests)
    }

    fn any_url(_: &str) -> Result<(), SignatureError> {
        Ok(())
    }

    #[tokio::test]
    async fn fetches_once_per_address_and_keeps_it() {
        let (url, requests) = serve("200 OK", "-----BEGIN CERTIFICATE-----").await;
        let certificates = SnsCertificates::fetched(client().unwrap(), any_url);
        for _ in 0..3 {
            let pem = certificates.certificate(&url).await.unwrap();
            assert_eq!(&pem[..], b"-----BEGIN CERTIFICATE-----");
        }
        assert_eq!(requests.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_error_answer_is_to_be_tried_again_and_is_not_kept() {
        let (url, requests) = serve("503 Service Unavailable", "busy").await;
        let certificates = SnsCertificates::fetched(client().unwrap(), any_url);
        for _ in 0..2 {
            let error = certificates.certificate(&url).await.unwrap_err();
            assert!(
                matches!(error, CertificateError::Unavailable(ref why) if why.ends_with("answered 503 Service Unavailable")),
                "{error:?}"
            );
        }
        assert_eq!(requests.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn only_sns_addresses_are_fetched_from_sns() {
        let (url, requests) = serve("200 OK", "pem").await;
        let certificates = SnsCertificates::from_sns().unwrap();
        let error = certificates.certificate(&url).await.unwrap_err();
        assert!(
            matches!(
                error,
                CertificateError::Refused(SignatureError::CertificateUrl { .. })
            ),
            "{error:?}"
        );
        assert_eq!(requests.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_file_serves_every_address_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        std::fs::write(&path, "pem").unwrap();
        let certificates = SnsCertificates::file(&path).unwrap();
        let pem = certificates
            .certificate("https://anywhere/x.pem")
            .await
            .unwrap();
        assert_eq!(&pem[..], b"pem");
        let missing = dir.path().join("missing.pem");
        let error = SnsCertificates::file(&missing).err().unwrap();
        assert!(
            error.starts_with(&format!(
                "cannot read the signing certificate {}",
                missing.display()
            )),
            "{error}"
        );
    }
}
