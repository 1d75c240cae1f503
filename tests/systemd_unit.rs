//! The packaging files checked by the real systemd tools: `systemd-analyze verify` and
//! `security --offline=yes` on the unit, `systemd-sysusers --root` on the sysusers entry, and
//! `make install DESTDIR=...` for the install layout. Each test is skipped, saying why, when
//! its tool is missing (`.ci/setup` installs Debian's `systemd` and `make`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The highest `systemd-analyze security` exposure the unit may have (issue 6).
const MAX_EXPOSURE: f64 = 2.5;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn unit_text() -> String {
    std::fs::read_to_string(repo().join("systemd/oncalld.service")).unwrap()
}

/// Whether `tool` can be run; prints why a test is skipped when it cannot.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("--version").output().is_ok();
    if !ok {
        eprintln!("skipping: `{tool}` is not installed (run .ci/setup)");
    }
    ok
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The unit, copied to a temp dir with `ExecStart=` pointing at the binary cargo just built
/// (verify insists the executable exists).
fn unit_with_built_binary(dir: &Path) -> PathBuf {
    let unit = unit_text().replace("/usr/local/bin/oncalld", env!("CARGO_BIN_EXE_oncalld"));
    let path = dir.join("oncalld.service");
    std::fs::write(&path, unit).unwrap();
    path
}

/// `systemd-analyze verify` output about `unit`: it exits 0 even for unknown keys, so any
/// line naming the unit counts as a finding.
fn verify_findings(unit: &Path) -> Vec<String> {
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(unit)
        .output()
        .unwrap();
    let name = unit.file_name().unwrap().to_string_lossy().to_string();
    let mut findings: Vec<String> = text(&out)
        .lines()
        .filter(|l| l.contains(&name))
        .map(str::to_string)
        .collect();
    if !out.status.success() {
        findings.push(format!("exit status {}: {}", out.status, text(&out)));
    }
    findings
}

#[test]
fn unit_passes_systemd_analyze_verify() {
    if !have("systemd-analyze") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let findings = verify_findings(&unit_with_built_binary(dir.path()));
    assert!(findings.is_empty(), "verify complained: {findings:#?}");
}

#[test]
fn verify_findings_are_detected() {
    // Guards the test above: a misspelt key must show up as a finding.
    if !have("systemd-analyze") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_with_built_binary(dir.path());
    let broken = std::fs::read_to_string(&unit)
        .unwrap()
        .replace("ProtectClock=yes", "ProtectClok=yes");
    std::fs::write(&unit, broken).unwrap();
    let findings = verify_findings(&unit);
    assert!(
        findings.iter().any(|f| f.contains("ProtectClok")),
        "{findings:#?}"
    );
}

