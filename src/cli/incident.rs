//! `oncalld ack|resolve|escalate|note|postmortem ID`: acting on one incident.
//! An unknown id or a wrong state (acking a resolved incident) prints the daemon's error and
//! exits 1.

use std::process::ExitCode;

use anyhow::Context;

use super::args::ClientArgs;
use super::output::{CmdResult, client, id, print_json, print_raw, safe};
use crate::api::parse::parse_id;
use crate::api::types::{IncidentView, MessageBody, NoteBody};

/// Which action a `POST /v1/incidents/{id}/…` performs, and how its success reads.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    Ack,
    Resolve,
    Escalate,
}

impl Action {
    fn path(self) -> &'static str {
        match self {
            Action::Ack => "ack",
            Action::Resolve => "resolve",
            Action::Escalate => "escalate",
        }
    }
    fn done(self) -> &'static str {
        match self {
            Action::Ack => "Acknowledged",
            Action::Resolve => "Resolved",
            Action::Escalate => "Escalated",
        }
    }
}

/// `ack`, `resolve`, `escalate`: one POST, then one line saying what happened.
pub async fn act(
    args: &ClientArgs,
    action: Action,
    raw_id: &str,
    message: Option<String>,
) -> CmdResult {
    let n = parse_id(raw_id).map_err(anyhow::Error::msg)?;
    let uri = format!("/v1/incidents/{n}/{}", action.path());
    let raw = client(args)
        .post_bytes(&uri, &MessageBody { message })
        .await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let i: IncidentView = serde_json::from_slice(&raw)?;
    match action {
        Action::Escalate => println!(
            "{} {} ({}): now at step {}.",
            action.done(),
            id(i.id),
            safe(&i.check),
            i.step
        ),
        _ => println!("{} {} ({}).", action.done(), id(i.id), safe(&i.check)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `ack|resolve ID...` and `--check PATTERN`: one id alone is [`act`]; several ids or a
/// pattern go in one request, one durable step, and each incident changed is listed.
pub async fn act_many(
    args: &ClientArgs,
    action: Action,
    raw_ids: &[String],
    check: Option<String>,
    message: Option<String>,
) -> CmdResult {
    if let ([one], None) = (raw_ids, &check) {
        return act(args, action, one, message).await;
    }
    let ids = raw_ids
        .iter()
        .map(|r| parse_id(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let uri = format!("/v1/incidents/{}", action.path());
    let body = crate::api::types::BulkBody {
        ids,
        check,
        message,
    };
    let raw = client(args).post_bytes(&uri, &body).await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let v: crate::api::types::BulkView = serde_json::from_slice(&raw)?;
    for i in &v.changed {
        println!("{} {} ({}).", action.done(), id(i.id), safe(&i.check));
    }
    for s in &v.skipped {
        println!("Skipped {}: {}.", id(s.id), safe(&s.reason));
    }
    if v.changed.is_empty() {
        println!("Nothing to do: no incident matched.");
    } else {
        println!("{} incidents in one step.", v.changed.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// `note ID TEXT`.
pub async fn note(args: &ClientArgs, raw_id: &str, text: String) -> CmdResult {
    let n = parse_id(raw_id).map_err(anyhow::Error::msg)?;
    if text.trim().is_empty() {
        anyhow::bail!("a note needs some text");
    }
    let uri = format!("/v1/incidents/{n}/notes");
    let raw = client(args).post_bytes(&uri, &NoteBody { text }).await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let i: IncidentView = serde_json::from_slice(&raw)?;
    println!("Noted on {} ({}).", id(i.id), safe(&i.check));
    Ok(ExitCode::SUCCESS)
}

/// `postmortem ID [-o FILE]`: the Markdown draft, to stdout or a file.
pub async fn postmortem(
    args: &ClientArgs,
    raw_id: &str,
    output: Option<&std::path::Path>,
) -> CmdResult {
    let n = parse_id(raw_id).map_err(anyhow::Error::msg)?;
    let md = client(args)
        .get_text(&format!("/v1/incidents/{n}/postmortem"))
        .await?;
    match output {
        Some(path) => {
            std::fs::write(path, &md)
                .with_context(|| format!("cannot write {}", path.display()))?;
            if args.json {
                print_json(&serde_json::json!({ "incident": n, "file": path }))?;
            } else {
                println!(
                    "Wrote the postmortem draft of {} to {}.",
                    id(n),
                    path.display()
                );
            }
        }
        None if args.json => print_json(&serde_json::json!({ "incident": n, "markdown": md }))?,
        // The daemon sanitises the draft; the CLI does again, as it prints to a terminal.
        None => print!("{}", crate::text::sanitize_text(&md)),
    }
    Ok(ExitCode::SUCCESS)
}
