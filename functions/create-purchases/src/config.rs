//! Configuration, from environment variables (README "Configuration").

use chrono::Duration;
use jwo_aws::settings::Settings;
use jwo_domain::contract::checkout::AmountBasis;

use crate::DEFAULT_RETENTION;

/// The longest retention (ten years): a bound, so the expiry of a purchase is always a date.
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// What the handler needs to know, whatever runs it.
#[derive(Debug, Clone)]
pub struct Config {
    /// Defence in depth behind API Gateway's IAM authorization.
    pub allowed_callers: AllowedCallers,
    /// How long purchase records are kept.
    pub retention: Duration,
    /// Overrides the price book's amount basis.
    pub basis: Option<AmountBasis>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            allowed_callers: AllowedCallers::any(),
            retention: DEFAULT_RETENTION,
            basis: None,
        }
    }
}

pub use jwo_aws::callers::AllowedCallers;

/// The Lambda's settings. Read once at cold start; a missing or bad one stops the start with an
/// error naming it.
#[derive(Debug, Clone)]
pub struct LambdaSettings {
    /// `AWS_CALL_ATTEMPT_TIMEOUT_MS`, `AWS_CALL_TIMEOUT_MS`: how long an AWS call may take.
    pub call_timeouts: jwo_aws::sdk::CallTimeouts,
    /// `PURCHASES_TABLE`: the DynamoDB table of purchases.
    pub purchases_table: String,
    /// `ALERTS_TOPIC_ARN`: the SNS topic alerts go to.
    pub alerts_topic_arn: String,
    /// `CATALOG_TABLE`: the catalog table, where `jwo catalog import` puts price book versions.
    pub catalog_table: String,
    /// `PRICE_BOOK_CACHE_SECONDS` (default 30): how long a price book version is used before
    /// the table is asked whether a newer one is current.
    pub price_book_cache: std::time::Duration,
    pub config: Config,
}

impl LambdaSettings {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LambdaSettings, String> {
        let settings = Settings::new(get);
        let call_timeouts = jwo_aws::sdk::CallTimeouts::from_settings(&settings)?;
        let required = |name: &str| settings.required(name);
        let allowed_callers = match settings.as_set("ALLOWED_CALLER_ARNS") {
            Some(list) => {
                AllowedCallers::parse(&list).map_err(|e| format!("ALLOWED_CALLER_ARNS: {e}"))?
            }
            None => AllowedCallers::any(),
        };
        let retention = settings
            .whole_number("RETENTION_DAYS", 1..=MAX_RETENTION_DAYS, "days")?
            .map_or(DEFAULT_RETENTION, |days| Duration::days(i64::from(days)));
        let basis = settings
            .optional("AMOUNT_BASIS")
            .map(|basis| {
                basis
                    .parse::<AmountBasis>()
                    .map_err(|e| format!("AMOUNT_BASIS: {e}"))
            })
            .transpose()?;
        let price_book_cache = jwo_aws::settings::price_book_cache(&settings)?;
        Ok(LambdaSettings {
            call_timeouts,
            purchases_table: required("PURCHASES_TABLE")?,
            alerts_topic_arn: required("ALERTS_TOPIC_ARN")?,
            catalog_table: required("CATALOG_TABLE")?,
            price_book_cache,
            config: Config {
                allowed_callers,
                retention,
                basis,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid value for each setting.
    fn valid(name: &str) -> Option<String> {
        Some(match name {
            "ALLOWED_CALLER_ARNS" => "arn:aws:iam::111122223333:role/OrderingGateway".to_owned(),
            "RETENTION_DAYS" => "30".to_owned(),
            "AMOUNT_BASIS" => "line".to_owned(),
            "PRICE_BOOK_CACHE_SECONDS" => "10".to_owned(),
            "AWS_CALL_ATTEMPT_TIMEOUT_MS" => "2000".to_owned(),
            "AWS_CALL_TIMEOUT_MS" => "8000".to_owned(),
            other => other.to_lowercase(),
        })
    }

    #[test]
    fn the_environment_list_is_what_is_read() {
        jwo_aws::testing::assert_settings_follow_manifest(
            &jwo_aws::functions::CREATE_PURCHASES,
            |get| LambdaSettings::from_lookup(get).map(|_| ()),
            valid,
        );
    }

    /// An allowlist present but blank stops the function at start, naming the variable,
    /// instead of letting every caller in.
    #[test]
    fn a_blank_allowlist_fails_closed() {
        for blank in ["", ",", "  "] {
            let refused = LambdaSettings::from_lookup(|name| match name {
                "ALLOWED_CALLER_ARNS" => Some(blank.to_owned()),
                other => valid(other),
            });
            let Err(error) = refused else {
                panic!("a blank allowlist {blank:?} was let through");
            };
            assert!(error.contains("ALLOWED_CALLER_ARNS"), "{error}");
        }
    }

    #[test]
    fn settings_name_what_is_missing_or_wrong() {
        let base = |name: &str| match name {
            "PURCHASES_TABLE" => Some("purchases".to_owned()),
            "ALERTS_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:alerts".to_owned()),
            "CATALOG_TABLE" => Some("catalog".to_owned()),
            _ => None,
        };
        let settings = LambdaSettings::from_lookup(base).unwrap();
        assert_eq!(settings.config.retention, Duration::days(30));
        assert_eq!(settings.config.basis, None);
        assert_eq!(
            settings.price_book_cache,
            jwo_domain::catalog::price_book_versions::DEFAULT_PRICE_BOOK_CACHE
        );
        let bad_cache = LambdaSettings::from_lookup(|n| {
            if n == "PRICE_BOOK_CACHE_SECONDS" {
                Some("soon".into())
            } else {
                base(n)
            }
        });
        assert!(
            bad_cache
                .unwrap_err()
                .starts_with("PRICE_BOOK_CACHE_SECONDS")
        );
        let without_table = LambdaSettings::from_lookup(|n| {
            if n == "PURCHASES_TABLE" {
                None
            } else {
                base(n)
            }
        });
        assert_eq!(without_table.unwrap_err(), "PURCHASES_TABLE is not set");
        let bad_days = LambdaSettings::from_lookup(|n| {
            if n == "RETENTION_DAYS" {
                Some("0".into())
            } else {
                base(n)
            }
        });
        assert!(bad_days.unwrap_err().starts_with("RETENTION_DAYS"));
        let unit = LambdaSettings::from_lookup(|n| {
            if n == "AMOUNT_BASIS" {
                Some("unit".into())
            } else {
                base(n)
            }
        })
        .unwrap();
        assert_eq!(unit.config.basis, Some(AmountBasis::Unit));
    }
}
