//! Signed action tokens (SPEC §13): `v1.<incident>.<a|r>.<expires>.<hex recipient>.<hex mac>`.
//!
//! The MAC is HMAC-SHA256 under the installation's key over every byte before the last dot,
//! so the incident, the action, the recipient and the expiry are all bound: change one byte
//! anywhere and the token is refused. The MAC is checked (in constant time, by the `hmac`
//! crate) before anything else in the token is believed; only lower-case hex is accepted, so
//! no two spellings of one token exist. Pure functions: the caller passes `now`.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

use super::key::LinkKey;
use crate::core::model::IncidentId;

type HmacSha256 = Hmac<Sha256>;

/// Longest token looked at; anything longer is refused unread.
pub const MAX_TOKEN_LEN: usize = 1024;
const VERSION: &str = "v1";
const MAC_HEX_LEN: usize = 64;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    Ack,
    Resolve,
}

impl LinkAction {
    fn code(self) -> &'static str {
        match self {
            LinkAction::Ack => "a",
            LinkAction::Resolve => "r",
        }
    }

    /// `acknowledge` / `resolve`, for the page and messages.
    pub fn verb(self) -> &'static str {
        match self {
            LinkAction::Ack => "acknowledge",
            LinkAction::Resolve => "resolve",
        }
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub incident: IncidentId,
    pub action: LinkAction,
    /// The person (or notifier) the page went to: the actor is `<recipient> (link)`.
    pub recipient: String,
    /// The token is refused from this instant on.
    pub expires: Timestamp,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not one of ours: forged, damaged, cut, or signed with another installation's key.
    #[error("this link is not valid (damaged, incomplete or not from this oncalld)")]
    Invalid,
    /// Ours, but past its 7 days.
    #[error("this link expired at {0}")]
    Expired(Timestamp),
}

/// The token for `claims`.
pub fn sign(key: &LinkKey, claims: &Claims) -> String {
    let body = format!(
        "{VERSION}.{}.{}.{}.{}",
        claims.incident,
        claims.action.code(),
        claims.expires.as_second(),
        hex::encode(claims.recipient.as_bytes())
    );
    let tag = mac(key, &body).finalize().into_bytes();
    format!("{body}.{}", hex::encode(tag))
}

/// The claims of `token` if it is ours and not expired at `now`.
pub fn verify(key: &LinkKey, token: &str, now: Timestamp) -> Result<Claims, Refusal> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Refusal::Invalid);
    }
    let (body, tag_hex) = token.rsplit_once('.').ok_or(Refusal::Invalid)?;
    let lower_hex = tag_hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if tag_hex.len() != MAC_HEX_LEN || !lower_hex {
        return Err(Refusal::Invalid);
    }
    let tag = hex::decode(tag_hex).map_err(|_| Refusal::Invalid)?;
    mac(key, body)
        .verify_slice(&tag)
        .map_err(|_| Refusal::Invalid)?;
    let claims = parse_body(body).ok_or(Refusal::Invalid)?;
    if now >= claims.expires {
        return Err(Refusal::Expired(claims.expires));
    }
    Ok(claims)
}

fn mac(key: &LinkKey, body: &str) -> HmacSha256 {
    // HMAC takes a key of any length: this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key.bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    m.update(body.as_bytes());
    m
}

/// The fields of a signed body (only ever reached for bodies we signed).
fn parse_body(body: &str) -> Option<Claims> {
    let mut parts = body.split('.');
    if parts.next()? != VERSION {
        return None;
    }
    let incident = parts.next()?.parse().ok()?;
    let action = match parts.next()? {
        "a" => LinkAction::Ack,
        "r" => LinkAction::Resolve,
        _ => return None,
    };
    let expires = Timestamp::from_second(parts.next()?.parse().ok()?).ok()?;
    let recipient = String::from_utf8(hex::decode(parts.next()?).ok()?).ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some(Claims {
        incident,
        action,
        recipient,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            incident: 17,
            action: LinkAction::Ack,
            recipient: "alice".into(),
            expires: "2026-12-09T03:00:00Z".parse().unwrap(),
        }
    }

    fn now() -> Timestamp {
        "2026-12-02T03:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let key = LinkKey::from_bytes([7; 32]);
        let t = sign(&key, &claims());
        assert!(t.starts_with("v1.17.a."), "{t}");
        assert_eq!(verify(&key, &t, now()), Ok(claims()));
        let end = claims().expires;
        assert_eq!(verify(&key, &t, end), Err(Refusal::Expired(end)));
    }

    #[test]
    fn every_one_byte_change_is_refused() {
        let key = LinkKey::from_bytes([7; 32]);
        let t = sign(&key, &claims());
        for i in 0..t.len() {
            for replacement in [b'0', b'1', b'a', b'f', b'A', b'.'] {
                let mut bytes = t.clone().into_bytes();
                if bytes[i] == replacement {
                    continue;
                }
                bytes[i] = replacement;
                let changed = String::from_utf8(bytes).unwrap();
                assert_eq!(
                    verify(&key, &changed, now()),
                    Err(Refusal::Invalid),
                    "{changed}"
                );
            }
        }
        assert_eq!(
            verify(&key, &t[..t.len() - 1], now()),
            Err(Refusal::Invalid)
        );
        assert_eq!(verify(&key, &format!("{t}0"), now()), Err(Refusal::Invalid));
        assert_eq!(verify(&key, "", now()), Err(Refusal::Invalid));
    }

    #[test]
    fn another_key_or_another_claim_is_refused() {
        let key = LinkKey::from_bytes([7; 32]);
        let other = LinkKey::from_bytes([8; 32]);
        let t = sign(&other, &claims());
        assert_eq!(verify(&key, &t, now()), Err(Refusal::Invalid));
        // Another incident's body with this token's MAC.
        let t = sign(&key, &claims());
        let moved = t.replacen("v1.17.", "v1.18.", 1);
        assert_eq!(verify(&key, &moved, now()), Err(Refusal::Invalid));
        let resolve = t.replacen(".a.", ".r.", 1);
        assert_eq!(verify(&key, &resolve, now()), Err(Refusal::Invalid));
    }
}
