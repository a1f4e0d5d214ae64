//! Configuration, from environment variables (README "Configuration"): the checkout's own
//! settings (the operator completes purchases as the checkout does), and who may call.

use jwo_aws::callers::AllowedCallers;

/// The Lambda's settings, read once at cold start; a missing or bad one stops the start with
/// an error naming it.
#[derive(Debug, Clone)]
pub struct LambdaSettings {
    /// Everything the checkout reads: the purchases table, the alerts topic, the Checkout
    /// Service's endpoint and region, the catalog table and its cache, AWS call timeouts.
    pub checkout: checkout::config::LambdaSettings,
    /// `ALLOWED_CALLER_ARNS` (required, not blank): the operators' IAM roles. The operator
    /// changes and checks out purchases, so it never falls back to "any caller".
    pub allowed_callers: AllowedCallers,
}

impl LambdaSettings {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LambdaSettings, String> {
        let checkout = checkout::config::LambdaSettings::from_lookup(&get)?;
        let settings = jwo_aws::settings::Settings::new(&get);
        let allowed = settings.required("ALLOWED_CALLER_ARNS")?;
        let allowed_callers =
            AllowedCallers::parse(&allowed).map_err(|e| format!("ALLOWED_CALLER_ARNS: {e}"))?;
        if allowed_callers == AllowedCallers::any() {
            return Err(
                "ALLOWED_CALLER_ARNS names no role: give the operators' role ARNs, comma-separated"
                    .into(),
            );
        }
        Ok(LambdaSettings {
            checkout,
            allowed_callers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(name: &str) -> Option<String> {
        match name {
            "PURCHASES_TABLE" => Some("purchases".into()),
            "ALERTS_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:alerts".into()),
            "CATALOG_TABLE" => Some("catalog".into()),
            "CHECKOUT_ENDPOINT" => {
                Some("https://us-east-1.test.checkout.amazonphysicalstores.com".into())
            }
            "ALLOWED_CALLER_ARNS" => Some("arn:aws:iam::111122223333:role/Operator".into()),
            _ => None,
        }
    }

    #[test]
    fn the_environment_list_is_what_is_read() {
        jwo_aws::testing::assert_settings_follow_manifest(
            &jwo_aws::functions::OPERATOR,
            |get| LambdaSettings::from_lookup(get).map(|_| ()),
            base,
        );
    }

    #[test]
    fn the_allowlist_is_required_and_never_blank() {
        assert!(LambdaSettings::from_lookup(base).is_ok());
        for blank in [None, Some(" "), Some(","), Some(" , ")] {
            let error = LambdaSettings::from_lookup(|n| match n {
                "ALLOWED_CALLER_ARNS" => blank.map(str::to_owned),
                _ => base(n),
            })
            .unwrap_err();
            assert!(
                error.starts_with("ALLOWED_CALLER_ARNS"),
                "{blank:?}: {error}"
            );
        }
    }
}
