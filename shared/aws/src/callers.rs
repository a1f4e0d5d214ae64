//! Who may call a function behind API Gateway's IAM authorization: the handler's own check, in
//! depth behind the API's resource policy.

/// The IAM principals allowed to call, from `ALLOWED_CALLER_ARNS` (comma-separated role ARNs,
/// as Amazon gives them at onboarding, or the operators' roles). Empty: any caller API Gateway let through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedCallers(Vec<String>);

impl AllowedCallers {
    pub fn any() -> AllowedCallers {
        AllowedCallers(Vec::new())
    }

    pub fn parse(list: &str) -> Result<AllowedCallers, String> {
        let arns: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|arn| !arn.is_empty())
            .map(str::to_owned)
            .collect();
        for arn in &arns {
            if !arn.starts_with("arn:") {
                return Err(format!("'{arn}' is not an ARN"));
            }
        }
        // Set but naming nobody is a mistake, never "everyone": fail closed.
        if arns.is_empty() {
            return Err(format!(
                "set, but names no ARN ('{list}'); give the callers' role ARNs, comma-separated"
            ));
        }
        Ok(AllowedCallers(arns))
    }

    /// A caller signing with a role arrives as its session,
    /// `arn:aws:sts::123456789012:assumed-role/OrderingGateway/session`; that matches the role
    /// `arn:aws:iam::123456789012:role/OrderingGateway` (or the same role under a path).
    pub fn allows(&self, caller_arn: Option<&str>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let Some(caller) = caller_arn else {
            return false;
        };
        let caller_role = role_of_session(caller);
        self.0.iter().any(|allowed| {
            allowed == caller
                || caller_role
                    .as_ref()
                    .is_some_and(|(partition, account, role)| {
                        role_arn_parts(allowed)
                            .is_some_and(|(p, a, r)| p == *partition && a == *account && r == *role)
                    })
        })
    }
}

/// (partition, service, account, resource) of an ARN.
fn arn_parts(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (_arn, partition, service, _region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    Some((partition, service, account, resource))
}

/// (partition, account, role name) of an assumed-role session ARN.
fn role_of_session(arn: &str) -> Option<(&str, &str, &str)> {
    let (partition, service, account, resource) = arn_parts(arn)?;
    let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    (service == "sts").then_some((partition, account, role))
}

/// (partition, account, role name) of a role ARN, path ignored.
fn role_arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let (partition, service, account, resource) = arn_parts(arn)?;
    let role = resource.strip_prefix("role/")?.rsplit('/').next()?;
    (service == "iam").then_some((partition, account, role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_of_an_allowed_role_are_allowed() {
        let allowed = AllowedCallers::parse("arn:aws:iam::111122223333:role/OrderingGateway, arn:aws:iam::111122223333:role/ops/Other").unwrap();
        assert!(allowed.allows(Some(
            "arn:aws:sts::111122223333:assumed-role/OrderingGateway/session-1"
        )));
        assert!(allowed.allows(Some("arn:aws:sts::111122223333:assumed-role/Other/x")));
        assert!(allowed.allows(Some("arn:aws:iam::111122223333:role/OrderingGateway")));
        assert!(!allowed.allows(Some(
            "arn:aws:sts::999999999999:assumed-role/OrderingGateway/session-1"
        )));
        assert!(!allowed.allows(Some(
            "arn:aws:sts::111122223333:assumed-role/OrderingGatewayX/s"
        )));
        assert!(!allowed.allows(Some("arn:aws:iam::111122223333:user/OrderingGateway")));
        assert!(!allowed.allows(None));
        assert!(AllowedCallers::any().allows(None));
        assert!(AllowedCallers::parse("OrderingGateway").is_err());
        // Blank or only commas: refused, never "allow everyone".
        for blank in ["", " ", ",", " , "] {
            assert!(AllowedCallers::parse(blank).is_err(), "{blank:?}");
        }
    }
}
