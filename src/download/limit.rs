//! A concurrency limit that adapts to overload: additive increase, multiplicative decrease.
//!
//! Both the API and picture hosts answer 503 when too many requests arrive at once (the API's
//! documentation says so for its own concurrency limit). On such an answer the limit halves;
//! after as many successes in a row as the limit allows at once, it grows by one again, up to
//! the maximum the user set. Only one halving happens per "generation": requests that were
//! already in flight when the limit dropped report the same overload and must not halve it
//! again and again.
//!
//! Growing back to the limit at which the last overload happened is what costs the next 503,
//! so that last step waits for [`PROBE_PATIENCE`] times as many successes: against a server
//! whose own limit is fixed, the limit settles just below it and probes it only now and then.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// How many times the usual run of successes the limit waits for before it grows back to the
/// level of the last overload.
pub const PROBE_PATIENCE: usize = 8;

/// The limit and who is waiting for it. Share it in an [`Arc`].
#[derive(Debug)]
pub struct AdaptiveLimit {
    state: Mutex<State>,
    freed: Notify,
    max: usize,
}

#[derive(Debug)]
struct State {
    limit: usize,
    in_use: usize,
    successes: usize,
    generation: u64,
    /// The limit in force when the last overload was reported.
    overloaded_at: Option<usize>,
}

/// One slot of the limit, held for one request; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    owner: Arc<AdaptiveLimit>,
    generation: u64,
}

impl AdaptiveLimit {
    /// A limit that starts at, and never grows past, `max` (at least 1).
    pub fn new(max: usize) -> Arc<AdaptiveLimit> {
        let max = max.max(1);
        Arc::new(AdaptiveLimit {
            state: Mutex::new(State {
                limit: max,
                in_use: 0,
                successes: 0,
                generation: 0,
                overloaded_at: None,
            }),
            freed: Notify::new(),
            max,
        })
    }

    /// Waits for a free slot.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            {
                let mut state = self.lock();
                if state.in_use < state.limit {
                    state.in_use += 1;
                    return Permit {
                        owner: Arc::clone(self),
                        generation: state.generation,
                    };
                }
            }
            // `notify_one` stores a wake-up when nobody waits yet, so a slot freed between the
            // check above and this wait is not missed.
            self.freed.notified().await;
        }
    }

    /// The limit in force now.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// The most the limit grows to.
    pub fn max(&self) -> usize {
        self.max
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update keeps the state consistent before it can panic (none can), so a
        // poisoned lock still holds a usable state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Permit {
    /// The request succeeded: after `limit` successes in a row (or [`PROBE_PATIENCE`] times
    /// as many when the next step reaches the level of the last overload), the limit grows
    /// by one.
    pub fn succeeded(&self) {
        let mut state = self.owner.lock();
        state.successes += 1;
        let probing = state
            .overloaded_at
            .is_some_and(|level| state.limit + 1 >= level);
        let needed = if probing {
            state.limit * PROBE_PATIENCE
        } else {
            state.limit
        };
        if state.successes >= needed && state.limit < self.owner.max {
            state.limit += 1;
            state.successes = 0;
            drop(state);
            self.owner.freed.notify_one();
        }
    }

    /// The server said it is overloaded: halve the limit, once per generation.
    pub fn overloaded(&self) {
        let mut state = self.owner.lock();
        state.successes = 0;
        if state.generation == self.generation {
            state.overloaded_at = Some(state.limit);
            state.limit = (state.limit / 2).max(1);
            state.generation += 1;
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.owner.lock().in_use -= 1;
        self.owner.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn overload_halves_once_per_generation_and_successes_grow_it_back() {
        let limit = AdaptiveLimit::new(8);
        let permits: Vec<Permit> =
            futures_util::future::join_all((0..8).map(|_| limit.acquire())).await;
        // Eight requests in flight all meet the overload: one halving, not eight.
        for permit in &permits {
            permit.overloaded();
        }
        assert_eq!(limit.limit(), 4);
        drop(permits);

        let permit = limit.acquire().await;
        permit.overloaded();
        assert_eq!(
            limit.limit(),
            2,
            "a request of the new generation halves again"
        );
        drop(permit);

        // Growth: after `limit` successes, one more slot.
        for _ in 0..2 {
            limit.acquire().await.succeeded();
        }
        assert_eq!(limit.limit(), 3);
        for _ in 0..200 {
            limit.acquire().await.succeeded();
        }
        assert_eq!(limit.limit(), 8, "never past the maximum");
    }

    #[tokio::test]
    async fn the_level_of_the_last_overload_is_probed_only_after_a_long_run_of_successes() {
        let limit = AdaptiveLimit::new(2);
        limit.acquire().await.overloaded();
        assert_eq!(limit.limit(), 1);
        for _ in 0..PROBE_PATIENCE - 1 {
            limit.acquire().await.succeeded();
        }
        assert_eq!(
            limit.limit(),
            1,
            "not yet back at the level that overloaded"
        );
        limit.acquire().await.succeeded();
        assert_eq!(limit.limit(), 2);
    }

    #[tokio::test]
    async fn never_below_one_and_never_more_in_flight_than_the_limit() {
        let limit = AdaptiveLimit::new(3);
        for _ in 0..10 {
            limit.acquire().await.overloaded();
        }
        assert_eq!(limit.limit(), 1);

        let held = limit.acquire().await;
        let waiting = tokio::time::timeout(Duration::from_millis(50), limit.acquire()).await;
        assert!(
            waiting.is_err(),
            "a second request waits while the limit is one"
        );
        drop(held);
        let next = tokio::time::timeout(Duration::from_secs(10), limit.acquire()).await;
        assert!(next.is_ok(), "a freed slot wakes the waiter");
    }
}
