//! The status page's snapshot (SPEC §14): gathered from the live views, the store's
//! transitions and the in-memory latency, rendered, and kept for [`REFRESH`]. A burst of
//! requests costs one store read and one render per 10 s, whatever the load.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

use crate::api::backend::{ApiError, ApiResult};
use crate::daemon::live::Shared;
use crate::daemon::views;
use crate::status_page::{self, Input, Rendered, days::DAYS};
use crate::store::Store;

/// A snapshot is rebuilt at most this often.
pub const REFRESH: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct StatusPageCache {
    /// Held while rebuilding, so concurrent requests wait for one rebuild.
    slot: tokio::sync::Mutex<Option<(Instant, Arc<Rendered>)>>,
}

impl StatusPageCache {
    pub async fn get(
        &self,
        shared: &Arc<Shared>,
        store: &Arc<Mutex<Store>>,
    ) -> ApiResult<Arc<Rendered>> {
        let config = shared.config();
        if !config.status_page.enabled {
            return Err(ApiError::not_found("no status page here"));
        }
        let mut slot = self.slot.lock().await;
        if let Some((_, page)) = slot.as_ref().filter(|(at, _)| at.elapsed() < REFRESH) {
            return Ok(page.clone());
        }
        let now = Timestamp::now();
        // A day more than the bar, so the first day's start state is known.
        let since = now
            .checked_sub(SignedDuration::from_hours(24 * (DAYS as i64 + 1)))
            .unwrap_or(now);
        let store = store.clone();
        let (transitions, first) = tokio::task::spawn_blocking(move || {
            let guard = store
                .lock()
                .map_err(|_| "store lock poisoned".to_string())?;
            let t = guard
                .transitions(None, Some(since))
                .map_err(|e| e.to_string())?;
            let f = guard.first_transition_at().map_err(|e| e.to_string())?;
            Ok::<_, String>((t, f))
        })
        .await
        .map_err(|e| ApiError::internal(format!("store task: {e}")))?
        .map_err(|e| ApiError::internal(format!("store: {e}")))?;

        let checks = views::checks(shared);
        let (latency, open) = {
            let live = shared.read();
            let latency: HashMap<String, _> = live
                .checks
                .iter()
                .filter(|(name, _)| config.status_page.shows(name))
                .map(|(name, l)| (name.clone(), l.latency.points(now)))
                .collect();
            let open: Vec<_> = live.open.iter().map(views::incident).collect();
            (latency, open)
        };
        let history_since = first.map_or(shared.started_at, |f| f.min(shared.started_at));
        let zone = config.daemon.time_zone.clone();
        let snapshot = status_page::snapshot(&Input {
            config: &config.status_page,
            checks: &checks,
            transitions: &transitions,
            latency: &latency,
            open_incidents: &open,
            history_since,
            zone: &zone,
            now,
        });
        let page = Arc::new(Rendered::new(snapshot, &zone));
        *slot = Some((Instant::now(), page.clone()));
        Ok(page)
    }
}
