//! AWS Signature Version 4 for Amazon's Just Walk Out APIs (service `execute-api`), with
//! `aws-sigv4`: signing for our calls, and verification for the simulators that stand in for
//! Amazon (and for `jwo serve --require-sigv4`), so a bad signature is caught before Amazon
//! sees it.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use chrono::{DateTime, NaiveDateTime, Utc};
use http::HeaderMap;

/// The signing name of API Gateway-fronted APIs, Amazon's included.
pub const SERVICE: &str = "execute-api";
/// How far a request's `X-Amz-Date` may be from the verifier's clock (AWS allows 5 minutes).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Signs a request and returns the headers to add (`authorization`, `x-amz-date`, and
/// `x-amz-security-token` for temporary credentials). `headers` are the request's own headers
/// (at least `host`); every one of them is signed. Sign again for every attempt: the date is part
/// of the signature.
pub fn sign_request(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    credentials: &Credentials,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(&'static str, String)>, String> {
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|error| error.to_string())?
        .into();
    let header_pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(name, value)| value.to_str().ok().map(|value| (name.as_str(), value)))
        .collect();
    let signable = SignableRequest::new(
        method,
        path_and_query,
        header_pairs.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|error| error.to_string())?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|error| error.to_string())?
        .into_parts();
    Ok(instructions
        .into_parts()
        .0
        .into_iter()
        .map(|header| (header.name(), header.value().to_owned()))
        .collect())
}

/// Why a signature was refused (the answer is 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request is not signed (no Authorization header)")]
    Missing,
    #[error("the Authorization header is not SigV4: {0}")]
    Malformed(String),
    #[error("access key {0} is not known")]
    UnknownAccessKey(String),
    #[error("signed for {found}, expected {expected}")]
    WrongScope { expected: String, found: String },
    #[error("X-Amz-Date {date} is {skew_seconds} s away from now; at most 300 s are accepted")]
    Stale { date: String, skew_seconds: i64 },
    #[error(
        "the signature does not match: wrong secret key, or the request was changed after signing"
    )]
    Mismatch,
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, SignatureError> {
    let malformed = |what: &str| SignatureError::Malformed(what.to_owned());
    let rest = value
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| malformed("algorithm is not AWS4-HMAC-SHA256"))?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(|| malformed("no Credential"))?;
    let mut scope = credential.split('/');
    let (access_key, date, region, service, terminator) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    );
    match (access_key, date, region, service, terminator, scope.next()) {
        (Some(access_key), Some(date), Some(region), Some(service), Some("aws4_request"), None) => {
            Ok(Authorization {
                access_key,
                date,
                region,
                service,
                signed_headers: signed_headers
                    .ok_or_else(|| malformed("no SignedHeaders"))?
                    .split(';')
                    .collect(),
                signature: signature.ok_or_else(|| malformed("no Signature"))?,
            })
        }
        _ => Err(malformed(
            "Credential is not ACCESS_KEY/DATE/REGION/SERVICE/aws4_request",
        )),
    }
}

