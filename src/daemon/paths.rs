//! Where the daemon keeps its database when the config does not say (SPEC §3, `[daemon]`).
//!
//! Under systemd the unit's `StateDirectory=` hands us `$STATE_DIRECTORY`, already created
//! with the right owner and mode; as root outside systemd we use the FHS location; as a user,
//! the XDG base directory. The environment is read through a lookup function so tests need
//! not mutate it.
//!
//! The socket's default (`$RUNTIME_DIRECTORY/oncalld.sock`, ...) lives with the socket API,
//! in [`crate::api::default_socket_path`], because the CLI needs it as much as the daemon.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The directory name under /var/lib and the XDG state directory.
const APP: &str = "oncalld";

/// The directory holding the SQLite database: `state_dir` from the config, else
/// `$STATE_DIRECTORY` (its first entry, systemd joins several with `:`), else
/// `/var/lib/oncalld` as root, else `$XDG_STATE_HOME/oncalld`, else `~/.local/state/oncalld`.
pub fn state_dir(config: Option<&Path>) -> PathBuf {
    state_dir_with(config, &env_lookup, is_root())
}

/// [`state_dir`] with the environment and the euid given.
pub fn state_dir_with(
    config: Option<&Path>,
    env: &dyn Fn(&str) -> Option<OsString>,
    root: bool,
) -> PathBuf {
    if let Some(dir) = config {
        return dir.to_path_buf();
    }
    if let Some(dir) = first_entry(env("STATE_DIRECTORY")) {
        return dir;
    }
    if root {
        return PathBuf::from("/var/lib").join(APP);
    }
    if let Some(dir) = absolute(env("XDG_STATE_HOME")) {
        return dir.join(APP);
    }
    home_dir(env).join(".local/state").join(APP)
}

/// The first path of a `:`-separated systemd directory list, ignoring an empty value.
fn first_entry(value: Option<OsString>) -> Option<PathBuf> {
    let value = value?;
    let value = value.to_string_lossy();
    let first = value.split(':').next()?;
    absolute(Some(OsString::from(first)))
}

/// XDG and systemd require absolute paths; a relative or empty one is ignored.
fn absolute(value: Option<OsString>) -> Option<PathBuf> {
    let path = PathBuf::from(value?);
    path.is_absolute().then_some(path)
}

/// `$HOME`, else the home directory in the password database, else the current directory.
fn home_dir(env: &dyn Fn(&str) -> Option<OsString>) -> PathBuf {
    if let Some(home) = absolute(env("HOME")) {
        return home;
    }
    match nix::unistd::User::from_uid(nix::unistd::getuid()) {
        Ok(Some(user)) => user.dir,
        _ => PathBuf::from("."),
    }
}

fn env_lookup(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn state_dir_follows_the_documented_order() {
        let all = env(&[
            ("STATE_DIRECTORY", "/var/lib/oncalld:/var/lib/other"),
            ("XDG_STATE_HOME", "/home/a/.state"),
            ("HOME", "/home/a"),
        ]);
        let cfg = Path::new("/srv/oncalld");
        assert_eq!(state_dir_with(Some(cfg), &all, false), cfg);
        assert_eq!(
            state_dir_with(None, &all, false),
            Path::new("/var/lib/oncalld")
        );
        let no_systemd = env(&[("XDG_STATE_HOME", "/home/a/.state"), ("HOME", "/home/a")]);
        assert_eq!(
            state_dir_with(None, &no_systemd, true),
            Path::new("/var/lib/oncalld")
        );
        assert_eq!(
            state_dir_with(None, &no_systemd, false),
            Path::new("/home/a/.state/oncalld")
        );
        let home_only = env(&[("HOME", "/home/a"), ("XDG_STATE_HOME", "relative")]);
        assert_eq!(
            state_dir_with(None, &home_only, false),
            Path::new("/home/a/.local/state/oncalld")
        );
    }

    #[test]
    fn an_empty_state_directory_is_ignored() {
        let e = env(&[("STATE_DIRECTORY", ""), ("HOME", "/home/a")]);
        assert_eq!(
            state_dir_with(None, &e, false),
            Path::new("/home/a/.local/state/oncalld")
        );
    }
}
