//! Settings read from the environment (or, in tests, any lookup by name): one rule for what
//! "not set" means, and one error for it.

/// The value of the setting `name`, where a missing or blank value is an error naming it.
pub fn required(value: Option<String>, name: &str) -> Result<String, String> {
    value
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| format!("{name} is not set"))
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
}
