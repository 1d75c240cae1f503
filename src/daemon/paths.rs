//! Where the daemon keeps its files when the config does not say (SPEC §3, `[daemon]`).
//!
//! Under systemd the unit's `StateDirectory=`/`RuntimeDirectory=` hand us
//! `$STATE_DIRECTORY`/`$RUNTIME_DIRECTORY`, already created with the right owner and mode;
//! as root outside systemd we use the FHS locations; as a user, the XDG base directories.
//! The environment is read through a lookup function so tests need not mutate it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The directory name under /var/lib, /run and the XDG directories.
const APP: &str = "oncalld";
/// The socket's file name inside the runtime directory.
const SOCKET_FILE: &str = "oncalld.sock";

/// The directory holding the SQLite database: `state_dir` from the config, else
/// `$STATE_DIRECTORY` (its first entry, systemd joins several with `:`), else
/// `/var/lib/oncalld` as root, else `$XDG_STATE_HOME/oncalld`, else `~/.local/state/oncalld`.
pub fn state_dir(config: Option<&Path>) -> PathBuf {
    state_dir_with(config, &env_lookup, is_root())
}

/// The control socket: `socket` from the config, else `$RUNTIME_DIRECTORY/oncalld.sock`,
/// else `/run/oncalld/oncalld.sock` as root, else `$XDG_RUNTIME_DIR/oncalld.sock`, else
/// `/tmp/oncalld-<uid>/oncalld.sock` (no XDG runtime dir: e.g. `su` without a login session).
pub fn socket_path(config: Option<&Path>) -> PathBuf {
    socket_path_with(
        config,
        &env_lookup,
        is_root(),
        nix::unistd::getuid().as_raw(),
    )
}

/// The socket a client (`oncalld status`) talks to when neither `--socket` nor
/// `$ONCALLD_SOCKET` is given. It is the daemon's default for this user ([`socket_path`]) if
/// that exists; else, for a user without a daemon of their own, the system service's
/// `/run/oncalld/oncalld.sock` if it exists (operators in the `oncalld` group, see
/// docs/SERVICE.md); else the user default, so the error names the socket SPEC §3 promises.
pub fn client_socket_path() -> PathBuf {
    client_socket_path_with(
        &env_lookup,
        is_root(),
        nix::unistd::getuid().as_raw(),
        &|p| p.exists(),
    )
}

/// [`client_socket_path`] with the environment, ids and file-existence test given.
pub fn client_socket_path_with(
    env: &dyn Fn(&str) -> Option<OsString>,
    root: bool,
    uid: u32,
    exists: &dyn Fn(&Path) -> bool,
) -> PathBuf {
    let own = socket_path_with(None, env, root, uid);
    let system = PathBuf::from("/run").join(APP).join(SOCKET_FILE);
    if !exists(&own) && exists(&system) {
        return system;
    }
    own
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

/// [`socket_path`] with the environment, the euid and the uid given.
pub fn socket_path_with(
    config: Option<&Path>,
    env: &dyn Fn(&str) -> Option<OsString>,
    root: bool,
    uid: u32,
) -> PathBuf {
    if let Some(path) = config {
        return path.to_path_buf();
    }
    if let Some(dir) = first_entry(env("RUNTIME_DIRECTORY")) {
        return dir.join(SOCKET_FILE);
    }
    if root {
        return PathBuf::from("/run").join(APP).join(SOCKET_FILE);
    }
    if let Some(dir) = absolute(env("XDG_RUNTIME_DIR")) {
        return dir.join(SOCKET_FILE);
    }
    PathBuf::from(format!("/tmp/{APP}-{uid}")).join(SOCKET_FILE)
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

    #[test]
    fn a_client_without_its_own_daemon_finds_the_system_service() {
        let user = env(&[("XDG_RUNTIME_DIR", "/run/user/1000")]);
        let own = Path::new("/run/user/1000/oncalld.sock");
        let system = Path::new("/run/oncalld/oncalld.sock");
        let only_system = |p: &Path| p == system;
        let both = |p: &Path| p == system || p == own;
        let neither = |_: &Path| false;
        assert_eq!(
            client_socket_path_with(&user, false, 1000, &only_system),
            system
        );
        assert_eq!(client_socket_path_with(&user, false, 1000, &both), own);
        assert_eq!(client_socket_path_with(&user, false, 1000, &neither), own);
        assert_eq!(client_socket_path_with(&user, true, 0, &neither), system);
    }

    #[test]
    fn socket_path_follows_the_documented_order() {
        let all = env(&[
            ("RUNTIME_DIRECTORY", "/run/oncalld"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
        ]);
        let cfg = Path::new("/run/x.sock");
        assert_eq!(socket_path_with(Some(cfg), &all, false, 1000), cfg);
        assert_eq!(
            socket_path_with(None, &all, false, 1000),
            Path::new("/run/oncalld/oncalld.sock")
        );
        let user = env(&[("XDG_RUNTIME_DIR", "/run/user/1000")]);
        assert_eq!(
            socket_path_with(None, &user, true, 0),
            Path::new("/run/oncalld/oncalld.sock")
        );
        assert_eq!(
            socket_path_with(None, &user, false, 1000),
            Path::new("/run/user/1000/oncalld.sock")
        );
        assert_eq!(
            socket_path_with(None, &env(&[]), false, 1000),
            Path::new("/tmp/oncalld-1000/oncalld.sock")
        );
    }
}
