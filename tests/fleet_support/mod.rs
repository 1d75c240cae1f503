//! The configs of docs/fleet/ as the tests run them: read from the docs, with hosts, ports,
//! paths and timings substituted. Each substitution must find its text, so a change to the
//! docs that the tests no longer follow fails loudly instead of testing something else.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `docs/fleet/` of this checkout.
pub fn fleet_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/fleet")
}

/// The text of `docs/fleet/<rel>`.
pub fn read(rel: &str) -> String {
    std::fs::read_to_string(fleet_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `text` with every `(from, to)` replaced; each `from` must occur.
pub fn subst(name: &str, text: &str, pairs: &[(&str, String)]) -> String {
    let mut out = text.to_string();
    for (from, to) in pairs {
        assert!(
            out.contains(from),
            "{name} no longer contains {from:?}: update the test with the docs"
        );
        out = out.replace(from, to);
    }
    out
}

/// Whether the Debian binaries of the real Prometheus / Alertmanager are here. Absent in CI
/// is a failure (CI installs them: .ci/setup); absent on a developer machine, the caller
/// skips and says so.
pub fn binaries_present(bins: &[&str]) -> bool {
    let missing: Vec<&&str> = bins.iter().filter(|b| !Path::new(b).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{missing:?} missing in CI: .ci/setup installs them"
    );
    println!("SKIPPED: {missing:?} not installed (run .ci/setup); the test did not run");
    false
}
