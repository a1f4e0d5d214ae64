//! When to try a call again: capped exponential backoff with full jitter ("Exponential Backoff
//! And Jitter", AWS Architecture Blog), honouring a server's `Retry-After`, and never past the
//! time the caller has left (a Lambda's remaining time).

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The first retry waits up to this long.
    pub base: Duration,
    /// No wait is longer than this (a `Retry-After` above it is honoured only if time allows).
    pub cap: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(5),
            max_attempts: 6,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Stop: attempts used up, or no time left for the wait and another try.
    GiveUp,
}

impl Backoff {
    /// After `attempts_made` attempts (≥ 1) failed transiently: the next step.
    ///
    /// The wait is uniformly random in `[0, min(cap, base × 2^(attempts_made − 1))]` (`jitter`
    /// picks a number of milliseconds in `0..=max`), raised to the server's `retry_after` when
    /// it asks for longer. If the wait plus `needed_for_attempt` does not fit in `remaining`,
    /// give up now rather than be cut off mid-call.
    pub fn next_step(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        remaining: Duration,
        needed_for_attempt: Duration,
        jitter: impl FnOnce(u64) -> u64,
    ) -> NextStep {
        if attempts_made >= self.max_attempts {
            return NextStep::GiveUp;
        }
        let exponent = attempts_made.saturating_sub(1).min(30);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.cap);
        let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let jittered = Duration::from_millis(jitter(ceiling_ms).min(ceiling_ms));
        let wait = retry_after.map_or(jittered, |asked| asked.max(jittered));
        if wait.saturating_add(needed_for_attempt) > remaining {
            return NextStep::GiveUp;
        }
        NextStep::RetryAfter(wait)
    }
}

/// A random number of milliseconds in `0..=max`, for [`Backoff::next_step`].
pub fn random_jitter(max: u64) -> u64 {
    fastrand::u64(0..=max)
}

/// Parses a `Retry-After` header: delay-seconds (RFC 9110). An HTTP date is not expected from
/// the Checkout Service and is ignored.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOTS: Duration = Duration::from_secs(600);
    const CALL: Duration = Duration::from_secs(1);

    #[test]
    fn waits_grow_exponentially_up_to_the_cap() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
            max_attempts: 10,
        };
        let most = |attempts| backoff.next_step(attempts, None, LOTS, CALL, |max| max);
        assert_eq!(most(1), NextStep::RetryAfter(Duration::from_millis(100)));
        assert_eq!(most(2), NextStep::RetryAfter(Duration::from_millis(200)));
        assert_eq!(most(4), NextStep::RetryAfter(Duration::from_millis(800)));
        assert_eq!(most(5), NextStep::RetryAfter(Duration::from_millis(1000)));
        assert_eq!(most(9), NextStep::RetryAfter(Duration::from_millis(1000)));
        assert_eq!(most(10), NextStep::GiveUp);
        // Full jitter: anything from zero.
        assert_eq!(
            backoff.next_step(3, None, LOTS, CALL, |_| 0),
            NextStep::RetryAfter(Duration::ZERO)
        );
        // A jitter source out of range is clamped.
        assert_eq!(
            backoff.next_step(1, None, LOTS, CALL, |_| 99_999),
            NextStep::RetryAfter(Duration::from_millis(100))
        );
    }

    #[test]
    fn retry_after_is_honoured_and_the_deadline_respected() {
        let backoff = Backoff::default();
        assert_eq!(
            backoff.next_step(1, Some(Duration::from_secs(2)), LOTS, CALL, |_| 0),
            NextStep::RetryAfter(Duration::from_secs(2))
        );
        // 2 s wait + 1 s call do not fit in 2.5 s.
        assert_eq!(
            backoff.next_step(
                1,
                Some(Duration::from_secs(2)),
                Duration::from_millis(2500),
                CALL,
                |_| 0
            ),
            NextStep::GiveUp
        );
        assert_eq!(
            backoff.next_step(1, None, Duration::from_millis(500), CALL, |_| 0),
            NextStep::GiveUp
        );
    }

    #[test]
    fn random_jitter_stays_in_range() {
        for max in [0, 1, 100] {
            for _ in 0..100 {
                assert!(random_jitter(max) <= max);
            }
        }
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