/// The figure in `→ Overall exposure level for oncalld.service: 1.5 OK 🙂`.
fn exposure(output: &str) -> Option<f64> {
    let line = output
        .lines()
        .find(|l| l.contains("Overall exposure level"))?;
    let (_, rest) = line.rsplit_once(": ")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn unit_exposure_is_at_most_2_5() {
    if !have("systemd-analyze") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_with_built_binary(dir.path());
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=25", "--no-pager"])
        .arg(&unit)
        .output()
        .unwrap();
    let all = text(&out);
    let level = exposure(&all).unwrap_or_else(|| panic!("no exposure level in:\n{all}"));
    eprintln!("systemd-analyze security: exposure {level}");
    assert!(
        level <= MAX_EXPOSURE,
        "exposure {level} > {MAX_EXPOSURE}:\n{all}"
    );
    assert!(out.status.success(), "over --threshold=25:\n{all}");
}

#[test]
fn exposure_line_is_parsed() {
    let sample = "✗ UMask= ...\n→ Overall exposure level for oncalld.service: 1.5 OK 🙂\n";
    assert_eq!(exposure(sample), Some(1.5));
    assert_eq!(exposure("nothing here"), None);
}

/// The unit's active `Key=value` lines (comments dropped), for the promises that the
/// security score alone does not check.
fn settings() -> Vec<(String, String)> {
    unit_text()
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('[') && !l.is_empty())
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn setting(key: &str) -> Option<String> {
    settings()
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[test]
fn unit_speaks_the_notify_protocol_as_oncalld() {
    let expect = [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("Restart", "on-failure"),
        ("User", "oncalld"),
        ("Group", "oncalld"),
        ("StateDirectory", "oncalld"),
        ("RuntimeDirectory", "oncalld"),
        ("RuntimeDirectoryMode", "0750"),
        ("ConfigurationDirectory", "oncalld"),
        ("CapabilityBoundingSet", ""),
    ];
    for (key, value) in expect {
        assert_eq!(setting(key).as_deref(), Some(value), "{key}=");
    }
    assert!(setting("WatchdogSec").is_some());
    let exec = setting("ExecStart").unwrap();
    assert!(exec.starts_with("/usr/local/bin/oncalld run -c "), "{exec}");
}

#[test]
fn sandbox_keeps_what_the_checks_need() {
    // Process checks see every process, disk checks every mount and /proc/mounts,
    // socket actors keep their real uid, HTTP/TCP/SMTP reach any address, plugins run.
    for key in [
        "ProtectProc",
        "PrivateUsers",
        "PrivateNetwork",
        "IPAddressDeny",
        "NoExecPaths",
        "InaccessiblePaths",
        "DynamicUser",
    ] {
        assert_eq!(setting(key), None, "{key}= must stay unset (see the unit)");
    }
    assert_ne!(setting("ProcSubset").as_deref(), Some("pid"));
    assert_eq!(setting("ProtectHome").as_deref(), Some("read-only"));
    let families = setting("RestrictAddressFamilies").unwrap();
    for family in ["AF_UNIX", "AF_INET", "AF_INET6"] {
        assert!(families.split_whitespace().any(|f| f == family), "{family}");
    }
}

#[test]
fn sysusers_creates_the_oncalld_user_and_group() {
    if !have("systemd-sysusers") {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let conf_dir = root.path().join("usr/lib/sysusers.d");
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::create_dir_all(&conf_dir).unwrap();
    std::fs::copy(
        repo().join("systemd/oncalld.sysusers"),
        conf_dir.join("oncalld.conf"),
    )
    .unwrap();
    let out = Command::new("systemd-sysusers")
        .arg(format!("--root={}", root.path().display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).unwrap();
    let user = passwd.lines().find(|l| l.starts_with("oncalld:")).unwrap();
    let fields: Vec<&str> = user.split(':').collect();
    assert_eq!(fields[5], "/var/lib/oncalld");
    assert_eq!(fields[6], "/usr/sbin/nologin");
    let group = std::fs::read_to_string(root.path().join("etc/group")).unwrap();
    let gid = group
        .lines()
        .find(|l| l.starts_with("oncalld:"))
        .map(|l| l.split(':').nth(2).unwrap().to_string())
        .unwrap();
    assert_eq!(fields[3], gid, "the user's primary group is oncalld");
}

#[test]
fn make_install_stages_every_file_and_keeps_an_edited_config() {
    if !have("make") {
        return;
    }
    let dest = tempfile::tempdir().unwrap();
    let conf = dest.path().join("etc/oncalld/checks.toml");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(&conf, "# edited by the admin\n").unwrap();
    let out = Command::new("make")
        .current_dir(repo())
        .arg("install")
        .arg(format!("DESTDIR={}", dest.path().display()))
        .arg("PREFIX=/usr")
        .arg(format!("BIN={}", env!("CARGO_BIN_EXE_oncalld")))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let d = dest.path();
    let bin = std::fs::metadata(d.join("usr/bin/oncalld")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(bin.permissions().mode() & 0o777, 0o755);
    let unit = std::fs::read_to_string(d.join("usr/lib/systemd/system/oncalld.service")).unwrap();
    assert!(unit.contains("\nExecStart=/usr/bin/oncalld run -c /etc/oncalld/checks.toml\n"));
    assert!(d.join("usr/lib/sysusers.d/oncalld.conf").is_file());
    assert!(d.join("usr/share/doc/oncalld/SERVICE.md").is_file());
    let kept = std::fs::read_to_string(&conf).unwrap();
    assert_eq!(kept, "# edited by the admin\n");
}

#[test]
fn make_install_puts_the_example_config_in_place_when_there_is_none() {
    if !have("make") || !repo().join("checks.example.toml").is_file() {
        eprintln!("skipping: needs make and checks.example.toml");
        return;
    }
    let dest = tempfile::tempdir().unwrap();
    let out = Command::new("make")
        .current_dir(repo())
        .args(["install-config"])
        .arg(format!("DESTDIR={}", dest.path().display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let conf = dest.path().join("etc/oncalld/checks.toml");
    let example = std::fs::read(repo().join("checks.example.toml")).unwrap();
    assert_eq!(std::fs::read(&conf).unwrap(), example);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&conf).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640, "it may hold secrets");
}
