//! When to try a page again, and when to stop: pure functions of the attempt number, the
//! notifier's answer and `now`, so the outbox loop stays a thin shell around them.

use std::time::Duration;

use jiff::Timestamp;

use super::NotifyError;
use crate::core::model::{DeliveryOutcome, Page, PageAttempt};

/// A page still undelivered this long after it was queued is failed for good (SPEC §5).
pub const MAX_PAGE_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// The nominal delay stops doubling here (SPEC §5: "capped at 5 min").
pub const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// A receiver's `Retry-After` is honoured up to this; a bogus "retry in a week" must not park
/// a page until it expires.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// Share of the nominal delay that jitter may take off: the delay is drawn from
/// `[nominal * (1 - JITTER), nominal]`.
pub const JITTER: f64 = 0.25;

/// Delay before retrying after failed attempt number `attempt` (1-based): nominal 1s, 2s, 4s …
/// capped at [`MAX_BACKOFF`], minus up to 25 % jitter so pages that failed together (a mass
/// outage against one SMTP server) do not retry in lockstep. Never more than the cap; each
/// step's lowest value is above the previous step's highest until the cap is reached.
pub fn backoff(attempt: u32) -> Duration {
    backoff_with_jitter(attempt, fastrand::f64())
}

/// [`backoff`] with the random draw given: `unit` in `[0, 1)`, 0 gives the nominal delay.
pub fn backoff_with_jitter(attempt: u32, unit: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let nominal = Duration::from_secs(1u64 << exp).min(MAX_BACKOFF);
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    nominal.mul_f64(1.0 - JITTER * unit)
}

/// Whether a page queued at `created_at` is too old to be tried at `now`.
pub fn is_expired(created_at: Timestamp, now: Timestamp) -> bool {
    age(created_at, now) >= MAX_PAGE_AGE
}

fn age(created_at: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(created_at)).unwrap_or(Duration::ZERO)
}

/// What the outbox records after attempt number `attempt` (1-based) of a page queued at
/// `created_at` ended with `result` at `now`: delivered, retry at a time (backoff, or the
/// receiver's `Retry-After` if later), or failed (permanent error, or the next try would fall
/// beyond [`MAX_PAGE_AGE`]).
pub fn attempt_outcome(
    created_at: Timestamp,
    attempt: u32,
    result: &Result<(), NotifyError>,
    now: Timestamp,
) -> DeliveryOutcome {
    let (message, retry_after) = match result {
        Ok(()) => return DeliveryOutcome::Delivered,
        Err(NotifyError::Permanent { message }) => {
            return DeliveryOutcome::Failed {
                error: message.clone(),
            };
        }
        Err(NotifyError::Retryable {
            message,
            retry_after,
        }) => (message, *retry_after),
    };
    let hint = retry_after.unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER);
    let delay = backoff(attempt).max(hint);
    let retry_at = now.checked_add(delay).ok();
    match retry_at {
        Some(at) if age(created_at, at) < MAX_PAGE_AGE => DeliveryOutcome::Retrying {
            error: message.clone(),
            retry_at: at,
        },
        _ => DeliveryOutcome::Failed {
            error: format!("{message} (giving up: undelivered after 24h)"),
        },
    }
}

/// The timeline entry for attempt number `attempt` of `page`: [`attempt_outcome`] with the
/// page's identity attached, ready for the store.
pub fn page_attempt(
    page: &Page,
    attempt: u32,
    result: &Result<(), NotifyError>,
    now: Timestamp,
) -> PageAttempt {
    PageAttempt {
        key: page.key.clone(),
        incident: page.incident,
        recipient: page.recipient.clone(),
        notifier: page.notifier.clone(),
        attempt,
        at: now,
        outcome: attempt_outcome(page.created_at, attempt, result, now),
    }
}
