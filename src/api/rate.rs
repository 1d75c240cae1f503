//! A per-source-address rate limit (token buckets) for the action links of SPEC §13: a
//! guesser gets [`LINK_RATE`] tries a minute per address, so forging a 256-bit MAC stays out
//! of reach and a link-scanning mail filter cannot hammer the daemon. IPv6 addresses count
//! per /64 (one host usually holds a whole /64). Time is passed in, so tests need no sleep.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests to `/a/...` per source address and minute (a burst of this many, then one every
/// 60 s / LINK_RATE).
pub const LINK_RATE: u32 = 20;
/// Addresses tracked at most; past it, the longest-idle one is forgotten.
const MAX_TRACKED: usize = 10_000;

/// The address of the peer of a TCP connection, put in each request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub IpAddr);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by source address.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a request from `addr` at `now` may go ahead (it is counted if so). `Err` holds
    /// how long until the next one may.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = source_key(addr);
        let cap = f64::from(self.per_minute);
        let per_sec = cap / 60.0;
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if !buckets.contains_key(&key) && buckets.len() >= MAX_TRACKED {
            // Full buckets carry no information: forget them, else the longest idle.
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec < cap);
            if buckets.len() >= MAX_TRACKED
                && let Some(oldest) = buckets.iter().min_by_key(|(_, b)| b.at).map(|(k, _)| *k)
            {
                buckets.remove(&oldest);
            }
        }
        let b = buckets.entry(key).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_sec))
        }
    }
}

/// IPv4 as is; IPv6 by its /64 (IPv4-mapped ones as IPv4).
fn source_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_every_three_seconds_per_address() {
        let limiter = RateLimiter::new(20);
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..20 {
            assert!(limiter.check(a, t0).is_ok());
        }
        let wait = limiter.check(a, t0).unwrap_err();
        assert!(
            wait <= Duration::from_secs(3) && wait > Duration::from_secs(2),
            "{wait:?}"
        );
        assert!(
            limiter.check(b, t0).is_ok(),
            "another address has its own bucket"
        );
        assert!(limiter.check(a, t0 + Duration::from_secs(3)).is_ok());
        assert!(limiter.check(a, t0 + Duration::from_secs(3)).is_err());
        assert!(limiter.check(a, t0 + Duration::from_secs(63)).is_ok());
    }

    #[test]
    fn one_ipv6_network_shares_a_bucket() {
        let limiter = RateLimiter::new(2);
        let t0 = Instant::now();
        assert!(limiter.check("2001:db8::1".parse().unwrap(), t0).is_ok());
        assert!(limiter.check("2001:db8::2".parse().unwrap(), t0).is_ok());
        assert!(limiter.check("2001:db8::3".parse().unwrap(), t0).is_err());
        assert!(
            limiter
                .check("2001:db8:0:1::1".parse().unwrap(), t0)
                .is_ok()
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let limiter = RateLimiter::new(5);
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED as u32 + 50) {
            let addr = IpAddr::V4(std::net::Ipv4Addr::from(i));
            assert!(limiter.check(addr, t0).is_ok());
        }
        assert!(limiter.buckets.lock().unwrap().len() <= MAX_TRACKED);
    }
}
