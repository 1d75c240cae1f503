//! Any bytes into the config reader and, when they are a valid config, the schedule lint:
//! never a panic, every error and warning located. The input is the whole file; `now` for the
//! lint (1970..2200) is a hash of it, so seeds stay valid files. Seed it with
//! `checks.example.toml` and `tests/config/broken/*.toml` (see the README).

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let hash = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    let Ok(now) = jiff::Timestamp::from_second((hash % 7_258_118_400) as i64) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let located = match oncalld::config::parse_linted(text, Path::new("fuzz.toml"), now) {
        Ok((_, warnings)) => warnings,
        Err(errors) => {
            assert!(!errors.0.is_empty(), "a failure with no error");
            errors.0
        }
    };
    for e in &located {
        assert!(e.line > 0 && e.column > 0, "not located: {e}");
    }
});
