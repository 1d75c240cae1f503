//! `oncalld report [--since DUR]` and `oncalld reload`.

use std::process::ExitCode;

use hyper::Method;

use super::args::ClientArgs;
use super::output::{CmdResult, client, print_json, print_raw, safe};
use crate::api::client::encode;
use crate::api::parse::parse_duration;
use crate::api::types::ReloadView;
use crate::text::sanitize_text;

/// MTTA / MTTR / availability. The daemon's text rendering (`"text"`) when it sends one,
/// else the JSON, pretty.
pub async fn report(args: &ClientArgs, since: &str) -> CmdResult {
    parse_duration(since).map_err(anyhow::Error::msg)?;
    let raw = client(args)
        .get_bytes(&format!("/v1/report?since={}", encode(since)))
        .await?;
    let value: serde_json::Value = serde_json::from_slice(&raw)?;
    match value.get("text").and_then(|t| t.as_str()) {
        Some(text) if !args.json => {
            print!("{}", sanitize_text(text));
            if !text.ends_with('\n') {
                println!();
            }
        }
        _ if args.json => print_raw(&raw)?,
        _ => print_json(&value)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Ask the daemon to re-read its config. Invalid: print every error, exit 1 (the daemon keeps
/// running the old config).
pub async fn reload(args: &ClientArgs) -> CmdResult {
    let c = client(args);
    let answer = c.request(Method::POST, "/v1/reload", None).await?;
    let view = match serde_json::from_slice::<ReloadView>(&answer.body) {
        Ok(v) if answer.status == 200 || answer.status == 422 => v,
        // Any other error: the usual `{"error": ...}` line.
        _ => {
            c.check(answer)?;
            anyhow::bail!("unexpected answer to reload");
        }
    };
    if args.json {
        print_raw(&answer.body)?;
    } else if view.reloaded {
        println!(
            "Reloaded: {}",
            safe(view.summary.as_deref().unwrap_or("config applied"))
        );
    } else {
        for e in &view.errors {
            eprintln!("{}", safe(e));
        }
        eprintln!(
            "oncalld: {}",
            safe(
                view.error
                    .as_deref()
                    .unwrap_or("the config is invalid; still running the previous one")
            )
        );
    }
    Ok(ExitCode::from(if view.reloaded { 0 } else { 1 }))
}
