//! Why (not) paged (SPEC §13): `oncalld simulate CHECK [--at TIME] [-c FILE]`, the dry run,
//! and `oncalld explain ID`, the decision chain of a real incident.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::args::ClientArgs;
use super::output::{CmdResult, client, print_raw, safe, zone};
use crate::api::client::encode;
use crate::api::parse::parse_time_in;
use crate::core::simulate::{Predicted, Simulation, simulate as run_simulation};

/// The decision chain of incident `raw_id`, times in this machine's zone.
pub async fn explain(args: &ClientArgs, raw_id: &str) -> CmdResult {
    let n = crate::api::parse::parse_id(raw_id).map_err(anyhow::Error::msg)?;
    let raw = client(args)
        .get_bytes(&format!("/v1/incidents/{n}/explain"))
        .await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let x: crate::report::explain::Explanation = serde_json::from_slice(&raw)?;
    print!("{}", crate::report::explain::render(&x, &zone()));
    Ok(ExitCode::SUCCESS)
}

/// With `-c FILE`: the engine runs here on that file (no daemon, no silences), so a change can
/// be checked before it is loaded. Without: the daemon runs it on its config and silences.
pub async fn simulate(
    args: &ClientArgs,
    check: &str,
    at: Option<&str>,
    config: Option<&Path>,
) -> CmdResult {
    let at = match at {
        Some(t) => Some(parse_time_in(t, &zone()).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let sim = match config {
        Some(path) => {
            let config = crate::config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
            let sim = run_simulation(
                Arc::new(config),
                Vec::new(),
                check,
                at.unwrap_or_else(Timestamp::now),
            )?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&sim)?);
                return Ok(ExitCode::SUCCESS);
            }
            sim
        }
        None => {
            let mut uri = format!("/v1/simulate?check={}", encode(check));
            if let Some(at) = at {
                uri.push_str(&format!("&at={}", encode(&at.to_string())));
            }
            let raw = client(args).get_bytes(&uri).await?;
            if args.json {
                print_raw(&raw)?;
                return Ok(ExitCode::SUCCESS);
            }
            serde_json::from_slice(&raw)?
        }
    };
    print!("{}", render_simulation(&sim));
    Ok(ExitCode::SUCCESS)
}

/// The dry run as text: one line per decision, its offset from the failure and its time in
/// each of the policy's zones.
pub fn render_simulation(sim: &Simulation) -> String {
    let zones: Vec<TimeZone> = sim
        .zones
        .iter()
        .filter_map(|z| TimeZone::get(z).ok())
        .collect();
    let zones = if zones.is_empty() {
        vec![TimeZone::UTC]
    } else {
        zones
    };
    let mut out = format!(
        "If {} went DOWN at {} and nobody acknowledged (policy {}):\n",
        safe(&sim.check),
        times(sim.at, &zones),
        safe(&sim.policy)
    );
    if sim.events.is_empty() {
        out.push_str("  nothing would happen\n");
    }
    for e in &sim.events {
        let offset = e.at.duration_since(sim.at).as_secs().max(0) as u64;
        let offset = humantime::format_duration(std::time::Duration::from_secs(offset));
        out.push_str(&format!(
            "  +{:<8} {}  {}\n",
            offset.to_string(),
            times(e.at, &zones),
            what(e)
        ));
    }
    if !sim.complete {
        out.push_str("  ... (cut after 31 days: paging would go on)\n");
    }
    out
}

fn times(at: Timestamp, zones: &[TimeZone]) -> String {
    let parts: Vec<String> = zones
        .iter()
        .map(|z| {
            at.to_zoned(z.clone())
                .strftime("%a %Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .collect();
    parts.join(" = ")
}

fn what(e: &Predicted) -> String {
    match (e.kind.as_str(), &e.recipient, &e.notifier) {
        ("paged", Some(r), Some(n)) => {
            let to =
                e.to.as_deref()
                    .filter(|t| !t.is_empty())
                    .map(|t| format!(" to {}", safe(t)))
                    .unwrap_or_default();
            format!(
                "page {} via {}{to} (step {})",
                safe(r),
                safe(n),
                e.step.unwrap_or(0)
            )
        }
        // The engine's message already says what happened.
        ("step_skipped" | "escalated", _, _) => safe(&e.message).into_owned(),
        (kind, _, _) => format!("{}: {}", kind.replace('_', " "), safe(&e.message)),
    }
}
