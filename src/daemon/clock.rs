//! Waiting for a wall-clock deadline (escalations, heartbeat deadlines, page retries).
//!
//! Tokio's timers run on the monotonic clock, deadlines are wall-clock times: after a clock
//! step or a suspend the two disagree. Every wait is therefore capped at [`MAX_SLEEP`] and the
//! caller re-reads the wall clock when it wakes: waking early costs a no-op pass, sleeping
//! through a deadline costs a late page.

use std::time::Duration;

use jiff::Timestamp;

/// The longest a task sleeps before it looks at the wall clock again.
pub const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Sleep until `deadline` (now if it has passed), at most [`MAX_SLEEP`]; with no deadline,
/// [`MAX_SLEEP`].
pub async fn sleep_until(deadline: Option<Timestamp>) {
    let wait = match deadline {
        None => MAX_SLEEP,
        Some(at) => {
            let wait = at.duration_since(Timestamp::now());
            if !wait.is_positive() {
                return;
            }
            Duration::try_from(wait).unwrap_or_default().min(MAX_SLEEP)
        }
    };
    tokio::time::sleep(wait).await;
}
