//! SNS message signatures: the text SNS signs, where a signing certificate may come from, and
//! the check. `SignatureVersion` 1 is SHA1withRSA, 2 is SHA256withRSA, both PKCS #1 v1.5 over
//! `Key\nValue\n` of the message type's fields in a fixed order. Pure: fetching the
//! certificate is the caller's (an adapter), and trusting it rests on where it was fetched from.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pki_types::pem::PemObject;
use pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use ring::signature::{
    RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256, RsaParameters,
    UnparsedPublicKey,
};

use crate::sns::envelope::{SnsEnvelope, SnsMessageType};

/// Why a message's signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the message has no {0}")]
    Missing(&'static str),
    #[error("SignatureVersion '{0}' is not one SNS uses (1 or 2)")]
    UnknownVersion(String),
    #[error("Signature is not base64")]
    NotBase64,
    #[error("SigningCertURL '{url}' is not an SNS certificate address: {reason}")]
    CertificateUrl { url: String, reason: &'static str },
    #[error("the signing certificate cannot be read: {0}")]
    Certificate(String),
    #[error(
        "the signature does not verify: the message was changed, or not signed with the certificate's key"
    )]
    Mismatch,
}

/// The text SNS signs for this message: each field present of its type's list, in that order,
/// as `Key\nValue\n`.
pub fn string_to_sign(envelope: &SnsEnvelope) -> Result<String, SignatureError> {
    let optional = |value: &Option<String>| value.clone();
    let required = |value: &Option<String>, name: &'static str| {
        value.clone().map(Some).ok_or(SignatureError::Missing(name))
    };
    let fields: Vec<(&str, Option<String>)> = match envelope.message_type {
        SnsMessageType::Notification => vec![
            ("Message", Some(envelope.message.clone())),
            ("MessageId", Some(envelope.message_id.clone())),
            ("Subject", optional(&envelope.subject)),
            ("Timestamp", Some(envelope.timestamp.clone())),
            ("TopicArn", Some(envelope.topic_arn.clone())),
        ],
        SnsMessageType::SubscriptionConfirmation | SnsMessageType::UnsubscribeConfirmation => vec![
            ("Message", Some(envelope.message.clone())),
            ("MessageId", Some(envelope.message_id.clone())),
            (
                "SubscribeURL",
                required(&envelope.subscribe_url, "SubscribeURL")?,
            ),
            ("Timestamp", Some(envelope.timestamp.clone())),
            ("Token", required(&envelope.token, "Token")?),
            ("TopicArn", Some(envelope.topic_arn.clone())),
        ],
    };
    let mut text = String::new();
    let typed = [("Type", Some(envelope.message_type.as_str().to_owned()))];
    for (key, value) in fields.into_iter().chain(typed) {
        if let Some(value) = value {
            text.push_str(key);
            text.push('\n');
            text.push_str(&value);
            text.push('\n');
        }
    }
    Ok(text)
}

/// Whether a `SigningCertURL` is one of SNS's own: `https://sns.{region}.amazonaws.com/...pem`
/// (or `.amazonaws.com.cn`). Any other address could serve a forger's certificate.
pub fn check_signing_cert_url(url: &str) -> Result<(), SignatureError> {
    let refuse = |reason| SignatureError::CertificateUrl {
        url: url.to_owned(),
        reason,
    };
    let uri: http::Uri = url.parse().map_err(|_| refuse("not a URL"))?;
    if uri.scheme_str() != Some("https") {
        return Err(refuse("not https"));
    }
    let authority = uri.authority().ok_or_else(|| refuse("no host"))?;
    if authority.as_str().contains('@') || authority.port().is_some() {
        return Err(refuse("a user or port is given"));
    }
    let host = authority.host().to_ascii_lowercase();
    let region = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
        .and_then(|rest| rest.strip_prefix("sns."))
        .ok_or_else(|| refuse("the host is not sns.{region}.amazonaws.com"))?;
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(refuse("the host is not sns.{region}.amazonaws.com"));
    }
    if !uri.path().ends_with(".pem") {
        return Err(refuse("not a .pem file"));
    }
    Ok(())
}

