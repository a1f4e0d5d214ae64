//! Splitting an amount over parts in proportion, exactly, by the largest-remainder method.

/// Splits `total` cents over `weights` (cents) in proportion to each weight. Every part starts
/// as the floor of its exact share; the cents left over go one each to the parts with the
/// largest remainders, ties to the earlier part. The parts always sum to `total` exactly, and
/// no part exceeds its weight while `total` does not exceed the sum of the weights.
///
/// Integer arithmetic throughout, so equal remainders compare equal.
pub fn largest_remainder(total: i128, weights: &[i128]) -> Vec<i128> {
    debug_assert!(total >= 0 && weights.iter().all(|w| *w >= 0));
    let sum: i128 = weights.iter().sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum == 0 {
        // Nothing to weigh by: an equal split (callers never ask to split money over nothing).
        return largest_remainder(total, &vec![1; weights.len()]);
    }
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut given = 0;
    for (index, weight) in weights.iter().enumerate() {
        let share = total * weight;
        parts.push(share / sum);
        remainders.push((share % sum, index));
        given += share / sum;
    }
    // Largest remainder first; equal remainders: earlier index first.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let left_over = (total - given) as usize;
    for &(_, index) in remainders.iter().take(left_over) {
        parts[index] += 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_exactly_and_gives_ties_to_the_earlier_part() {
        assert_eq!(largest_remainder(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(largest_remainder(2, &[1, 1, 1]), vec![1, 1, 0]);
        assert_eq!(largest_remainder(500, &[199, 299]), vec![200, 300]);
        assert_eq!(largest_remainder(0, &[5, 7]), vec![0, 0]);
        assert_eq!(largest_remainder(7, &[0, 10]), vec![0, 7]);
        // 10 over 3:7 → 3 and 7 exactly.
        assert_eq!(largest_remainder(10, &[3, 7]), vec![3, 7]);
        // 1 over 1:2 → remainders 1/3 and 2/3: the second part wins.
        assert_eq!(largest_remainder(1, &[1, 2]), vec![0, 1]);
    }

    proptest! {
        #[test]
        fn parts_sum_to_the_total_and_stay_within_their_weight(
            weights in prop::collection::vec(0i128..100_000, 1..20),
            fraction in 0u32..=100,
        ) {
            let sum: i128 = weights.iter().sum();
            let total = sum * i128::from(fraction) / 100;
            let parts = largest_remainder(total, &weights);
            prop_assert_eq!(parts.iter().sum::<i128>(), total);
            for (part, weight) in parts.iter().zip(&weights) {
                prop_assert!(*part >= 0);
                if sum > 0 {
                    prop_assert!(part <= weight, "part {} over weight {}", part, weight);
                    // Never more than one cent above the exact share.
                    prop_assert!(part * sum <= total * weight + sum);
                }
            }
        }
    }
}
