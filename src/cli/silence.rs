//! `oncalld silence PATTERN --for DUR`, `oncalld silences`, `oncalld unsilence ID`:
//! maintenance windows.

use std::process::ExitCode;

use jiff::Timestamp;

use super::args::ClientArgs;
use super::output::{
    Cell, CmdResult, Table, client, colour_enabled, id, print_raw, safe, short_time, zone,
};
use crate::api::parse::{parse_duration, parse_id};
use crate::api::types::{SilenceBody, SilenceView};

/// Start a silence now for `duration`.
pub async fn silence(
    args: &ClientArgs,
    pattern: String,
    duration: String,
    message: Option<String>,
) -> CmdResult {
    parse_duration(&duration).map_err(anyhow::Error::msg)?;
    glob::Pattern::new(&pattern)
        .map_err(|e| anyhow::anyhow!("invalid pattern {pattern:?}: {e}"))?;
    let body = SilenceBody {
        pattern,
        duration,
        message,
    };
    let raw = client(args).post_bytes("/v1/silences", &body).await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let s: SilenceView = serde_json::from_slice(&raw)?;
    println!(
        "Silenced {} until {} ({}).",
        safe(&s.pattern),
        short_time(s.ends_at, &zone()),
        id(s.id)
    );
    Ok(ExitCode::SUCCESS)
}

/// List silences, active first as the daemon orders them.
pub async fn silences(args: &ClientArgs) -> CmdResult {
    let raw = client(args).get_bytes("/v1/silences").await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let list: Vec<SilenceView> = serde_json::from_slice(&raw)?;
    if list.is_empty() {
        println!("No silences.");
        return Ok(ExitCode::SUCCESS);
    }
    let tz = zone();
    let now = Timestamp::now();
    let mut t = Table::new(&["ID", "PATTERN", "STATE", "STARTS", "ENDS", "BY", "MESSAGE"]);
    for s in &list {
        let state = if s.active {
            "active"
        } else if s.starts_at > now {
            "pending"
        } else {
            "ended"
        };
        t.row(vec![
            id(s.id).into(),
            s.pattern.as_str().into(),
            Cell::state(state),
            short_time(s.starts_at, &tz).into(),
            short_time(s.ends_at, &tz).into(),
            s.created_by.as_str().into(),
            s.message.as_str().into(),
        ]);
    }
    print!("{}", t.render(colour_enabled()));
    Ok(ExitCode::SUCCESS)
}

/// End a silence now.
pub async fn unsilence(args: &ClientArgs, raw_id: &str) -> CmdResult {
    let n = parse_id(raw_id).map_err(anyhow::Error::msg)?;
    let raw = client(args)
        .delete_bytes(&format!("/v1/silences/{n}"))
        .await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let s: SilenceView = serde_json::from_slice(&raw)?;
    println!("Ended silence {} ({}).", id(s.id), safe(&s.pattern));
    Ok(ExitCode::SUCCESS)
}
