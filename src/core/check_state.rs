//! Soft and hard check states (Nagios `max_check_attempts`), as a pure state machine.
//!
//! A check is UP, FAILING (n of `retries`, retried at `retry_interval`) or DOWN. Only a hard
//! change (to DOWN, or from DOWN back to UP) matters to the incident engine; FAILING is the
//! soft state that keeps one flaky probe from paging anybody.

use serde::{Deserialize, Serialize};

use crate::config::PageOn;

/// A probe's verdict, in the Nagios plugin vocabulary (exit codes 0..=3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Status {
    /// The Nagios exit code, also `oncalld probe`'s.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }

    /// Nagios plugin exit code to status; anything outside 0..=3 is UNKNOWN.
    pub fn from_exit_code(code: i32) -> Status {
        match code {
            0 => Status::Ok,
            1 => Status::Warning,
            2 => Status::Critical,
            _ => Status::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }

    /// Whether this result counts as a failure for a check with this `page_on`.
    pub fn is_failure(self, page_on: PageOn) -> bool {
        match self {
            Status::Ok => false,
            Status::Warning => page_on == PageOn::Warning,
            Status::Critical | Status::Unknown => true,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hard/soft state of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum CheckState {
    Up,
    /// Failed `attempt` times in a row, fewer than `retries`: probed again at `retry_interval`.
    Failing {
        attempt: u32,
    },
    Down,
}

impl CheckState {
    pub fn name(self) -> &'static str {
        match self {
            CheckState::Up => "UP",
            CheckState::Failing { .. } => "FAILING",
            CheckState::Down => "DOWN",
        }
    }
}

impl std::fmt::Display for CheckState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckState::Failing { attempt } => write!(f, "FAILING({attempt})"),
            s => f.write_str(s.name()),
        }
    }
}

/// A change of state, as it goes in logs (`from`, `to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: CheckState,
    pub to: CheckState,
}

impl Transition {
    /// A hard change: into DOWN, or out of DOWN. These open and resolve incidents.
    pub fn is_hard(&self) -> bool {
        (self.to == CheckState::Down) != (self.from == CheckState::Down)
    }
}

/// Counts consecutive failures and successes of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckTracker {
    pub state: CheckState,
    /// Consecutive successes seen while DOWN (towards `recoveries`).
    pub recovering: u32,
}

impl Default for CheckTracker {
    fn default() -> Self {
        CheckTracker::new(CheckState::Up)
    }
}

impl CheckTracker {
    pub fn new(state: CheckState) -> Self {
        CheckTracker {
            state,
            recovering: 0,
        }
    }

    /// Feed one result. `retries` is how many failures in a row make DOWN (at least 1),
    /// `recoveries` how many successes in a row make UP again (at least 1).
    pub fn observe(&mut self, failed: bool, retries: u32, recoveries: u32) -> Option<Transition> {
        let from = self.state;
        let retries = retries.max(1);
        let recoveries = recoveries.max(1);
        self.state = match (from, failed) {
            (CheckState::Up, false) => CheckState::Up,
            (CheckState::Failing { .. }, false) => CheckState::Up,
            (CheckState::Up, true) if retries == 1 => CheckState::Down,
            (CheckState::Up, true) => CheckState::Failing { attempt: 1 },
            (CheckState::Failing { attempt }, true) if attempt + 1 >= retries => CheckState::Down,
            (CheckState::Failing { attempt }, true) => CheckState::Failing {
                attempt: attempt + 1,
            },
            (CheckState::Down, true) => {
                self.recovering = 0;
                CheckState::Down
            }
            (CheckState::Down, false) => {
                self.recovering += 1;
                if self.recovering >= recoveries {
                    self.recovering = 0;
                    CheckState::Up
                } else {
                    CheckState::Down
                }
            }
        };
        (self.state != from).then_some(Transition {
            from,
            to: self.state,
        })
    }

    /// Whether the next probe is a retry (FAILING uses `retry_interval`).
    pub fn is_retrying(&self) -> bool {
        matches!(self.state, CheckState::Failing { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (results as 'x' fail / '.' ok, retries, recoveries, expected states after each)
    #[test]
    fn soft_and_hard_states() {
        let table: &[(&str, u32, u32, &[&str])] = &[
            ("xxx", 3, 1, &["FAILING(1)", "FAILING(2)", "DOWN"]),
            ("x.x", 3, 1, &["FAILING(1)", "UP", "FAILING(1)"]),
            ("x", 1, 1, &["DOWN"]),
            (
                "xx.x..",
                2,
                2,
                &["FAILING(1)", "DOWN", "DOWN", "DOWN", "DOWN", "UP"],
            ),
            ("x.", 1, 1, &["DOWN", "UP"]),
            ("...", 3, 1, &["UP", "UP", "UP"]),
            ("x", 0, 0, &["DOWN"]),
        ];
        for (results, retries, recoveries, expected) in table {
            let mut t = CheckTracker::default();
            let got: Vec<String> = results
                .chars()
                .map(|c| {
                    t.observe(c == 'x', *retries, *recoveries);
                    t.state.to_string()
                })
                .collect();
            assert_eq!(&got, expected, "results {results} retries {retries}");
        }
    }

    #[test]
    fn hard_transitions() {
        let mut t = CheckTracker::default();
        assert!(!t.observe(true, 2, 1).unwrap().is_hard());
        assert!(t.observe(true, 2, 1).unwrap().is_hard());
        assert!(t.observe(false, 2, 1).unwrap().is_hard());
    }

    #[test]
    fn warning_counts_only_when_asked() {
        assert!(!Status::Warning.is_failure(PageOn::Critical));
        assert!(Status::Warning.is_failure(PageOn::Warning));
        assert!(Status::Unknown.is_failure(PageOn::Critical));
        assert_eq!(Status::from_exit_code(7), Status::Unknown);
    }
}
