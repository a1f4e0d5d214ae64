//! Configuration, from environment variables (README "Configuration").

use chrono::Duration;

/// What the checkout needs to know, whatever runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// A purchase still Open this long after it was stored raises an alert (once).
    pub stuck_open_after: Duration,
    /// Purchases checked out at once by a sweep or a stream batch.
    pub concurrency: usize,
}

/// Two hours: a cart is normally checked out within seconds, and this is well inside the
/// days a card pre-authorization is held.
pub const DEFAULT_STUCK_OPEN_AFTER: Duration = Duration::hours(2);

/// A stream batch of 10 goes out in one round (BENCHMARKS.md, "Backlog drain").
pub const DEFAULT_CONCURRENCY: usize = 10;

impl Default for Config {
    fn default() -> Self {
        Config {
            stuck_open_after: DEFAULT_STUCK_OPEN_AFTER,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// The Lambda's settings, read once at cold start; a missing or bad one stops the start with
/// an error naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaSettings {
    /// `AWS_CALL_ATTEMPT_TIMEOUT_MS`, `AWS_CALL_TIMEOUT_MS`: how long an AWS call may take.
    pub call_timeouts: jwo_aws::sdk::CallTimeouts,
    /// `PURCHASES_TABLE`: the DynamoDB table of purchases.
    pub purchases_table: String,
    /// `ALERTS_TOPIC_ARN`: the SNS topic alerts go to.
    pub alerts_topic_arn: String,
    /// `CHECKOUT_ENDPOINT`: the Checkout Service's base URL, e.g.
    /// `https://us-east-1.test.checkout.amazonphysicalstores.com` (test) or without `.test`.
    pub checkout_endpoint: String,
    /// `CHECKOUT_REGION`, else the region in an Amazon endpoint's host name.
    pub checkout_region: String,
    /// `CATALOG_TABLE`: the catalog table, where the sweep finds the price book for carts
    /// stored when none could be read.
    pub catalog_table: String,
    /// `PRICE_BOOK_CACHE_SECONDS` (default 30): as for Create Purchases.
    pub price_book_cache: std::time::Duration,
    /// `CHECKOUT_CALLS_PER_SECOND` (0 or unset: no ceiling), shared by
    /// `CHECKOUT_CONCURRENT_INVOCATIONS` (the function's reserved concurrency): the pace each
    /// invocation keeps, so that together they never send the Checkout Service more.
    pub calls_per_second: u32,
    pub concurrent_invocations: u32,
    pub config: Config,
}

impl LambdaSettings {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LambdaSettings, String> {
        let settings = jwo_aws::settings::Settings::new(get);
        let call_timeouts = jwo_aws::sdk::CallTimeouts::from_settings(&settings)?;
        let required = |name: &str| settings.required(name);
        let checkout_endpoint = required("CHECKOUT_ENDPOINT")?;
        let checkout_region = match settings.optional("CHECKOUT_REGION") {
            Some(region) => region,
            None => region_of_endpoint(&checkout_endpoint).ok_or_else(|| {
                format!(
                    "CHECKOUT_REGION is not set and CHECKOUT_ENDPOINT '{checkout_endpoint}' is not an Amazon checkout host ({{region}}[.test].checkout.amazonphysicalstores.com) to read it from"
                )
            })?,
        };
        let stuck_open_after = settings
            .whole_number("STUCK_OPEN_AFTER_MINUTES", 1..=u32::MAX, "minutes")?
            .map_or(DEFAULT_STUCK_OPEN_AFTER, |minutes| {
                Duration::minutes(i64::from(minutes))
            });
        let calls_per_second = settings
            .whole_number("CHECKOUT_CALLS_PER_SECOND", 0..=u32::MAX, "calls a second")?
            .unwrap_or(0);
        let concurrent_invocations = settings
            .whole_number(
                "CHECKOUT_CONCURRENT_INVOCATIONS",
                0..=u32::MAX,
                "invocations",
            )?
            .unwrap_or(0);
        if calls_per_second > 0 && concurrent_invocations == 0 {
            return Err(format!(
                "CHECKOUT_CALLS_PER_SECOND is {calls_per_second}, but CHECKOUT_CONCURRENT_INVOCATIONS (the function's reserved concurrency, which the ceiling is shared by) is not set or 0: without a bound on invocations the ceiling cannot be kept"
            ));
        }
        let concurrency = settings
            .whole_number("CHECKOUT_CONCURRENCY", 1..=100, "purchases")?
            .map_or(DEFAULT_CONCURRENCY, |n| n as usize);
        Ok(LambdaSettings {
            call_timeouts,
            purchases_table: required("PURCHASES_TABLE")?,
            alerts_topic_arn: required("ALERTS_TOPIC_ARN")?,
            checkout_endpoint,
            checkout_region,
            catalog_table: required("CATALOG_TABLE")?,
            price_book_cache: jwo_aws::settings::price_book_cache(&settings)?,
            calls_per_second,
            concurrent_invocations,
            config: Config {
                stuck_open_after,
                concurrency,
            },
        })
    }
}

/// `us-east-1` of `https://us-east-1.test.checkout.amazonphysicalstores.com`: the Checkout
/// Service is signed for the region of its endpoint.
pub fn region_of_endpoint(endpoint: &str) -> Option<String> {
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .split(['/', ':'])
        .next()?;
    let prefix = host.strip_suffix(".checkout.amazonphysicalstores.com")?;
    let region = prefix.strip_suffix(".test").unwrap_or(prefix);
    (!region.is_empty() && !region.contains('.')).then(|| region.to_owned())
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
                Some("https://eu-west-1.test.checkout.amazonphysicalstores.com".into())
            }
            _ => None,
        }
    }

    fn with(name: &'static str, value: Option<&'static str>) -> impl Fn(&str) -> Option<String> {
        move |n| {
            if n == name {
                value.map(str::to_owned)
            } else {
                base(n)
            }
        }
    }

    #[test]
    fn the_environment_list_is_what_is_read() {
        jwo_aws::testing::assert_settings_follow_manifest(
            &jwo_aws::functions::CHECKOUT,
            |get| LambdaSettings::from_lookup(get).map(|_| ()),
            base,
        );
    }

    #[test]
    fn the_region_comes_from_the_endpoint_unless_configured() {
        let settings = LambdaSettings::from_lookup(base).unwrap();
        assert_eq!(settings.checkout_region, "eu-west-1");
        assert_eq!(settings.config.stuck_open_after, Duration::hours(2));
        assert_eq!(
            region_of_endpoint("https://us-east-1.checkout.amazonphysicalstores.com/"),
            Some("us-east-1".into())
        );
        assert_eq!(region_of_endpoint("http://127.0.0.1:9000"), None);
        let local =
            LambdaSettings::from_lookup(with("CHECKOUT_ENDPOINT", Some("http://127.0.0.1:9000")));
        assert!(local.unwrap_err().starts_with("CHECKOUT_REGION is not set"));
        let configured = LambdaSettings::from_lookup(|n| match n {
            "CHECKOUT_ENDPOINT" => Some("http://127.0.0.1:9000".into()),
            "CHECKOUT_REGION" => Some("us-west-2".into()),
            _ => base(n),
        })
        .unwrap();
        assert_eq!(configured.checkout_region, "us-west-2");
    }

    #[test]
    fn settings_name_what_is_missing_or_wrong() {
        assert_eq!(
            LambdaSettings::from_lookup(with("PURCHASES_TABLE", None)).unwrap_err(),
            "PURCHASES_TABLE is not set"
        );
        assert_eq!(
            LambdaSettings::from_lookup(with("CHECKOUT_ENDPOINT", Some(" "))).unwrap_err(),
            "CHECKOUT_ENDPOINT is not set"
        );
        assert!(
            LambdaSettings::from_lookup(with("STUCK_OPEN_AFTER_MINUTES", Some("0")))
                .unwrap_err()
                .starts_with("STUCK_OPEN_AFTER_MINUTES")
        );
        let minutes =
            LambdaSettings::from_lookup(with("STUCK_OPEN_AFTER_MINUTES", Some("45"))).unwrap();
        assert_eq!(minutes.config.stuck_open_after, Duration::minutes(45));
        assert!(
            LambdaSettings::from_lookup(with("CHECKOUT_CONCURRENCY", Some("0")))
                .unwrap_err()
                .starts_with("CHECKOUT_CONCURRENCY")
        );
    }

    #[test]
    fn a_ceiling_on_calls_needs_the_number_of_invocations_that_share_it() {
        let none = LambdaSettings::from_lookup(base).unwrap();
        assert_eq!((none.calls_per_second, none.concurrent_invocations), (0, 0));
        assert_eq!(none.config.concurrency, DEFAULT_CONCURRENCY);
        let unbounded = LambdaSettings::from_lookup(with("CHECKOUT_CALLS_PER_SECOND", Some("100")))
            .unwrap_err();
        assert!(
            unbounded.contains("CHECKOUT_CONCURRENT_INVOCATIONS"),
            "{unbounded}"
        );
        let shared = LambdaSettings::from_lookup(|n| match n {
            "CHECKOUT_CALLS_PER_SECOND" => Some("100".into()),
            "CHECKOUT_CONCURRENT_INVOCATIONS" => Some("10".into()),
            "CHECKOUT_CONCURRENCY" => Some("16".into()),
            _ => base(n),
        })
        .unwrap();
        assert_eq!(
            (shared.calls_per_second, shared.concurrent_invocations),
            (100, 10)
        );
        assert_eq!(shared.config.concurrency, 16);
    }
}
