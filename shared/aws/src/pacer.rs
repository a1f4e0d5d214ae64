//! How often a process may call an API: call starts at least one spacing apart, whichever task
//! makes them. The Catalog API allows 10 calls a second; the stack's ceiling on calls to the
//! Checkout Service is shared out: each of the at most N checkout invocations that can run at
//! once (the function's reserved concurrency) keeps to 1/N of it, so together they never exceed
//! it, with no coordination between them.

use std::time::{Duration, Instant};

/// Added to every spacing, so that network jitter cannot make calls that left a full second
/// apart arrive a little less than a second apart.
const PACING_MARGIN: Duration = Duration::from_millis(5);

/// Start times of calls, at most `per_second` in any second: each call starts at least
/// 1 s / `per_second` (plus a small margin) after the one before actually started. Callers wait
/// their turn in order.
#[derive(Debug)]
pub struct Pacer {
    spacing: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl Pacer {
    pub fn new(per_second: u32) -> Pacer {
        Pacer::spaced(Duration::from_secs(1) / per_second.max(1))
    }

    /// `calls_per_second` for the whole stack, shared by `shared_by` processes that may run at
    /// once: one call every `shared_by / calls_per_second` seconds here. `None` for no ceiling
    /// (`calls_per_second` 0); shared by none is taken as shared by one.
    pub fn shared(calls_per_second: u32, shared_by: u32) -> Option<Pacer> {
        (calls_per_second > 0).then(|| {
            Pacer::spaced(Duration::from_secs(u64::from(shared_by.max(1))) / calls_per_second)
        })
    }

    fn spaced(spacing: Duration) -> Pacer {
        Pacer {
            spacing: spacing + PACING_MARGIN,
            next: tokio::sync::Mutex::new(Instant::now()),
        }
    }

    /// The least time between two calls of this process.
    pub fn spacing(&self) -> Duration {
        self.spacing
    }

    /// Waits for this call's turn.
    pub async fn wait(&self) {
        let mut next = self.next.lock().await;
        tokio::time::sleep_until((*next).into()).await;
        // A timer may wake late; the next turn counts from when this call really goes, not from
        // when it was due, or a late wake would squeeze the gap after it.
        *next = Instant::now() + self.spacing;
    }

    /// [`Pacer::wait`], unless this call's turn comes after `latest`: then `false`, as soon as
    /// that is known, and the turn is left to the calls behind it.
    pub async fn wait_until(&self, latest: Instant) -> bool {
        let Ok(mut next) = tokio::time::timeout_at(latest.into(), self.next.lock()).await else {
            return false;
        };
        if *next > latest {
            return false;
        }
        tokio::time::sleep_until((*next).into()).await;
        *next = Instant::now() + self.spacing;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_pacer_spaces_calls_to_the_rate() {
        let pacer = Pacer::new(10);
        let started = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..11 {
            pacer.wait().await;
            starts.push(started.elapsed());
        }
        // Eleven calls at ten a second span more than a second.
        assert!(
            starts[10] - starts[0] > Duration::from_secs(1),
            "{starts:?}"
        );
        for pair in starts.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(100),
                "{starts:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_late_wake_does_not_squeeze_the_gap_after_it() {
        let pacer = Pacer::new(10);
        pacer.wait().await;
        // Given the runtime's only thread is busy when the second call is due (at ~105 ms), so
        // that call goes late, at ~140 ms or after...
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(90)).await;
            std::thread::sleep(Duration::from_millis(50));
        });
        pacer.wait().await;
        let second = Instant::now();
        // ...then the third still goes a full spacing after the second really went (a pacer
        // counting from when the second was due would let it go at ~210 ms, ~70 ms later).
        pacer.wait().await;
        let gap = second.elapsed();
        assert!(gap >= Duration::from_millis(100), "{gap:?}");
    }

    #[test]
    fn a_stack_wide_ceiling_is_shared_out_and_zero_means_none() {
        assert!(Pacer::shared(0, 10).is_none());
        assert_eq!(
            Pacer::shared(100, 10).unwrap().spacing(),
            Duration::from_millis(105)
        );
        assert_eq!(
            Pacer::shared(50, 0).unwrap().spacing(),
            Duration::from_millis(25)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_sharing_a_pacer_go_one_spacing_apart() {
        let pacer = std::sync::Arc::new(Pacer::shared(50, 1).unwrap());
        let latest = Instant::now() + Duration::from_secs(60);
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let pacer = std::sync::Arc::clone(&pacer);
                tokio::spawn(async move {
                    assert!(pacer.wait_until(latest).await);
                    Instant::now()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        times.sort();
        for pair in times.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(20), "{times:?}");
        }
    }

    #[tokio::test]
    async fn a_turn_past_the_latest_time_is_refused_and_left_to_the_next_call() {
        let pacer = Pacer::new(1);
        assert!(
            pacer
                .wait_until(Instant::now() + Duration::from_secs(5))
                .await
        );
        // The next turn is a second away.
        let asked = Instant::now();
        assert!(!pacer.wait_until(asked + Duration::from_millis(100)).await);
        assert!(
            asked.elapsed() < Duration::from_millis(900),
            "refused at once"
        );
        assert!(
            pacer
                .wait_until(Instant::now() + Duration::from_secs(5))
                .await
        );
        assert!(asked.elapsed() >= Duration::from_millis(900));
    }
}
