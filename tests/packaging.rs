//! Packaging (issue 16): the man pages come from the clap definitions and agree with `--help`;
//! `make deb` (dpkg-deb from a staged tree, from the debug binary so no release build is
//! needed) has the binary, unit, sysusers entry, man pages, completions and the example config
//! as a conffile, with maintainer scripts that create the user; as root in CI it installs,
//! and `dpkg -r` leaves the config and the state behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_oncalld");

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run(cmd).stdout).into_owned()
}

/// The visible subcommands as `oncalld --help` lists them.
fn subcommands() -> Vec<(String, String)> {
    let help = stdout(Command::new(BIN).arg("--help"));
    let list = help
        .split("Commands:")
        .nth(1)
        .and_then(|s| s.split("Options:").next())
        .expect("a Commands: section");
    list.lines()
        .filter_map(|l| {
            let l = l.trim();
            let (name, about) = l.split_once(char::is_whitespace)?;
            Some((name.to_string(), about.trim().to_string()))
        })
        .filter(|(name, _)| name != "help")
        .collect()
}

/// roff to plain words: `\-` is `-`, font switches and line breaks go.
fn plain(roff: &str) -> String {
    roff.replace("\\-", "-")
        .replace("\\fB", "")
        .replace("\\fI", "")
        .replace("\\fR", "")
        .replace("\\fP", "")
        .replace("\\(aq", "'")
        .replace("\\*(Aq", "'")
        .replace("\\\\", "\\")
}

