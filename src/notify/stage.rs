//! The delivery decision, as a pure function (Alertmanager's notify stages are the model).
//!
//! Before each attempt the delivery loop asks [`decide`] what to do with a page at `now`; the
//! variant is also what the log line and the timeline say. Retry timing after an attempt is
//! [`super::attempt_outcome`], also pure.

use jiff::Timestamp;

use super::is_expired;
use crate::core::model::Page;

/// What to do with a page that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Make an attempt now.
    Send,
    /// Older than 24 h (SPEC §9, also across restarts): recorded as failed, never sent.
    Expired,
    /// Its notifier is gone (only after a restart: a running daemon keeps the definition a
    /// page was decided with).
    NotifierRemoved,
}

/// Decide what to do with `page` at `now`; `notifier_known` says whether the page still has
/// a notifier to go through.
pub fn decide(page: &Page, notifier_known: bool, now: Timestamp) -> Decision {
    if is_expired(page.created_at, now) {
        Decision::Expired
    } else if !notifier_known {
        Decision::NotifierRemoved
    } else {
        Decision::Send
    }
}

impl Decision {
    /// The reason recorded on the timeline when the page is not sent.
    pub fn failure(&self, page: &Page) -> Option<String> {
        match self {
            Decision::Send => None,
            Decision::Expired => Some(format!(
                "expired: not delivered within 24h of {}",
                page.created_at
            )),
            Decision::NotifierRemoved => Some(format!("notifier {} was removed", page.notifier)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::Page;

    fn page(created_at: &str) -> Page {
        let at: Timestamp = created_at.parse().unwrap();
        Page {
            key: "oncalld:1:1:alice:mail".into(),
            incident: 1,
            seq: 1,
            event: crate::core::model::PageEvent::Triggered,
            recipient: "alice".into(),
            notifier: "mail".into(),
            to: None,
            step: 1,
            check: "web".into(),
            summary: "down".into(),
            incident_state: crate::core::model::IncidentState::Triggered,
            opened_at: at,
            also_paged: vec![],
            text: "TRIGGERED #1 web: down".into(),
            created_at: at,
            digest: Vec::new(),
        }
    }

    #[test]
    fn decisions_by_age_and_notifier() {
        let now: Timestamp = "2026-12-02T12:00:00Z".parse().unwrap();
        let cases = [
            ("2026-12-02T11:59:00Z", true, Decision::Send),
            ("2026-12-01T12:00:01Z", true, Decision::Send),
            ("2026-12-01T12:00:00Z", true, Decision::Expired),
            ("2026-12-01T11:00:00Z", false, Decision::Expired),
            ("2026-12-02T11:00:00Z", false, Decision::NotifierRemoved),
        ];
        for (created, known, want) in cases {
            assert_eq!(
                decide(&page(created), known, now),
                want,
                "{created} {known}"
            );
        }
    }

    #[test]
    fn failure_reasons_name_what_happened() {
        let p = page("2026-12-01T11:00:00Z");
        assert_eq!(Decision::Send.failure(&p), None);
        assert!(
            Decision::Expired
                .failure(&p)
                .unwrap()
                .starts_with("expired")
        );
        assert_eq!(
            Decision::NotifierRemoved.failure(&p).unwrap(),
            "notifier mail was removed"
        );
    }
}
