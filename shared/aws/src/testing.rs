//! For tests only (feature `testing`): a Checkout Service client tuned for a simulator on
//! loopback, and signing SNS messages the way SNS does (SignatureVersion 2, SHA256withRSA) with
//! the test-only key of `tests/fixtures/sns/`, whose certificate the tests configure as the
//! signing certificate. What moto delivers carries a placeholder signature; tests re-sign it
//! with this. (`make-fixtures` beside the key signs with openssl, from text made without this
//! code.)

use crate::sns::envelope::SnsEnvelope;
use crate::sns::signature::string_to_sign;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pki_types::PrivatePkcs8KeyDer;
use pki_types::pem::PemObject;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::Value;

/// The envelope, signed (SignatureVersion 2) with the PKCS #8 PEM key at `key`.
pub fn sign_sns(mut envelope: Value, key: &std::path::Path) -> Value {
    // The text is the connector's own; the openssl-signed fixtures check it independently.
    let parsed: SnsEnvelope = serde_json::from_value(envelope.clone()).expect("an SNS envelope");
    let text = string_to_sign(&parsed).expect("a signable envelope");
    let key = PrivatePkcs8KeyDer::from_pem_file(key).unwrap();
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

/// A Checkout Service client for tests against a simulator on loopback: signing with `key` and
/// `secret` for us-east-1, 300 ms an attempt, and quick retries (5 ms to 40 ms), at most
/// `max_attempts`.
pub fn checkout_client(
    endpoint: &str,
    key: &str,
    secret: &str,
    max_attempts: u32,
) -> crate::amazon::checkout_client::CheckoutClient {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use std::time::Duration;
    let credentials =
        SharedCredentialsProvider::new(Credentials::new(key, secret, None, None, "test"));
    let mut client =
        crate::amazon::checkout_client::CheckoutClient::new(endpoint, "us-east-1", credentials)
            .expect("a valid endpoint");
    client.attempt_timeout = Duration::from_millis(300);
    client.backoff = crate::retry::Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(40),
        max_attempts,
    };
    client
}

/// Checks a function's settings against its manifest: reading valid settings (`valid`) asks for
/// exactly the variables the manifest lists and succeeds, and leaving out any required one stops
/// the start with an error naming it. `read` is the function's settings reader.
pub fn assert_settings_follow_manifest(
    manifest: &crate::functions::FunctionManifest,
    read: impl Fn(&dyn Fn(&str) -> Option<String>) -> Result<(), String>,
    valid: impl Fn(&str) -> Option<String>,
) {
    let asked = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let read_valid = read(&|name| {
        asked.lock().unwrap().insert(name.to_owned());
        valid(name)
    });
    assert_eq!(read_valid, Ok(()), "{}", manifest.binary);
    let listed: std::collections::BTreeSet<String> = manifest
        .environment
        .iter()
        .map(|name| name.to_string())
        .collect();
    assert_eq!(asked.into_inner().unwrap(), listed, "{}", manifest.binary);
    for required in manifest.required {
        let without = read(&|name| (name != *required).then(|| valid(name)).flatten());
        assert_eq!(without, Err(format!("{required} is not set")));
    }
}
