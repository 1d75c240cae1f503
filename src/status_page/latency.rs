//! The last 24 hours of probe latency of one check, in 15-minute buckets: what the status
//! page's sparkline draws. Kept in memory (a restart starts it afresh), bounded per check.

use std::collections::VecDeque;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

/// Width of one bucket.
pub const BUCKET_SECONDS: i64 = 15 * 60;
/// 24 hours of buckets.
pub const BUCKETS: usize = 96;

/// One bucket: the mean and the worst latency of the probes that ended in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencyPoint {
    /// Start of the bucket.
    pub at: Timestamp,
    pub avg_ms: f64,
    pub max_ms: f64,
    #[serde(skip)]
    count: u32,
}

#[derive(Debug, Clone, Default)]
pub struct LatencyHistory {
    points: VecDeque<LatencyPoint>,
}

impl LatencyHistory {
    /// Add a probe that took `took` and ended at `at`. Buckets older than 24 h before `at` go.
    pub fn record(&mut self, at: Timestamp, took: Duration) {
        let secs = at.as_second();
        let start = secs - secs.rem_euclid(BUCKET_SECONDS);
        let ms = took.as_secs_f64() * 1000.0;
        match self.points.back_mut() {
            Some(p) if p.at.as_second() == start => {
                p.avg_ms = (p.avg_ms * f64::from(p.count) + ms) / f64::from(p.count + 1);
                p.max_ms = p.max_ms.max(ms);
                p.count += 1;
            }
            // A clock that went back: keep the history, drop this sample.
            Some(p) if p.at.as_second() > start => {}
            _ => self.points.push_back(LatencyPoint {
                at: Timestamp::from_second(start).unwrap_or(at),
                avg_ms: ms,
                max_ms: ms,
                count: 1,
            }),
        }
        let oldest = start - BUCKET_SECONDS * (BUCKETS as i64 - 1);
        while self
            .points
            .front()
            .is_some_and(|p| p.at.as_second() < oldest)
        {
            self.points.pop_front();
        }
    }

    /// The buckets of the 24 h before `now`, oldest first.
    pub fn points(&self, now: Timestamp) -> Vec<LatencyPoint> {
        let oldest = now.as_second() - BUCKET_SECONDS * BUCKETS as i64;
        self.points
            .iter()
            .filter(|p| p.at.as_second() > oldest)
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 - 1_800_000_000 % BUCKET_SECONDS + secs).unwrap()
    }

    #[test]
    fn buckets_average_and_age_out() {
        let mut h = LatencyHistory::default();
        h.record(at(0), Duration::from_millis(10));
        h.record(at(60), Duration::from_millis(30));
        h.record(at(BUCKET_SECONDS), Duration::from_millis(5));
        let p = h.points(at(BUCKET_SECONDS + 1));
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].avg_ms, p[0].max_ms), (20.0, 30.0));
        assert_eq!(p[1].avg_ms, 5.0);
        // A day and a bucket later only the new bucket is left.
        let later = at(BUCKET_SECONDS * (BUCKETS as i64 + 2));
        h.record(later, Duration::from_millis(1));
        assert_eq!(h.points(later).len(), 1);
    }
}
