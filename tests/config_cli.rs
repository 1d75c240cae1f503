//! `oncalld check-config`, through the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn oncalld(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .args(args)
        .env_remove("ONCALLD_CONFIG")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn valid_file_prints_one_summary_line_and_exits_0() {
    let out = Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check-config", "-c", "checks.example.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "checks.example.toml: OK (6 checks, 2 people, 1 schedule, 1 policy, 13 notifiers)\n"
    );
    // The example pages through the console notifier only (it needs no network): the lint
    // says so for each check, and nothing else.
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 7, "{stderr}");
    // Located at the first check's `[[check]]` line, wherever the example puts it.
    let example = std::fs::read_to_string(repo("checks.example.toml")).unwrap();
    let line = 1 + example
        .lines()
        .position(|l| l.trim() == "[[check]]")
        .expect("a check in the example");
    let first = format!(
        "checks.example.toml:{line}:1: warning: check[0].policy: check \"root-disk\": its policy \"default\" reaches only console notifiers (log)"
    );
    assert!(lines[0].starts_with(&first), "{stderr}");
    assert_eq!(lines[6], "6 warnings");
}

/// A rotation that starts in 2199 (legal), a person no policy reaches, a policy to a console.
const LINTED: &str = r#"
[notifiers.log]
type = "console"

[people.alice]
notify = [{ via = "log" }]

[people.bob]
notify = [{ via = "log" }]

[schedules.main]
time_zone = "UTC"
rotation = ["alice"]
shift = "1w"
start = "2199-01-01T00:00"

[policies.default]
[[policies.default.steps]]
notify = ["schedule:main"]

[[check]]
name = "web"
type = "tcp"
address = "127.0.0.1:9"
"#;

#[test]
fn warnings_are_located_and_exit_0_and_strict_makes_them_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lint.toml");
    std::fs::write(&path, LINTED).unwrap();
    let p = path.to_str().unwrap();
    let out = oncalld(&["check-config", "-c", p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{p}: OK (1 check, 2 people, 1 schedule, 1 policy, 1 notifier)\n")
    );
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{stderr}");
    let expected_starts = [
        format!("{p}:8:9: warning: people.bob: person \"bob\" is reached by no policy"),
        format!(
            "{p}:11:12: warning: schedules.main: schedule \"main\" has nobody on call from now until at least "
        ),
        format!(
            "{p}:18:1: warning: policies.default.steps[0]: step 1 of policy \"default\" pages nobody from "
        ),
        format!(
            "{p}:21:1: warning: check[0].policy: check \"web\": its policy \"default\" reaches only console notifiers (log)"
        ),
    ];
    for (line, start) in lines.iter().zip(&expected_starts) {
        assert!(
            line.starts_with(start.as_str()),
            "{line}\nexpected: {start}"
        );
    }
    assert!(
        lines[1].contains("(UTC), the end of the 28 days checked"),
        "{stderr}"
    );
    assert_eq!(lines[4], "4 warnings");

    let out = oncalld(&["check-config", "--strict", "-c", p]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{stderr}");
    assert!(
        lines[1].starts_with(&format!("{p}:11:12: schedules.main: ")),
        "{stderr}"
    );
    assert_eq!(lines[4], "4 errors");

    let out = oncalld(&["check-config", "--json", "-c", p]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(4), "{v}");
    assert_eq!(v["warnings"][0]["key"], "people.bob");
}

#[test]
fn config_path_comes_from_the_environment_without_c() {
    let out = Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .arg("check-config")
        .env("ONCALLD_CONFIG", repo("checks.example.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(": OK (6 checks"));
}

#[test]
fn invalid_file_prints_every_error_then_the_count_and_exits_1() {
    let path = repo("tests/config/broken/multiple_errors.toml");
    let out = oncalld(&["check-config", "-c", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{stderr}");
    let prefix = format!("{}:", path.display());
    for line in &lines[..4] {
        assert!(line.starts_with(&prefix), "{line}");
    }
    assert_eq!(
        lines[1],
        format!(
            "{prefix}19:11: check[0].timeout: invalid duration \"soon\": expected number at 0 (examples: \"30s\", \"15m\", \"1h 30m\")"
        )
    );
    assert_eq!(lines[4], "4 errors");
}

#[test]
fn one_error_is_counted_in_the_singular() {
    let path = repo("tests/config/broken/bad_zone.toml");
    let out = oncalld(&["check-config", "-c", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(": schedules.primary.time_zone: unknown time zone \"Europe/Atlantis\"")
    );
    assert!(stderr.ends_with("\n1 error\n"), "{stderr}");
}

#[test]
fn missing_file_names_the_path_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let out = oncalld(&["check-config", "-c", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let first = stderr.lines().next().unwrap();
    let expected = format!("{}: cannot read the file: ", path.display());
    assert!(first.starts_with(&expected), "{stderr}");
    assert!(stderr.ends_with("1 error\n"));
}

#[test]
fn directory_instead_of_file_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = oncalld(&["check-config", "-c", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(&dir.path().display().to_string()));
}

#[test]
fn json_summary_and_json_errors() {
    let example = repo("checks.example.toml");
    let out = oncalld(&["check-config", "--json", "-c", example.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(
        (v["checks"].as_u64(), v["people"].as_u64()),
        (Some(6), Some(2))
    );
    assert_eq!(
        (v["schedules"].as_u64(), v["policies"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["notifiers"].as_u64(), Some(13));

    let broken = repo("tests/config/broken/override_order.toml");
    let out = oncalld(&["check-config", "--json", "-c", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let e = &v["errors"][0];
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(16), Some(9))
    );
    assert_eq!(e["key"], "schedules.primary.overrides[0].until");
    assert_eq!(v["errors"].as_array().unwrap().len(), 1);
}

#[test]
fn relative_config_path_and_zero_counts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "[daemon]\nstate_dir = \"st\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .current_dir(dir.path())
        .args(["check-config", "-c", "c.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "c.toml: OK (0 checks, 0 people, 0 schedules, 0 policies, 0 notifiers)\n"
    );
}

/// `oncalld … | head -1`: a CLI command whose reader has gone ends quietly (SIGPIPE, like any
/// Unix tool) instead of panicking on the broken pipe.
#[test]
fn a_closed_stdout_ends_the_cli_quietly() {
    use std::os::unix::process::ExitStatusExt;
    // Close-on-exec: a child another test spawns meanwhile must not inherit the read end and
    // keep the pipe open.
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    drop(read);
    let out = Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .args(["check-config", "-c"])
        .arg(repo("checks.example.toml"))
        .stdout(std::process::Stdio::from(write))
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}
