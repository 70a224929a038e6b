//! A download rate a person can read: averaged over the last few seconds, so it neither
//! jumps with every network burst nor remembers a stall from minutes ago.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub(crate) struct RateMeter {
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    /// Records that `done` bytes were complete at `now`. A count that went down (a retry
    /// restarted a piece) starts the window afresh.
    pub fn record(&mut self, now: Instant, done: u64) {
        if self.samples.back().is_some_and(|&(_, d)| done < d) {
            self.samples.clear();
        }
        self.samples.push_back((now, done));
        while self.samples.len() > 2 && self.samples.front().is_some_and(|&(t, _)| now.duration_since(t) > WINDOW) {
            self.samples.pop_front();
        }
    }

    /// Bytes per second over the window; `None` until it spans a quarter of a second.
    pub fn rate(&self) -> Option<f64> {
        let (&(t0, d0), &(t1, d1)) = (self.samples.front()?, self.samples.back()?);
        let secs = t1.duration_since(t0).as_secs_f64();
        (secs >= 0.25).then(|| (d1 - d0) as f64 / secs)
    }

    /// Seconds until `total` at the current rate.
    pub fn eta(&self, done: u64, total: u64) -> Option<f64> {
        let rate = self.rate().filter(|r| *r > 0.0)?;
        Some(total.saturating_sub(done) as f64 / rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_the_average_over_the_window_and_forgets_old_samples() {
        let t = Instant::now();
        let mut m = RateMeter::default();
        m.record(t, 0);
        assert_eq!(m.rate(), None);
        m.record(t + Duration::from_secs(1), 1000);
        m.record(t + Duration::from_secs(2), 2000);
        assert_eq!(m.rate(), Some(1000.0));
        assert_eq!(m.eta(2000, 5000), Some(3.0));
        // Ten seconds later at a faster pace: the old, slower samples have left the window.
        for s in 3..=12 {
            m.record(t + Duration::from_secs(s), 2000 + (s - 2) * 4000);
        }
        assert_eq!(m.rate(), Some(4000.0));
    }

    #[test]
    fn a_count_that_goes_down_restarts_the_window() {
        let t = Instant::now();
        let mut m = RateMeter::default();
        m.record(t, 0);
        m.record(t + Duration::from_secs(1), 5000);
        m.record(t + Duration::from_secs(2), 3000);
        assert_eq!(m.rate(), None);
    }
}
