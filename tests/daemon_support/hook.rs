//! The real webhook receiver of tests/support, run on its own tokio runtime so blocking
//! end-to-end tests (which drive the CLI with `std::process::Command`) can use it.
//!
//! Include it next to both support modules:
//! `mod daemon_support; mod support; #[path = "daemon_support/hook.rs"] mod hook;`

#![allow(dead_code)]

use crate::support::{Answer, WebhookReceiver};

/// One page as the receiver got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Got {
    pub event: String,
    pub incident: u64,
    pub step: u64,
    pub recipient: String,
    pub key: String,
}

/// A webhook receiver on 127.0.0.1 answering 200; stops when dropped.
pub struct Hook {
    // Field order matters: the receiver's task is aborted before its runtime goes away.
    receiver: WebhookReceiver,
    _rt: tokio::runtime::Runtime,
}

impl Hook {
    pub fn start() -> Hook {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let receiver = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
        Hook { receiver, _rt: rt }
    }

    pub fn url(&self) -> String {
        self.receiver.url()
    }

    /// Change what the receiver answers from now on.
    pub fn set_answer(&self, answer: Answer) {
        self.receiver.set_answer(answer);
    }

    /// Idempotency keys of every request received, in arrival order.
    pub fn keys(&self) -> Vec<String> {
        self.receiver.received().iter().map(|r| r.key()).collect()
    }

    /// Every page received so far, in arrival order.
    pub fn pages(&self) -> Vec<Got> {
        self.receiver
            .received()
            .iter()
            .map(|r| {
                let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                Got {
                    event: v["event"].as_str().unwrap_or_default().to_string(),
                    incident: v["incident"]["id"].as_u64().unwrap_or_default(),
                    step: v["incident"]["step"].as_u64().unwrap_or_default(),
                    recipient: v["recipient"].as_str().unwrap_or_default().to_string(),
                    key: v["key"].as_str().unwrap_or_default().to_string(),
                }
            })
            .collect()
    }

    /// Every request body received so far, parsed, in arrival order.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.receiver
            .received()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }

    /// Pages of one incident with this event ("triggered", "escalated", "resolved", ...).
    pub fn of(&self, incident: u64, event: &str) -> Vec<Got> {
        self.pages()
            .into_iter()
            .filter(|g| g.incident == incident && g.event == event)
            .collect()
    }
}
