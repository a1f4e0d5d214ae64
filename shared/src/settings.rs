//! Settings read from the environment (or, in tests, any lookup by name): one rule for what
//! "not set" means, and one error for it.

/// The value of the setting `name`, where a missing or blank value is an error naming it.
pub fn required(value: Option<String>, name: &str) -> Result<String, String> {
    value
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| format!("{name} is not set"))
}

/// The optional setting `name`, a whole number of `unit` within `range`; an error naming the
/// setting and the allowed range otherwise. `None` when not set.
pub fn whole_number(
    value: Option<String>,
    name: &str,
    range: std::ops::RangeInclusive<u32>,
    unit: &str,
) -> Result<Option<u32>, String> {
    let Some(text) = value else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_not_set() {
        assert_eq!(required(Some("t".into()), "T"), Ok("t".into()));
        assert_eq!(required(Some("  ".into()), "T"), Err("T is not set".into()));
        assert_eq!(required(None, "T"), Err("T is not set".into()));
    }

    #[test]
    fn whole_numbers_are_checked_against_their_range() {
        assert_eq!(whole_number(None, "N", 1..=u32::MAX, "days"), Ok(None));
        assert_eq!(
            whole_number(Some(" 7 ".into()), "N", 1..=u32::MAX, "days"),
            Ok(Some(7))
        );
        assert_eq!(
            whole_number(Some("0".into()), "N", 1..=u32::MAX, "days"),
            Err("N: '0' is not a whole number of days ≥ 1".into())
        );
        assert_eq!(
            whole_number(Some("3601".into()), "N", 0..=3600, "seconds"),
            Err("N: '3601' is not a whole number of seconds from 0 to 3600".into())
        );
        assert!(whole_number(Some("soon".into()), "N", 0..=3600, "seconds").is_err());
    }
}
