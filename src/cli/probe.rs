//! `oncalld probe [-c FILE] NAME [--json]`: run one check once, without a daemon, and exit
//! with its Nagios code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::config::{self, CheckConfig};
use crate::probe::{ProbeResult, Probes, Status, run_probe};

/// Run the check named `name` from the config at `path` and print the result.
pub async fn probe(path: &Path, name: &str, json: bool) -> ExitCode {
    let config = match config::load(path) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("oncalld: {} is invalid", path.display());
            return exit(Status::Unknown);
        }
    };
    let Some(check) = config.check(name) else {
        eprintln!("oncalld: no check named {name:?} in {}", path.display());
        return exit(Status::Unknown);
    };
    let result = probe_once(check).await;
    if json {
        print_json(check, &result);
    } else {
        // The plugin's output, shown with its control characters replaced.
        let line = format!("{}: {result}", check.name);
        println!("{}", crate::text::sanitize_text(&line));
    }
    exit(result.status)
}

/// One run of one check, as the scheduler would run it (same probe code, same timeout).
pub async fn probe_once(check: &CheckConfig) -> ProbeResult {
    let probe = Probes::new().build(&check.probe);
    run_probe(probe.as_ref(), check.timeout).await
}

fn print_json(check: &CheckConfig, result: &ProbeResult) {
    #[derive(Serialize)]
    struct Out<'a> {
        check: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        target: String,
        #[serde(flatten)]
        result: &'a ProbeResult,
    }
    let out = Out {
        check: &check.name,
        kind: check.probe.kind(),
        target: check.probe.target(),
        result,
    };
    match serde_json::to_string_pretty(&out) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("oncalld: cannot encode the result: {e}"),
    }
}

fn exit(status: Status) -> ExitCode {
    ExitCode::from(status.exit_code() as u8)
}
