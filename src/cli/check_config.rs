//! `oncalld check-config`: validate a config file without a daemon.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::config::{self, Config, ConfigErrors};

/// Load `path`; print a one-line summary (exit 0) or every error, one per line (exit 1).
pub fn run(path: &Path, as_json: bool) -> ExitCode {
    match config::load(path) {
        Ok(cfg) => {
            if as_json {
                println!("{}", success_json(path, &cfg));
            } else {
                println!("{}: OK ({})", path.display(), summary(&cfg));
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            if as_json {
                println!("{}", failure_json(path, &errors));
            } else {
                for e in &errors.0 {
                    eprintln!("{e}");
                }
                eprintln!("{}", plural(errors.0.len(), "error", "errors"));
            }
            ExitCode::from(1)
        }
    }
}

/// "5 checks, 2 people, 1 schedule, 1 policy, 4 notifiers".
pub fn summary(cfg: &Config) -> String {
    [
        plural(cfg.checks.len(), "check", "checks"),
        plural(cfg.people.len(), "person", "people"),
        plural(cfg.schedules.len(), "schedule", "schedules"),
        plural(cfg.policies.len(), "policy", "policies"),
        plural(cfg.notifiers.len(), "notifier", "notifiers"),
    ]
    .join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn success_json(path: &Path, cfg: &Config) -> serde_json::Value {
    json!({
        "file": path.display().to_string(),
        "valid": true,
        "checks": cfg.checks.len(),
        "people": cfg.people.len(),
        "periods": cfg.periods.len(),
        "schedules": cfg.schedules.len(),
        "policies": cfg.policies.len(),
        "notifiers": cfg.notifiers.len(),
    })
}

fn failure_json(path: &Path, errors: &ConfigErrors) -> serde_json::Value {
    let list: Vec<_> = errors
        .0
        .iter()
        .map(|e| {
            json!({
                "file": e.file.display().to_string(),
                "line": e.line,
                "column": e.column,
                "key": e.key,
                "message": e.message,
            })
        })
        .collect();
    json!({ "file": path.display().to_string(), "valid": false, "errors": list })
}
