//! Who is behind a socket connection: the uid from SO_PEERCRED and, for the timeline, the
//! user name from the password database.
//!
//! The name lookup (`getpwuid`) may block on NSS (LDAP, sssd), so it never runs on the accept
//! loop: a connection asks for it only when its first complete request arrives, on the
//! blocking pool, and answers are cached for a minute. Clients that connect and never send a
//! request cost no lookup at all.

use std::collections::HashMap;
use std::io;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::net::UnixStream;

/// How long a looked-up name is reused (a renamed user shows up after this).
const NAME_TTL: Duration = Duration::from_secs(60);
/// The cache is cleared when it grows past this many uids (a host has few users talking to
/// the daemon; this only bounds it).
const NAME_CACHE_MAX: usize = 256;

/// The Unix user behind a connection, from SO_PEERCRED: who acked, noted, silenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub uid: u32,
    /// The user name from the password database, when there is one.
    pub name: Option<String>,
}

impl Actor {
    /// `alice (uid 1000)`, as recorded on the timeline (SPEC §4).
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} (uid {})", self.uid),
            None => format!("uid {}", self.uid),
        }
    }

    /// The peer's uid as the kernel reports it (it cannot be forged by the client). Cheap: a
    /// getsockopt, no lookup.
    pub fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
        Ok(stream.peer_cred()?.uid())
    }

    /// The actor for `uid`, its name looked up on the blocking pool (or from the cache).
    pub async fn resolve(uid: u32) -> Actor {
        if let Some(name) = cached(uid) {
            return Actor { uid, name };
        }
        let name = tokio::task::spawn_blocking(move || lookup(uid))
            .await
            .unwrap_or(None);
        remember(uid, name.clone());
        Actor { uid, name }
    }
}

type NameCache = Mutex<HashMap<u32, (Instant, Option<String>)>>;

fn cache() -> &'static NameCache {
    static CACHE: OnceLock<NameCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn cached(uid: u32) -> Option<Option<String>> {
    let map = cache().lock().ok()?;
    let (at, name) = map.get(&uid)?;
    (at.elapsed() < NAME_TTL).then(|| name.clone())
}

fn remember(uid: u32, name: Option<String>) {
    if let Ok(mut map) = cache().lock() {
        if map.len() >= NAME_CACHE_MAX {
            map.clear();
        }
        map.insert(uid, (Instant::now(), name));
    }
}

fn lookup(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_and_caches_the_current_user() {
        let uid = nix::unistd::getuid().as_raw();
        let a = Actor::resolve(uid).await;
        assert_eq!(a.name, lookup(uid));
        assert_eq!(cached(uid), Some(a.name.clone()));
        assert!(a.label().ends_with(&format!("(uid {uid})")) || a.label() == format!("uid {uid}"));
    }
}
