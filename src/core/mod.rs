//! The pure core: no I/O, no clock reads. Every function takes `now`.
//!
//! - [`check_state`]: soft/hard check states (retries, recoveries).
//! - [`model`]: incidents, timeline events, pages, silences.
//! - [`oncall`]: who is on call at an instant (rotations, periods, overrides, zones).
//! - [`escalation`]: steps, delays, repeats, the next deadline.
//! - [`flapping`]: Nagios' flap detection over the last 21 results.
//! - [`heartbeat`]: pushed checks (cron jobs ping in); [`cron`]: cron times in a zone.
//! - [`engine`]: `Engine::handle(input, now) -> Vec<Action>` and `next_deadline()`.

pub mod check_state;
pub mod cron;
pub mod engine;
pub mod escalation;
pub mod flapping;
pub mod heartbeat;
pub mod model;
pub mod oncall;