/// Checks the message's signature against the certificate (PEM) that signed it.
pub fn verify(envelope: &SnsEnvelope, certificate_pem: &[u8]) -> Result<(), SignatureError> {
    let version = envelope
        .signature_version
        .as_deref()
        .ok_or(SignatureError::Missing("SignatureVersion"))?;
    let algorithm = match version {
        "1" => &SHA1_WITH_RSA,
        "2" => &SHA256_WITH_RSA,
        other => return Err(SignatureError::UnknownVersion(other.to_owned())),
    };
    let signature = STANDARD
        .decode(
            envelope
                .signature
                .as_deref()
                .ok_or(SignatureError::Missing("Signature"))?,
        )
        .map_err(|_| SignatureError::NotBase64)?;
    let text = string_to_sign(envelope)?;
    let der = CertificateDer::from_pem_slice(certificate_pem)
        .map_err(|error| SignatureError::Certificate(error.to_string()))?;
    let certificate = webpki::EndEntityCert::try_from(&der)
        .map_err(|error| SignatureError::Certificate(error.to_string()))?;
    certificate
        .verify_signature(algorithm, text.as_bytes(), &signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// RSA PKCS #1 v1.5 with the certificate's key, for webpki. SHA-1 is what SignatureVersion 1
/// is; webpki offers no SHA-1 of its own, since certificates stopped using it.
#[derive(Debug)]
struct RsaPkcs1 {
    parameters: &'static RsaParameters,
    signature_alg_id: AlgorithmIdentifier,
}

/// sha1WithRSAEncryption (1.2.840.113549.1.1.5), NULL parameters.
const SHA1_WITH_RSA: RsaPkcs1 = RsaPkcs1 {
    parameters: &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
    signature_alg_id: AlgorithmIdentifier::from_slice(&[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
    ]),
};

const SHA256_WITH_RSA: RsaPkcs1 = RsaPkcs1 {
    parameters: &RSA_PKCS1_2048_8192_SHA256,
    signature_alg_id: alg_id::RSA_PKCS1_SHA256,
};

impl SignatureVerificationAlgorithm for RsaPkcs1 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        UnparsedPublicKey::new(self.parameters, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sign_sns;
    use jwo_test_support::{fixture_text, sns_signing_key};

    fn envelope(name: &str) -> SnsEnvelope {
        serde_json::from_str(&fixture_text(&format!("sns/{name}"))).unwrap()
    }

    fn certificate() -> Vec<u8> {
        fixture_text("sns/signing-cert.pem").into_bytes()
    }

    #[test]
    fn verifies_what_openssl_signed_in_both_versions() {
        // The fixtures were signed by openssl over text made by a Python script
        // (tests/fixtures/sns/make-fixtures), not by this module.
        let notification = envelope("notification_signature_v1.json");
        assert_eq!(notification.signature_version.as_deref(), Some("1"));
        assert_eq!(verify(&notification, &certificate()), Ok(()));
        let confirmation = envelope("subscription_confirmation_signature_v2.json");
        assert_eq!(confirmation.signature_version.as_deref(), Some("2"));
        assert_eq!(verify(&confirmation, &certificate()), Ok(()));
    }

    #[test]
    fn a_changed_field_or_another_key_does_not_verify() {
        let signed = envelope("notification_signature_v1.json");
        let mut changed = signed.clone();
        changed.message = changed.message.replace("DONE", "FATAL");
        assert_eq!(
            verify(&changed, &certificate()),
            Err(SignatureError::Mismatch)
        );
        let mut retitled = signed.clone();
        retitled.subject = None;
        assert_eq!(
            verify(&retitled, &certificate()),
            Err(SignatureError::Mismatch)
        );
        let mut other_version = signed.clone();
        other_version.signature_version = Some("2".into());
        assert_eq!(
            verify(&other_version, &certificate()),
            Err(SignatureError::Mismatch)
        );

        // A key of the forger's own, well formed, is still not the certificate's.
        let other_certificate = fixture_text("sns/other-cert.pem");
        assert_eq!(
            verify(&signed, other_certificate.as_bytes()),
            Err(SignatureError::Mismatch)
        );
        // Fields outside the signed list may change (SNS does not sign them).
        let mut unsigned_field = signed.clone();
        unsigned_field.unsubscribe_url = Some("https://example.com".into());
        assert_eq!(verify(&unsigned_field, &certificate()), Ok(()));
    }

    #[test]
    fn signs_and_verifies_any_message_with_the_test_key() {
        let mut confirmation = envelope("subscription_confirmation_signature_v2.json");
        confirmation.token = Some("another-token".into());
        assert_eq!(
            verify(&confirmation, &certificate()),
            Err(SignatureError::Mismatch)
        );
        let resigned: SnsEnvelope = serde_json::from_value(sign_sns(
            serde_json::to_value(&confirmation).unwrap(),
            &sns_signing_key(),
        ))
        .unwrap();
        assert_eq!(verify(&resigned, &certificate()), Ok(()));
    }

    #[test]
    fn refuses_what_cannot_be_checked_naming_why() {
        let signed = envelope("notification_signature_v1.json");
        let with = |change: fn(&mut SnsEnvelope)| {
            let mut envelope = signed.clone();
            change(&mut envelope);
            verify(&envelope, &certificate()).unwrap_err().to_string()
        };
        assert_eq!(
            with(|e| e.signature_version = None),
            "the message has no SignatureVersion"
        );
        assert_eq!(
            with(|e| e.signature_version = Some("3".into())),
            "SignatureVersion '3' is not one SNS uses (1 or 2)"
        );
        assert_eq!(with(|e| e.signature = None), "the message has no Signature");
        assert_eq!(
            with(|e| e.signature = Some("***".into())),
            "Signature is not base64"
        );
        let mut confirmation = envelope("subscription_confirmation_signature_v2.json");
        confirmation.subscribe_url = None;
        assert_eq!(
            verify(&confirmation, &certificate()),
            Err(SignatureError::Missing("SubscribeURL"))
        );
        let error = verify(&signed, b"not a certificate").unwrap_err();
        assert!(matches!(error, SignatureError::Certificate(_)), "{error:?}");
    }

    #[test]
    fn only_sns_hosts_may_serve_signing_certificates() {
        for good in [
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
            "https://SNS.eu-west-2.amazonaws.com/x.pem",
        ] {
            assert_eq!(check_signing_cert_url(good), Ok(()), "{good}");
        }
        for (bad, reason) in [
            ("http://sns.us-east-1.amazonaws.com/a.pem", "not https"),
            (
                "https://sns.us-east-1.amazonaws.com.evil.com/a.pem",
                "the host is not sns.{region}.amazonaws.com",
            ),
            (
                "https://evil.com/sns.us-east-1.amazonaws.com/a.pem",
                "the host is not sns.{region}.amazonaws.com",
            ),
            (
                "https://sns.amazonaws.com/a.pem",
                "the host is not sns.{region}.amazonaws.com",
            ),
            (
                "https://s3.us-east-1.amazonaws.com/a.pem",
                "the host is not sns.{region}.amazonaws.com",
            ),
            (
                "https://sns.us_east.amazonaws.com/a.pem",
                "the host is not sns.{region}.amazonaws.com",
            ),
            (
                "https://me@sns.us-east-1.amazonaws.com/a.pem",
                "a user or port is given",
            ),
            (
                "https://sns.us-east-1.amazonaws.com:8443/a.pem",
                "a user or port is given",
            ),
            (
                "https://sns.us-east-1.amazonaws.com/a.txt",
                "not a .pem file",
            ),
            ("not a url at all", "not a URL"),
        ] {
            assert_eq!(
                check_signing_cert_url(bad),
                Err(SignatureError::CertificateUrl {
                    url: bad.to_owned(),
                    reason
                }),
                "{bad}"
            );
        }
    }
}
