//! What a password must be. Length is what matters (NIST SP 800-63B); composition rules
//! only push people to `Password1!`. The longest bound keeps hashing cost bounded.

use crate::validation::ValidationError;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// Checks a new password for the account `login`, naming `field` on failure.
pub fn check(field: &str, password: &str, login: &str) -> Result<(), ValidationError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(ValidationError::new(
            field,
            "too_short",
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if len > MAX_LEN {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    let lowered = password.to_lowercase();
    let login = login.to_lowercase();
    let local_part = login.split('@').next().unwrap_or_default();
    if lowered == login || (!local_part.is_empty() && lowered == local_part) {
        return Err(ValidationError::new(
            field,
            "same_as_login",
            "must not be the same as the login",
        ));
    }
    if password
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len()
        < 4
    {
        return Err(ValidationError::new(
            field,
            "too_simple",
            "must use at least 4 different characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_long_passphrase() {
        assert_eq!(check("password", "correct horse battery", "maria"), Ok(()));
    }

    #[test]
    fn rejects_short_long_repetitive_and_login_equal_passwords() {
        let code = |pw: &str, login: &str| check("password", pw, login).map_err(|e| e.code);
        assert_eq!(code("short", "maria"), Err("too_short"));
        assert_eq!(code(&"ab".repeat(65), "maria"), Err("too_long"));
        assert_eq!(code("aaaaaaaaaaaaaaaa", "maria"), Err("too_simple"));
        assert_eq!(
            code("Maria.Silva@Example.com", "maria.silva@example.com"),
            Err("same_as_login")
        );
        assert_eq!(
            code("maria.silva12", "maria.silva12@example.com"),
            Err("same_as_login")
        );
    }
}
