//! The one retry helper: bounded attempts with exponential backoff and full jitter.

use std::future::Future;
use std::time::Duration;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// Contention on a few items (transaction conflicts, throttling): short pauses.
    pub const CONTENTION: Backoff =
        Backoff { attempts: 9, base: Duration::from_millis(10), max: Duration::from_millis(320) };
    /// Optimistic concurrency (re-read and recompute): almost no pause.
    pub const OPTIMISTIC: Backoff =
        Backoff { attempts: 6, base: Duration::from_millis(2), max: Duration::from_millis(50) };

    /// The pause before attempt `n` (1-based retries): uniformly random up to the capped
    /// exponential, never zero.
    pub fn pause(&self, n: u32) -> Duration {
        let cap = self.base.saturating_mul(1u32 << n.min(16)).min(self.max);
        let ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(1 + rand::random::<u64>() % ms)
    }
}

/// Runs `op` until it succeeds, fails with an error `retryable` refuses, or the attempts run out
/// (then the last error).
pub async fn retry<T, E, F, Fut>(policy: Backoff, retryable: impl Fn(&E) -> bool, mut op: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if retryable(&e) && attempt < policy.attempts => {
                tokio::time::sleep(policy.pause(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Calls made when every call fails with `error`.
    async fn calls_until_given_up(error: &'static str) -> (Result<(), &'static str>, u32) {
        let calls = AtomicU32::new(0);
        let quick = Backoff { attempts: 3, base: Duration::from_millis(1), max: Duration::from_millis(2) };
        let r = retry(
            quick,
            |e| *e == "again",
            || async {
                calls.fetch_add(1, Ordering::Relaxed);
                Err(error)
            },
        )
        .await;
        (r, calls.load(Ordering::Relaxed))
    }

    #[tokio::test]
    async fn retries_only_what_is_retryable_and_stops_at_the_limit() {
        assert_eq!(calls_until_given_up("again").await, (Err("again"), 3));
        assert_eq!(calls_until_given_up("fatal").await, (Err("fatal"), 1));
    }

    #[test]
    fn pauses_are_capped_and_positive() {
        for n in 1..40 {
            let p = Backoff::CONTENTION.pause(n);
            assert!(p >= Duration::from_millis(1) && p <= Duration::from_millis(321));
        }
    }
}
