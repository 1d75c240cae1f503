//! `oncalld check-config`: validate a config file without a daemon.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::config::{self, Config, ConfigError};

/// Load and lint `path` as of now. Valid: the warnings (stderr), then a one-line summary
/// (stdout), exit 0. Invalid, or any warning with `strict`: every problem, one per line, then
/// their count (stderr), exit 1.
pub fn run(path: &Path, as_json: bool, strict: bool) -> ExitCode {
    let (cfg, warnings) = match config::load_linted(path, jiff::Timestamp::now()) {
        Ok(loaded) => loaded,
        Err(errors) => return fail(path, as_json, &errors.0),
    };
    if strict && !warnings.is_empty() {
        return fail(path, as_json, &warnings);
    }
    if as_json {
        println!("{}", success_json(path, &cfg, &warnings));
    } else {
        for w in &warnings {
            eprintln!("{}", w.as_warning());
        }
        if !warnings.is_empty() {
            eprintln!("{}", plural(warnings.len(), "warning", "warnings"));
        }
        println!("{}: OK ({})", path.display(), summary(&cfg));
    }
    ExitCode::SUCCESS
}

fn fail(path: &Path, as_json: bool, errors: &[ConfigError]) -> ExitCode {
    if as_json {
        println!("{}", failure_json(path, errors));
    } else {
        for e in errors {
            eprintln!("{e}");
        }
        eprintln!("{}", plural(errors.len(), "error", "errors"));
    }
    ExitCode::from(1)
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

fn success_json(path: &Path, cfg: &Config, warnings: &[ConfigError]) -> serde_json::Value {
    json!({
        "file": path.display().to_string(),
        "valid": true,
        "checks": cfg.checks.len(),
        "people": cfg.people.len(),
        "periods": cfg.periods.len(),
        "schedules": cfg.schedules.len(),
        "policies": cfg.policies.len(),
        "notifiers": cfg.notifiers.len(),
        "warnings": located(warnings),
    })
}

fn failure_json(path: &Path, errors: &[ConfigError]) -> serde_json::Value {
    json!({ "file": path.display().to_string(), "valid": false, "errors": located(errors) })
}

fn located(errors: &[ConfigError]) -> Vec<serde_json::Value> {
    errors
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
        .collect()
}
