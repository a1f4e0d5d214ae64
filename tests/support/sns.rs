//! Signing SNS messages the way SNS does (SignatureVersion 2, SHA256withRSA), with the test-only
//! key of `tests/fixtures/sns/` whose certificate the tests configure as the signing
//! certificate. What moto delivers carries a placeholder signature; tests re-sign it with this.
//! (`make-fixtures` beside the key signs with openssl, from text made without this code.)

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jwo_shared::contract::sns::SnsEnvelope;
use jwo_shared::sns_signature::string_to_sign;
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
    // The text is the connector's own; the openssl-signed fixtures check it independently.
    let parsed: SnsEnvelope = serde_json::from_value(envelope.clone()).expect("an SNS envelope");
    let text = string_to_sign(&parsed).expect("a signable envelope");
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
