//! Staff PINs for shared terminals. A PIN is weak by nature (10^4 - 10^6 values): it only
//! works together with a registered terminal's device token, and guesses are rate limited.

use crate::validation::ValidationError;

/// Checks a PIN: 4 to 6 digits, and not one of the first codes anyone would try.
pub fn check(field: &str, pin: &str) -> Result<(), ValidationError> {
    if !(4..=6).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValidationError::new(
            field,
            "invalid_pin",
            "must be 4 to 6 digits",
        ));
    }
    let digits: Vec<i8> = pin.bytes().map(|b| (b - b'0') as i8).collect();
    let steps: Vec<i8> = digits.windows(2).map(|w| w[1] - w[0]).collect();
    let constant_step = steps.windows(2).all(|w| w[0] == w[1]) && matches!(steps[0], -1..=1);
    if constant_step {
        return Err(ValidationError::new(
            field,
            "pin_too_simple",
            "must not be a repeated digit or a simple sequence like 1234",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_pins() {
        for ok in ["2580", "1357", "482916", "90210"] {
            assert_eq!(check("pin", ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_bad_shapes_and_obvious_pins() {
        for (bad, code) in [
            ("123", "invalid_pin"),
            ("1234567", "invalid_pin"),
            ("12a4", "invalid_pin"),
            ("0000", "pin_too_simple"),
            ("1234", "pin_too_simple"),
            ("987654", "pin_too_simple"),
        ] {
            assert_eq!(check("pin", bad).map_err(|e| e.code), Err(code), "{bad}");
        }
    }
}
