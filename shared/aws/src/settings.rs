//! Settings read from the environment (or, in tests, any lookup by name), by one rule for every
//! function: a variable that is missing or blank is not set; a set one that is not valid stops
//! the start with an error naming it.

use std::ops::RangeInclusive;

/// The settings of one function, by name.
pub struct Settings<F> {
    get: F,
}

/// A setting from the process environment: what each function's `main` reads its settings with.
pub fn from_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl<F: Fn(&str) -> Option<String>> Settings<F> {
    pub fn new(get: F) -> Self {
        Settings { get }
    }

    /// The value of `name`, `None` when missing or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.get)(name).filter(|value| !value.trim().is_empty())
    }

    /// The value of `name`, where a missing or blank value is an error naming it.
    pub fn required(&self, name: &str) -> Result<String, String> {
        self.optional(name)
            .ok_or_else(|| format!("{name} is not set"))
    }

    /// The value of `name` exactly as set, blank included: for the one setting where blank
    /// must not mean "not set" (an allowlist that would otherwise let everyone in).
    pub fn as_set(&self, name: &str) -> Option<String> {
        (self.get)(name)
    }

    /// `name` as a whole number of `unit` within `range`; an error naming the setting and the
    /// allowed range otherwise. `None` when not set.
    pub fn whole_number(
        &self,
        name: &str,
        range: RangeInclusive<u32>,
        unit: &str,
    ) -> Result<Option<u32>, String> {
        let Some(text) = self.optional(name) else {
            return Ok(None);
        };
        match text.trim().parse::<u32>() {
            Ok(number) if range.contains(&number) => Ok(Some(number)),
            _ if *range.end() == u32::MAX => Err(format!(
                "{name}: '{text}' is not a whole number of {unit} ≥ {}",
                range.start()
            )),
            _ => Err(format!(
                "{name}: '{text}' is not a whole number of {unit} from {} to {}",
                range.start(),
                range.end()
            )),
        }
    }
}

/// `PRICE_BOOK_CACHE_SECONDS` (default 30, at most 3600): how long a price book version is
/// used before the catalog table is asked whether a newer one is current.
pub fn price_book_cache<F: Fn(&str) -> Option<String>>(
    settings: &Settings<F>,
) -> Result<std::time::Duration, String> {
    Ok(settings
        .whole_number("PRICE_BOOK_CACHE_SECONDS", 0..=3600, "seconds")?
        .map_or(
            jwo_domain::catalog::price_book_versions::DEFAULT_PRICE_BOOK_CACHE,
            |seconds| std::time::Duration::from_secs(u64::from(seconds)),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &'static str) -> Settings<impl Fn(&str) -> Option<String>> {
        Settings::new(move |name: &str| (name == "N").then(|| value.to_owned()))
    }

    #[test]
    fn blank_is_not_set() {
        assert_eq!(one("t").required("N"), Ok("t".into()));
        assert_eq!(one("  ").required("N"), Err("N is not set".into()));
        assert_eq!(one("t").required("M"), Err("M is not set".into()));
        assert_eq!(one(" ").optional("N"), None);
        assert_eq!(one(" ").whole_number("N", 1..=u32::MAX, "days"), Ok(None));
        assert_eq!(one(" ").as_set("N"), Some(" ".into()));
    }

    #[test]
    fn whole_numbers_are_checked_against_their_range() {
        assert_eq!(one("1").whole_number("M", 1..=u32::MAX, "days"), Ok(None));
        assert_eq!(
            one(" 7 ").whole_number("N", 1..=u32::MAX, "days"),
            Ok(Some(7))
        );
        assert_eq!(
            one("0").whole_number("N", 1..=u32::MAX, "days"),
            Err("N: '0' is not a whole number of days ≥ 1".into())
        );
        assert_eq!(
            one("3601").whole_number("N", 0..=3600, "seconds"),
            Err("N: '3601' is not a whole number of seconds from 0 to 3600".into())
        );
        assert!(one("soon").whole_number("N", 0..=3600, "seconds").is_err());
    }
}