/// Verifies a SigV4-signed request as API Gateway would: the scope (region, `execute-api`), the
/// date within [`MAX_CLOCK_SKEW`] of `now`, and the signature recomputed over the headers the
/// caller signed, with the secret of its access key. Returns the access key.
pub fn verify_request(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    secret_for: impl Fn(&str) -> Option<Credentials>,
    region: &str,
    now: SystemTime,
) -> Result<String, SignatureError> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let authorization =
        parse_authorization(header("authorization").ok_or(SignatureError::Missing)?)?;
    if authorization.region != region || authorization.service != SERVICE {
        return Err(SignatureError::WrongScope {
            expected: format!("{region}/{SERVICE}"),
            found: format!("{}/{}", authorization.region, authorization.service),
        });
    }
    let date_text =
        header("x-amz-date").ok_or_else(|| SignatureError::Malformed("no X-Amz-Date".into()))?;
    let signed_at = NaiveDateTime::parse_from_str(date_text, "%Y%m%dT%H%M%SZ")
        .map_err(|_| {
            SignatureError::Malformed(format!("X-Amz-Date '{date_text}' is not YYYYMMDDTHHMMSSZ"))
        })?
        .and_utc();
    if !date_text.starts_with(authorization.date) {
        return Err(SignatureError::Malformed(
            "the Credential date is not the X-Amz-Date day".into(),
        ));
    }
    let skew = DateTime::<Utc>::from(now) - signed_at;
    if skew.num_seconds().unsigned_abs() > MAX_CLOCK_SKEW.as_secs() {
        return Err(SignatureError::Stale {
            date: date_text.to_owned(),
            skew_seconds: skew.num_seconds(),
        });
    }
    let credentials = secret_for(authorization.access_key)
        .ok_or_else(|| SignatureError::UnknownAccessKey(authorization.access_key.to_owned()))?;

    // Recompute over exactly the headers the caller signed (the signer adds the date itself).
    let mut signed = HeaderMap::new();
    for name in &authorization.signed_headers {
        if *name == "x-amz-date" {
            continue;
        }
        let value = headers
            .get(*name)
            .ok_or_else(|| SignatureError::Malformed(format!("signed header {name} is missing")))?;
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| SignatureError::Malformed(e.to_string()))?;
        signed.insert(name, value.clone());
    }
    let expected = sign_request(
        method,
        path_and_query,
        &signed,
        body,
        &credentials,
        region,
        SystemTime::from(signed_at),
    )
    .map_err(SignatureError::Malformed)?;
    let expected_authorization = expected
        .iter()
        .find(|(name, _)| *name == "authorization")
        .map(|(_, value)| value.as_str())
        .ok_or(SignatureError::Mismatch)?;
    let expected = parse_authorization(expected_authorization)?;
    // Compared without stopping at the first difference.
    let same = expected.signature.len() == authorization.signature.len()
        && expected
            .signature
            .bytes()
            .zip(authorization.signature.bytes())
            .fold(0, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same || expected.signed_headers != authorization.signed_headers {
        return Err(SignatureError::Mismatch);
    }
    Ok(authorization.access_key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const PATH: &str = "/v1/checkout/carts";
    const BODY: &[u8] = br#"{"idempotentShoppingTripId":"t","storeId":"S","lineItems":[]}"#;

    fn credentials(secret: &str) -> Credentials {
        Credentials::new(KEY, secret, None, None, "test")
    }

    fn known(access_key: &str) -> Option<Credentials> {
        (access_key == KEY).then(|| credentials(SECRET))
    }

    /// A request as the checkout client sends it, signed at `time` with `secret`.
    fn signed(secret: &str, time: SystemTime) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "host",
            "us-east-1.test.checkout.amazonphysicalstores.com"
                .parse()
                .unwrap(),
        );
        headers.insert("content-type", "application/json".parse().unwrap());
        for (name, value) in sign_request(
            "POST",
            PATH,
            &headers,
            BODY,
            &credentials(secret),
            "us-east-1",
            time,
        )
        .unwrap()
        {
            headers.insert(name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn a_signed_request_verifies() {
        let now = SystemTime::now();
        let headers = signed(SECRET, now);
        assert!(
            headers["authorization"]
                .to_str()
                .unwrap()
                .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        );
        assert_eq!(
            verify_request("POST", PATH, &headers, BODY, known, "us-east-1", now),
            Ok(KEY.to_owned())
        );
        // Within the allowed skew either way.
        assert!(
            verify_request(
                "POST",
                PATH,
                &headers,
                BODY,
                known,
                "us-east-1",
                now + Duration::from_secs(240)
            )
            .is_ok()
        );
    }

    #[test]
    fn a_wrong_secret_a_change_or_a_stale_date_is_refused() {
        let now = SystemTime::now();
        let wrong = signed("not-the-secret", now);
        assert_eq!(
            verify_request("POST", PATH, &wrong, BODY, known, "us-east-1", now),
            Err(SignatureError::Mismatch)
        );

        let headers = signed(SECRET, now);
        let tampered = br#"{"idempotentShoppingTripId":"t","storeId":"S","lineItems":[1]}"#;
        assert_eq!(
            verify_request("POST", PATH, &headers, tampered, known, "us-east-1", now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_request(
                "POST",
                "/v1/checkout/other",
                &headers,
                BODY,
                known,
                "us-east-1",
                now
            ),
            Err(SignatureError::Mismatch)
        );

        let old = signed(SECRET, now - Duration::from_secs(600));
        assert!(matches!(
            verify_request("POST", PATH, &old, BODY, known, "us-east-1", now),
            Err(SignatureError::Stale { .. })
        ));

        assert!(matches!(
            verify_request("POST", PATH, &headers, BODY, known, "eu-west-1", now),
            Err(SignatureError::WrongScope { .. })
        ));
        assert!(matches!(
            verify_request("POST", PATH, &headers, BODY, |_| None, "us-east-1", now),
            Err(SignatureError::UnknownAccessKey(_))
        ));

        let mut unsigned = headers.clone();
        unsigned.remove("authorization");
        assert_eq!(
            verify_request("POST", PATH, &unsigned, BODY, known, "us-east-1", now),
            Err(SignatureError::Missing)
        );

        let mut garbled = headers;
        garbled.insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
        assert!(matches!(
            verify_request("POST", PATH, &garbled, BODY, known, "us-east-1", now),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn a_changed_signed_header_is_refused() {
        let now = SystemTime::now();
        let mut headers = signed(SECRET, now);
        headers.insert("content-type", "text/plain".parse().unwrap());
        assert_eq!(
            verify_request("POST", PATH, &headers, BODY, known, "us-east-1", now),
            Err(SignatureError::Mismatch)
        );
    }
}
