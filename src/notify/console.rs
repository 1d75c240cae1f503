//! Console: the page in the daemon's log (journald under systemd). Always delivered; useful as
//! a last-resort target and for trying a config out.
//!
//! It writes through `tracing` only, never to stderr directly, so it shares the log's
//! non-blocking queue (`daemon::log_writer`): a full or closed stderr drops the line (counted
//! in `oncalld_log_lines_dropped_total`) instead of blocking delivery or panicking.

use super::{Notifier, SendFuture};
use crate::core::model::{Page, PageEvent};
use crate::text::sanitize_line;

pub struct ConsoleNotifier {
    name: String,
}

impl ConsoleNotifier {
    pub fn new(name: &str) -> Self {
        ConsoleNotifier {
            name: name.to_string(),
        }
    }
}

impl Notifier for ConsoleNotifier {
    fn send<'a>(&'a self, page: &'a Page) -> SendFuture<'a> {
        Box::pin(async move {
            // The page text quotes the probe's output: shown with control characters replaced.
            let text = sanitize_line(&page.text);
            let recipient = sanitize_line(&page.recipient);
            // Bad news at warn so it stands out in a filtered log; the rest at info.
            match page.event {
                PageEvent::Triggered | PageEvent::Escalated | PageEvent::Flapping => {
                    tracing::warn!(
                        message = "Page.",
                        notifier = %self.name,
                        key = %page.key,
                        incident = page.incident,
                        event = %page.event.as_str(),
                        recipient = %recipient,
                        text = %text,
                    )
                }
                PageEvent::Acknowledged | PageEvent::Resolved | PageEvent::Test => tracing::info!(
                    message = "Page.",
                    notifier = %self.name,
                    key = %page.key,
                    incident = page.incident,
                    event = %page.event.as_str(),
                    recipient = %recipient,
                    text = %text,
                ),
            }
            Ok(())
        })
    }
}
