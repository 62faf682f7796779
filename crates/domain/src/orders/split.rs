//! Splitting a bill into equal parts: the remainder cents go to the first parts, one
//! each, so the parts always add up to the total and the same bill always splits the
//! same way.

use crate::validation::ValidationError;

pub const MAX_PARTS: i64 = 50;

pub fn equal_parts(total: i64, parts: i64) -> Result<Vec<i64>, ValidationError> {
    if !(2..=MAX_PARTS).contains(&parts) {
        return Err(ValidationError::new(
            "parts",
            "out_of_range",
            format!("split into 2 to {MAX_PARTS} parts"),
        ));
    }
    let base = total.div_euclid(parts);
    let extra = total.rem_euclid(parts);
    Ok((0..parts).map(|i| base + i64::from(i < extra)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn remainders_go_to_the_first_parts() {
        assert_eq!(equal_parts(1000, 3).expect("ok"), vec![334, 333, 333]);
        assert_eq!(equal_parts(1001, 3).expect("ok"), vec![334, 334, 333]);
        assert_eq!(equal_parts(2, 4).expect("ok"), vec![1, 1, 0, 0]);
        assert!(equal_parts(10, 1).is_err());
        assert!(equal_parts(10, 51).is_err());
    }

    proptest! {
        #[test]
        fn parts_add_up_and_differ_by_at_most_a_cent(total in 0i64..10_000_000_000, n in 2i64..=50) {
            let parts = equal_parts(total, n).expect("valid");
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            let (min, max) = (parts.iter().min().copied(), parts.iter().max().copied());
            prop_assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 1));
        }
    }
}
