//! Bounds on what a client may ask the daemon to keep (SPEC §9 "Hostile or careless input").
//!
//! Everything here is checked by the router before the [`super::Backend`] is called, so a
//! request over a limit is answered 413 (409 for the silence count) with a sentence saying
//! which limit, and nothing is stored. Without these, 50 silences with 32,000-character globs
//! took the daemon from 265 to 413 MB.

use super::backend::ApiError;

/// Most silences that may be in force (or scheduled) at once.
pub const MAX_ACTIVE_SILENCES: usize = 1000;
/// Longest silence pattern, in bytes. Check names are short; a glob longer than this is a
/// mistake or an attack (compiled globs cost memory on every check evaluation).
pub const MAX_PATTERN_BYTES: usize = 256;
/// Longest note, ack/resolve message, silence message or other free text, in bytes.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Longest name-like field (test-page target, policy or check name in a query or path).
pub const MAX_NAME_BYTES: usize = 256;

/// 413 when `value` is longer than `max` bytes; `what` names the field in the message.
pub fn check_len(what: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.len() > max {
        return Err(ApiError::new(
            413,
            format!(
                "{what} is too long: {} bytes, at most {max} allowed",
                value.len()
            ),
        ));
    }
    Ok(())
}

/// [`check_len`] with [`MAX_TEXT_BYTES`] for an optional free-text field.
pub fn check_text(what: &str, value: Option<&str>) -> Result<(), ApiError> {
    value.map_or(Ok(()), |v| check_len(what, v, MAX_TEXT_BYTES))
}

/// 409 when `active` silences already exist: one more would pass the limit.
pub fn check_silence_room(active: usize) -> Result<(), ApiError> {
    if active >= MAX_ACTIVE_SILENCES {
        return Err(ApiError::conflict(format!(
            "too many active silences ({active}; at most {MAX_ACTIVE_SILENCES}): \
             end some with `oncalld unsilence ID` first"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert!(check_len("note", &"a".repeat(4096), MAX_TEXT_BYTES).is_ok());
        let e = check_len("note", &"a".repeat(4097), MAX_TEXT_BYTES).unwrap_err();
        assert_eq!(e.status, 413);
        assert_eq!(
            e.message,
            "note is too long: 4097 bytes, at most 4096 allowed"
        );
        // Bytes, not characters: 2,049 two-byte characters are over.
        assert!(check_text("message", Some(&"é".repeat(2049))).is_err());
        assert!(check_text("message", None).is_ok());
    }

    /// The longest allowed pattern, built to backtrack, against a long name: still quick
    /// (silences are matched against every check on every evaluation).
    #[test]
    fn worst_case_pattern_matches_quickly() {
        let pattern = format!("{}b", "*a".repeat((MAX_PATTERN_BYTES - 1) / 2));
        assert!(pattern.len() <= MAX_PATTERN_BYTES);
        let glob = glob::Pattern::new(&pattern).unwrap();
        let name = "a".repeat(1000);
        let started = std::time::Instant::now();
        for _ in 0..100 {
            assert!(!glob.matches(&name));
        }
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    }

    #[test]
    fn silence_room() {
        assert!(check_silence_room(999).is_ok());
        assert_eq!(check_silence_room(1000).unwrap_err().status, 409);
    }
}
