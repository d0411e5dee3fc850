//! The timed runs of one bench figure (the systemd and clients tiers' benches, never tests):
//! their total, mean and median, in seconds.
use std::time::Duration;

#[derive(Default)]
pub struct Runs(Vec<Duration>);

impl Runs {
    pub fn with_capacity(n: usize) -> Runs {
        Runs(Vec::with_capacity(n))
    }

    pub fn push(&mut self, took: Duration) {
        self.0.push(took);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn total(&self) -> f64 {
        self.0.iter().sum::<Duration>().as_secs_f64()
    }

    pub fn mean(&self) -> f64 {
        self.total() / self.0.len().max(1) as f64
    }

    /// The upper median (NaN when nothing ran).
    pub fn median(&self) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted
            .get(sorted.len() / 2)
            .map_or(f64::NAN, Duration::as_secs_f64)
    }
}
