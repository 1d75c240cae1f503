//! Flap detection, Nagios' algorithm (`base/flapping.c`), as a pure value.
//!
//! # Rules
//!
//! - Every probe result of a check is recorded (failed or not) in a history of the last
//!   [`HISTORY`] = 21 results; a new check's history is full of its first known state.
//! - The 20 pairs of consecutive results are weighted from 0.75 (oldest pair) to 1.25 (newest
//!   pair), linearly: pair `x` (1 = oldest, 20 = newest) weighs `0.75 + (x - 1) * 0.5 / 19`.
//!   The *percent state change* is the sum of the weights of the pairs that differ, times 100,
//!   divided by 20. An alternating history scores 100%, a steady one 0%.
//! - Hysteresis: a check starts flapping when the percent is at or above `high`, stops when it
//!   is at or below `low`, and between the two keeps what it was. Defaults `[20, 30]`.

use crate::config::FlapThresholds;

/// Results kept: Nagios' `MAX_STATE_HISTORY_ENTRIES`.
pub const HISTORY: usize = 21;
const PAIRS: u32 = HISTORY as u32 - 1;
const LOW_CURVE: f64 = 0.75;
const HIGH_CURVE: f64 = 1.25;
const MASK: u32 = (1 << HISTORY) - 1;

/// The last 21 results of one check and whether it is flapping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlapHistory {
    /// Bit `i` is the `i`-th newest result (1: failed); 21 bits.
    bits: u32,
    flapping: bool,
}

impl FlapHistory {
    /// A history full of `failed` (a check's first known state): 0%, not flapping.
    pub fn new(failed: bool) -> Self {
        FlapHistory {
            bits: if failed { MASK } else { 0 },
            flapping: false,
        }
    }

    /// A history from results, oldest first (at most the last 21 are kept; a shorter list is
    /// padded at the old end with its first result). For tests and `explain`.
    pub fn from_results(results: &[bool]) -> Self {
        let mut h = FlapHistory::new(results.first().copied().unwrap_or(false));
        for &r in results {
            h.push(r);
        }
        h
    }

    fn push(&mut self, failed: bool) {
        self.bits = ((self.bits << 1) | u32::from(failed)) & MASK;
    }

    /// Record one result. Returns `Some(true)` when the check starts flapping with it,
    /// `Some(false)` when it stops, `None` when that did not change.
    pub fn observe(&mut self, failed: bool, thresholds: FlapThresholds) -> Option<bool> {
        self.push(failed);
        let percent = self.percent();
        let now = if percent >= thresholds.high {
            true
        } else if percent <= thresholds.low {
            false
        } else {
            self.flapping
        };
        let changed = now != self.flapping;
        self.flapping = now;
        changed.then_some(now)
    }

    /// Nagios' curved percent state change over the history (0 to 100).
    pub fn percent(&self) -> f64 {
        // Bit j of `changes`: the j-th newest result differs from the one before it; that
        // pair is pair 20 - j counting from the oldest.
        let mut changes = (self.bits ^ (self.bits >> 1)) & ((1 << PAIRS) - 1);
        let mut sum = 0.0;
        while changes != 0 {
            let j = changes.trailing_zeros();
            changes &= changes - 1;
            let x = PAIRS - j;
            sum += f64::from(x - 1) * (HIGH_CURVE - LOW_CURVE) / f64::from(PAIRS - 1) + LOW_CURVE;
        }
        sum * 100.0 / f64::from(PAIRS)
    }

    /// State changes in the history, unweighted (for the page: "9 state changes in the last
    /// 21 checks").
    pub fn changes(&self) -> u32 {
        ((self.bits ^ (self.bits >> 1)) & ((1 << PAIRS) - 1)).count_ones()
    }

    pub fn is_flapping(&self) -> bool {
        self.flapping
    }

    /// Mark flapping without a history (an incident restored after a restart that was
    /// flapping): the next results decide whether it still is.
    pub fn set_flapping(&mut self, flapping: bool) {
        self.flapping = flapping;
    }

    /// What the page and the timeline say: `9 state changes in the last 21 checks (43.2%)`.
    pub fn describe(&self) -> String {
        format!(
            "{} state changes in the last {HISTORY} checks ({:.1}%)",
            self.changes(),
            self.percent()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nagios' loop over the history, oldest first, written as in `flapping.c`.
    fn nagios(history: &[bool; HISTORY]) -> f64 {
        let mut curved = 0.0;
        for x in 1..HISTORY {
            if history[x - 1] != history[x] {
                curved += ((x - 1) as f64 * (1.25 - 0.75)) / (HISTORY - 2) as f64 + 0.75;
            }
        }
        curved * 100.0 / (HISTORY - 1) as f64
    }

    #[test]
    fn matches_the_nagios_loop() {
        let mut state = 0x9E37_79B9u32;
        for _ in 0..500 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let mut history = [false; HISTORY];
            for (i, h) in history.iter_mut().enumerate() {
                *h = state >> i & 1 == 1;
            }
            let ours = FlapHistory::from_results(&history).percent();
            assert!((ours - nagios(&history)).abs() < 1e-9, "{history:?}");
        }
    }
}
