//! `oncalld ping NAME [--start|--fail|--exit N|--log] [-m TEXT]`: a heartbeat ping over the
//! socket, for jobs on the daemon's own host (no TCP listener needed). Exit 0 when recorded,
//! 1 for an unknown check or one that is not a heartbeat.

use std::process::ExitCode;

use super::args::ClientArgs;
use super::output::{CmdResult, client, print_raw, safe};
use crate::api::client::encode;
use crate::api::types::{Ping, PingKind, PingOutcome};

/// The ping the flags ask for: `--exit 0` is a success, like `/ping/TOKEN/0`.
pub fn kind(start: bool, fail: bool, exit: Option<u8>, log: bool) -> PingKind {
    match (start, fail, exit, log) {
        (true, ..) => PingKind::Start,
        (_, true, ..) => PingKind::Fail { exit_code: None },
        (_, _, Some(0), _) | (false, false, None, false) => PingKind::Success,
        (_, _, Some(code), _) => PingKind::Fail {
            exit_code: Some(code),
        },
        (.., true) => PingKind::Log,
    }
}

pub async fn ping(
    args: &ClientArgs,
    name: &str,
    kind: PingKind,
    message: Option<String>,
) -> CmdResult {
    let body = Ping {
        kind,
        body: message.unwrap_or_default(),
        rid: None,
    };
    let uri = format!("/v1/checks/{}/ping", encode(name));
    let raw = client(args).post_bytes(&uri, &body).await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let outcome: PingOutcome = serde_json::from_slice(&raw)?;
    println!(
        "Recorded: {} is {}.",
        safe(&outcome.check),
        safe(&outcome.state)
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_to_kinds() {
        assert_eq!(kind(false, false, None, false), PingKind::Success);
        assert_eq!(kind(false, false, Some(0), false), PingKind::Success);
        assert_eq!(kind(true, false, None, false), PingKind::Start);
        assert_eq!(
            kind(false, true, None, false),
            PingKind::Fail { exit_code: None }
        );
        let two = PingKind::Fail { exit_code: Some(2) };
        assert_eq!(kind(false, false, Some(2), false), two);
        assert_eq!(kind(false, false, None, true), PingKind::Log);
    }
}
