//! Whatever the bytes, the config reader answers with a config or located errors; it never
//! panics. Inputs are the example file with random damage, and random TOML-ish text.

use std::path::Path;

use proptest::prelude::*;

const EXAMPLE: &str = include_str!("../checks.example.toml");

fn check(text: &str) {
    match oncalld::config::parse(text, Path::new("fuzz.toml")) {
        Ok(_) => {}
        Err(errors) => {
            assert!(!errors.0.is_empty(), "a failure with no error");
            let lines = text.lines().count().max(1) + 1;
            for e in &errors.0 {
                assert!(e.line <= lines, "line {} past the end: {e}", e.line);
                assert!(!e.message.is_empty());
            }
        }
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn damaged_example_never_panics(
        at in 0usize..EXAMPLE.len(),
        cut in 0usize..40,
        insert in "[\\[\\]{}=\",.:# a-z0-9\n'-]{0,12}",
    ) {
        let start = floor_char(EXAMPLE, at);
        let end = floor_char(EXAMPLE, start + cut);
        let text = format!("{}{}{}", &EXAMPLE[..start], insert, &EXAMPLE[end..]);
        check(&text);
    }

    #[test]
    fn random_toml_ish_text_never_panics(text in "[\\[\\]{}=\",.:#a-z0-9 \n'_-]{0,200}") {
        check(&text);
    }
}
