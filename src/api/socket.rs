//! Creating the daemon's Unix socket: stale files from a crash are replaced, a live daemon on
//! the same path is refused, and the file gets its mode and group before anyone can reach it.

use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

/// Why the socket could not be set up; each message names the path.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("another oncalld is listening on {0}")]
    InUse(PathBuf),
    #[error("{0} exists and is not a socket; refusing to replace it")]
    NotASocket(PathBuf),
    #[error("cannot tell whether {path} is in use: {source}")]
    Probe { path: PathBuf, source: io::Error },
    #[error("cannot create the directory {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot bind {path}: {source}")]
    Bind { path: PathBuf, source: io::Error },
    #[error("unknown group {0:?} (daemon.socket_group)")]
    UnknownGroup(String),
    #[error("cannot set the mode or group of {path}: {source}")]
    Permissions { path: PathBuf, source: io::Error },
}

/// Bind the daemon's socket at `path` with permission bits `mode` (SPEC default 0o660) and,
/// when given, group `group`, so members of that group may connect and everybody else gets
/// EACCES from the kernel. Must be called inside a tokio runtime.
///
/// The socket is bound under a temporary name, given its mode and group, then renamed over
/// `path`: there is no moment when the final path accepts connections with the wrong
/// permissions, and a stale socket left by a crash is replaced atomically.
pub fn bind(path: &Path, mode: u32, group: Option<&str>) -> Result<UnixListener, BindError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&parent)
            .map_err(|source| BindError::CreateDir {
                path: parent.clone(),
                source,
            })?;
    }
    refuse_live(path)?;
    let gid = match group {
        Some(name) => Some(group_id(name)?),
        None => None,
    };
    let tmp = parent.join(format!(".oncalld-{}.sock.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let std_listener = bind_prepared(&tmp, path, mode, gid).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    std_listener
        .set_nonblocking(true)
        .and_then(|()| UnixListener::from_std(std_listener))
        .map_err(|source| BindError::Bind {
            path: path.to_path_buf(),
            source,
        })
}

fn bind_prepared(
    tmp: &Path,
    path: &Path,
    mode: u32,
    gid: Option<u32>,
) -> Result<std::os::unix::net::UnixListener, BindError> {
    let listener =
        std::os::unix::net::UnixListener::bind(tmp).map_err(|source| BindError::Bind {
            path: path.to_path_buf(),
            source,
        })?;
    let perms = |source| BindError::Permissions {
        path: path.to_path_buf(),
        source,
    };
    if let Some(gid) = gid {
        std::os::unix::fs::chown(tmp, None, Some(gid)).map_err(perms)?;
    }
    std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(mode & 0o7777)).map_err(perms)?;
    std::fs::rename(tmp, path).map_err(|source| BindError::Bind {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(listener)
}

/// A socket file that answers a connect belongs to a running daemon; one that refuses is stale
/// and may be replaced. Anything else at that path is left alone.
fn refuse_live(path: &Path) -> Result<(), BindError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(BindError::Probe {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if !meta.file_type().is_socket() {
        return Err(BindError::NotASocket(path.to_path_buf()));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(BindError::InUse(path.to_path_buf())),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ECONNREFUSED | libc::ENOENT)) => Ok(()),
        Err(source) => Err(BindError::Probe {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn group_id(name: &str) -> Result<u32, BindError> {
    if let Ok(Some(g)) = nix::unistd::Group::from_name(name) {
        return Ok(g.gid.as_raw());
    }
    // A numeric group id is accepted too, as chown(1) does.
    name.parse::<u32>()
        .map_err(|_| BindError::UnknownGroup(name.to_owned()))
}