#[test]
fn man_pages_and_help_come_from_the_same_definitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    run(Command::new(BIN).args(["man", "--dir"]).arg(dir.path()));
    let main = plain(&std::fs::read_to_string(dir.path().join("oncalld.1")).expect("oncalld.1"));
    let subs = subcommands();
    assert!(subs.len() >= 15, "{subs:?}");
    for (name, about) in &subs {
        // The summary line of --help is the subcommand's entry in oncalld(1).
        let first = about.split(" (").next().unwrap_or(about);
        assert!(main.contains(first), "oncalld.1 lacks {name}: {first:?}");
        let page = dir.path().join(format!("oncalld-{name}.1"));
        let page = plain(&std::fs::read_to_string(&page).expect("a page per subcommand"));
        let help = stdout(Command::new(BIN).args([name.as_str(), "--help"]));
        // Every long option of `oncalld NAME --help` is in its man page, and vice versa.
        let longs = |text: &str| -> Vec<String> {
            let mut v: Vec<String> = text
                .split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[')
                .filter(|w| w.starts_with("--") && w.len() > 2)
                .map(|w| w.trim_end_matches([']', '.', ')']).to_string())
                .filter(|w| {
                    w[2..]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                .collect();
            v.sort();
            v.dedup();
            v
        };
        assert_eq!(
            longs(&help),
            longs(&page),
            "options of {name}: --help vs man page"
        );
    }
    // The hidden generator itself gets no page.
    assert!(!dir.path().join("oncalld-man.1").exists());
}

fn make_deb(out: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    run(Command::new("make")
        .current_dir(root)
        .args(["-s", "deb"])
        .arg(format!("BIN={BIN}"))
        .arg(format!("DEBDIR={}", out.display()))
        // The debug binary is large; xz would take most of the test's time.
        .arg("DEB_COMPRESS=none"));
    std::fs::read_dir(out)
        .expect("debdir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a .deb")
}

#[test]
fn make_deb_builds_a_complete_package() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deb = make_deb(dir.path());
    let contents = stdout(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for path in [
        "./usr/bin/oncalld",
        "./usr/lib/systemd/system/oncalld.service",
        "./usr/lib/sysusers.d/oncalld.conf",
        "./usr/share/man/man1/oncalld.1.gz",
        "./usr/share/man/man1/oncalld-run.1.gz",
        "./etc/oncalld/checks.toml",
        "./usr/share/bash-completion/completions/oncalld",
        "./usr/share/zsh/vendor-completions/_oncalld",
        "./usr/share/fish/vendor_completions.d/oncalld.fish",
        "./usr/share/doc/oncalld/checks.example.toml",
    ] {
        assert!(
            contents.lines().any(|l| l.ends_with(path)),
            "{path} missing from:\n{contents}"
        );
    }
    assert!(
        contents.lines().all(|l| l.contains("root/root")),
        "files owned by root:\n{contents}"
    );
    let info = stdout(Command::new("dpkg-deb").arg("-I").arg(&deb));
    for field in ["Package: oncalld", "Version: 0.1.0", "Depends: libc6"] {
        assert!(info.contains(field), "{field} missing:\n{info}");
    }
    let control = dir.path().join("control");
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    let conffiles = std::fs::read_to_string(control.join("conffiles")).expect("conffiles");
    assert_eq!(conffiles.trim(), "/etc/oncalld/checks.toml");
    let postinst = std::fs::read_to_string(control.join("postinst")).expect("postinst");
    assert!(postinst.contains("systemd-sysusers /usr/lib/sysusers.d/oncalld.conf"));
    assert!(
        postinst.contains("adduser --system"),
        "fallback without systemd"
    );
    let postrm = std::fs::read_to_string(control.join("postrm")).expect("postrm");
    assert!(
        !postrm.contains("rm -"),
        "postrm deletes nothing:\n{postrm}"
    );
    // The unit in the package runs the packaged binary.
    let unit = dir
        .path()
        .join("root/usr/lib/systemd/system/oncalld.service");
    let unit = std::fs::read_to_string(unit).expect("staged unit");
    assert!(unit.contains("ExecStart=/usr/bin/oncalld run -c /etc/oncalld/checks.toml"));
}

/// Installs for real: only as root in CI (or with ONCALLD_TEST_DPKG=1), when the package is
/// not already installed; everything it adds is removed again.
#[test]
fn dpkg_install_then_remove_keeps_config_and_state() {
    let allowed =
        std::env::var_os("CI").is_some() || std::env::var_os("ONCALLD_TEST_DPKG").is_some();
    let root = nix::unistd::Uid::effective().is_root();
    let installed = Command::new("dpkg")
        .args(["-s", "oncalld"])
        .output()
        .is_ok_and(|o| o.status.success());
    let user_existed = Command::new("getent")
        .args(["passwd", "oncalld"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !(allowed && root) || installed || Path::new("/etc/oncalld").exists() {
        eprintln!("skipped: needs root, CI=1 or ONCALLD_TEST_DPKG=1, and no oncalld installed");
        return;
    }
    struct Cleanup(bool);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = Command::new("dpkg").args(["--purge", "oncalld"]).output();
            let _ = std::fs::remove_dir_all("/var/lib/oncalld");
            let _ = std::fs::remove_dir_all("/etc/oncalld");
            if !self.0 {
                let _ = Command::new("userdel").arg("oncalld").output();
                let _ = Command::new("groupdel").arg("oncalld").output();
            }
        }
    }
    let _cleanup = Cleanup(user_existed);
    let dir = tempfile::tempdir().expect("tempdir");
    let deb = make_deb(dir.path());
    run(Command::new("dpkg").arg("-i").arg(&deb));
    run(Command::new("getent").args(["passwd", "oncalld"]));
    let version = stdout(Command::new("/usr/bin/oncalld").arg("--version"));
    assert!(version.starts_with("oncalld "), "{version}");
    run(Command::new("/usr/bin/oncalld").args(["check-config", "-c", "/etc/oncalld/checks.toml"]));
    std::fs::create_dir_all("/var/lib/oncalld").expect("state dir");
    std::fs::write("/var/lib/oncalld/oncalld.db", b"state").expect("state");

    run(Command::new("dpkg").args(["-r", "oncalld"]));
    assert!(!Path::new("/usr/bin/oncalld").exists());
    assert!(
        Path::new("/etc/oncalld/checks.toml").exists(),
        "config kept"
    );
    assert!(
        Path::new("/var/lib/oncalld/oncalld.db").exists(),
        "state kept"
    );
}
