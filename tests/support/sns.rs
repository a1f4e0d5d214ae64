//! Signing SNS messages the way SNS does (SignatureVersion 2, SHA256withRSA), with the test-only
//! key of `tests/fixtures/sns/` whose certificate the tests configure as the signing
//! certificate. What moto delivers carries a placeholder signature; tests re-sign it with this.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pki_types::PrivatePkcs8KeyDer;
use pki_types::pem::PemObject;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::Value;

use crate::fixtures;

/// Where the tests' signing certificate is.
pub fn sns_signing_certificate() -> std::path::PathBuf {
    fixtures("sns/signing-cert.pem")
}

/// The envelope, signed (SignatureVersion 2) with the test key.
pub fn sign_sns(mut envelope: Value) -> Value {
    let fields: &[&str] = match envelope["Type"].as_str() {
        Some("Notification") => &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ],
        _ => &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ],
    };
    let mut text = String::new();
    for field in fields {
        if let Some(value) = envelope[*field].as_str() {
            text.push_str(&format!("{field}\n{value}\n"));
        }
    }
    let key = PrivatePkcs8KeyDer::from_pem_file(fixtures("sns/signing-key.pem")).unwrap();
    let key = RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).unwrap();
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        text.as_bytes(),
        &mut signature,
    )
    .unwrap();
    envelope["SignatureVersion"] = "2".into();
    envelope["Signature"] = STANDARD.encode(signature).into();
    envelope["SigningCertURL"] =
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem".into();
    envelope
}
