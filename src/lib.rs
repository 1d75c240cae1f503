//! oncalld: a small Nagios-style monitoring daemon with built-in on-call paging.
//!
//! Layout (data flows top to bottom):
//!
//! - [`config`]: TOML -> typed [`config::Config`], every error with file:line:column.
//! - [`probe`]: one file per probe type behind [`probe::Probe`]; results are Nagios statuses.
//! - [`daemon`]: the scheduler that runs probes, the task that owns the engine, signals.
//! - [`core`]: the pure decision logic (check states, incidents, on-call, escalation).
//! - [`store`]: SQLite: incidents, timeline, check states, silences, the outbox of pages.
//! - [`notify`]: one file per notifier behind [`notify::Notifier`], and outbox delivery.
//! - [`api`]: HTTP/1.1 + JSON on the Unix socket, server and the CLI's client.
//! - [`cli`]: one file per group of subcommands.
//! - [`report`]: postmortem drafts and MTTA / MTTR / availability reports.
//! - [`status_page`]: the public status page (snapshot, 90-day bars, latency, HTML/JSON).
//! - [`tls`]: whom outgoing TLS trusts (built-in + system store + `ca_file`), cert words.
//! - [`text`], [`redact`]: outside text made safe to show, secrets kept out of output.

pub mod api;
pub mod cli;
pub mod config;
pub mod core;
pub mod daemon;
pub mod notify;
pub mod probe;
pub mod redact;
pub mod report;
pub mod status_page;
pub mod store;
pub mod text;
pub mod tls;
