//! The retry schedule and the per-attempt outcome: pure functions, explicit times.

mod support;

use std::time::Duration;

use jiff::Timestamp;
use oncalld::core::model::{DeliveryOutcome, PageEvent};
use oncalld::notify::{
    JITTER, MAX_BACKOFF, MAX_PAGE_AGE, NotifyError, attempt_outcome, backoff, backoff_with_jitter,
    is_expired, page_attempt,
};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn nominal_schedule_doubles_from_one_second_to_the_cap() {
    let nominal: Vec<Duration> = (1..=12).map(|a| backoff_with_jitter(a, 0.0)).collect();
    let expected: Vec<Duration> = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
        .into_iter()
        .map(Duration::from_secs)
        .collect();
    assert_eq!(nominal, expected);
    assert_eq!(backoff_with_jitter(u32::MAX, 0.0), MAX_BACKOFF);
    // Attempt 0 is treated like the first.
    assert_eq!(backoff_with_jitter(0, 0.0), secs(1.0));
}

#[test]
fn jitter_stays_in_the_documented_range() {
    for attempt in 1..=30 {
        let nominal = backoff_with_jitter(attempt, 0.0);
        let low = nominal.mul_f64(1.0 - JITTER);
        assert_eq!(backoff_with_jitter(attempt, 1.0), low);
        for _ in 0..200 {
            let d = backoff(attempt);
            assert!(d >= low && d <= nominal, "attempt {attempt}: {d:?}");
            assert!(d <= MAX_BACKOFF);
        }
    }
    // Out-of-range draws are clamped, never negative or beyond nominal.
    assert_eq!(backoff_with_jitter(3, -5.0), secs(4.0));
    assert_eq!(backoff_with_jitter(3, 7.0), secs(3.0));
    assert_eq!(backoff_with_jitter(3, f64::NAN), secs(4.0));
}

#[test]
fn jittered_schedule_grows_until_the_cap() {
    // The lowest delay of a step is above the highest of the step before, below the cap.
    for attempt in 1..9 {
        let highest_here = backoff_with_jitter(attempt, 0.0);
        let lowest_next = backoff_with_jitter(attempt + 1, 1.0);
        assert!(lowest_next > highest_here, "attempt {attempt}");
    }
    // Jitter actually varies the delay.
    let draws: std::collections::BTreeSet<Duration> = (0..50).map(|_| backoff(8)).collect();
    assert!(draws.len() > 1);
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn outcome_of_an_attempt() {
    let created = at("2026-11-25T21:00:00Z");
    let now = at("2026-11-25T21:00:10Z");
    assert_eq!(
        attempt_outcome(created, 1, &Ok(()), now),
        DeliveryOutcome::Delivered
    );
    assert_eq!(
        attempt_outcome(
            created,
            1,
            &Err(NotifyError::permanent("550 no such user")),
            now
        ),
        DeliveryOutcome::Failed {
            error: "550 no such user".to_string()
        }
    );
    match attempt_outcome(created, 3, &Err(NotifyError::retryable("451 later")), now) {
        DeliveryOutcome::Retrying { error, retry_at } => {
            assert_eq!(error, "451 later");
            assert!(retry_at >= at("2026-11-25T21:00:13Z"), "{retry_at}");
            assert!(retry_at <= at("2026-11-25T21:00:14Z"), "{retry_at}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn retry_after_wins_when_later_than_the_backoff() {
    let created = at("2026-11-25T21:00:00Z");
    let now = at("2026-11-25T21:00:10Z");
    let err = NotifyError::Retryable {
        message: "429".to_string(),
        retry_after: Some(Duration::from_secs(120)),
    };
    match attempt_outcome(created, 1, &Err(err), now) {
        DeliveryOutcome::Retrying { retry_at, .. } => {
            assert_eq!(retry_at, at("2026-11-25T21:02:10Z"));
        }
        other => panic!("{other:?}"),
    }
    // A hint shorter than the backoff does not shorten it.
    let err = NotifyError::Retryable {
        message: "429".to_string(),
        retry_after: Some(Duration::ZERO),
    };
    match attempt_outcome(created, 10, &Err(err), now) {
        DeliveryOutcome::Retrying { retry_at, .. } => {
            assert!(retry_at >= at("2026-11-25T21:03:55Z"), "{retry_at}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pages_give_up_after_a_day() {
    let created = at("2026-11-25T21:00:00Z");
    assert_eq!(MAX_PAGE_AGE, Duration::from_secs(86_400));
    assert!(!is_expired(created, at("2026-11-26T20:59:59Z")));
    assert!(is_expired(created, at("2026-11-26T21:00:00Z")));
    // Clock went backwards: not expired.
    assert!(!is_expired(created, at("2026-11-25T20:00:00Z")));

    // The next try would land past 24 h: failed now, with the last error kept.
    let late = at("2026-11-26T20:58:00Z");
    match attempt_outcome(
        created,
        20,
        &Err(NotifyError::retryable("connection refused")),
        late,
    ) {
        DeliveryOutcome::Failed { error } => {
            assert!(error.contains("connection refused"), "{error}");
            assert!(error.contains("24h"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn page_attempt_carries_the_page_identity() {
    let p = support::page(PageEvent::Triggered, 17, 1, "alice", "mail");
    let now = at("2026-11-25T21:13:00Z");
    let a = page_attempt(&p, 2, &Err(NotifyError::permanent("550")), now);
    assert_eq!(a.key, "oncalld:17:1:alice:mail");
    assert_eq!((a.incident, a.attempt, a.at), (17, 2, now));
    assert_eq!(
        (a.recipient.as_str(), a.notifier.as_str()),
        ("alice", "mail")
    );
    assert_eq!(
        a.outcome,
        DeliveryOutcome::Failed {
            error: "550".to_string()
        }
    );
}
