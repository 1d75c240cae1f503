//! The corpus of broken config files: each states, in its first lines, every error it must
//! produce (`# expect: LINE:COL: KEY: MESSAGE`), in order, and nothing else may be reported.

use std::path::{Path, PathBuf};

use oncalld::config::{self, ConfigError};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config/broken");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// An error as the corpus writes it: the display form without the file name.
fn located(e: &ConfigError) -> String {
    let shown = e.to_string();
    let prefix = format!("{}:", e.file.display());
    shown.strip_prefix(&prefix).unwrap_or(&shown).to_string()
}

fn expectations(text: &str) -> Vec<String> {
    text.lines()
        .map_while(|l| l.strip_prefix("# expect: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_broken_file_reports_exactly_its_errors() {
    let files = corpus();
    assert!(
        files.len() >= 20,
        "the corpus has only {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let expected = expectations(&text);
        assert!(
            !expected.is_empty(),
            "{} states no `# expect:`",
            path.display()
        );
        let got: Vec<String> = match config::load(path) {
            Ok(_) => vec!["<loaded without errors>".to_string()],
            Err(errors) => {
                for e in &errors.0 {
                    assert_eq!(e.file, *path, "errors name the file they are about");
                }
                errors.0.iter().map(located).collect()
            }
        };
        if got != expected {
            failures.push(format!(
                "{}\n  expected: {expected:#?}\n  got:      {got:#?}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parse_and_load_agree_on_the_corpus() {
    for path in corpus() {
        let text = std::fs::read_to_string(&path).unwrap();
        let from_text = config::parse(&text, &path).unwrap_err();
        let from_file = config::load(&path).unwrap_err();
        assert_eq!(from_text.0, from_file.0, "{}", path.display());
    }
}

#[test]
fn a_file_over_one_mebibyte_is_refused_unparsed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    // Valid TOML all the way (comments), so only the size can be the problem.
    let line = format!("# {}\n", "x".repeat(78));
    let text = line.repeat(config::MAX_BYTES / line.len() + 1);
    assert!(text.len() > config::MAX_BYTES);
    std::fs::write(&path, &text).unwrap();
    let errors = config::load(&path).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column), (0, 0));
    assert!(
        errors[0].message.contains("larger than 1048576 bytes"),
        "{}",
        errors[0]
    );
    let errors = config::parse(&text, &path).unwrap_err().0;
    assert!(
        errors[0].message.contains("larger than 1048576 bytes"),
        "{}",
        errors[0]
    );

    // Exactly at the limit is read (and is a valid, empty config).
    let exact = &text[..config::MAX_BYTES - 1];
    let exact = format!("{}\n", exact.trim_end_matches(|c| c != '\n'));
    let exact = format!(
        "{exact}{}\n",
        "#".repeat(config::MAX_BYTES - exact.len() - 1)
    );
    assert_eq!(exact.len(), config::MAX_BYTES);
    std::fs::write(&path, &exact).unwrap();
    let cfg = config::load(&path).unwrap();
    assert!(cfg.checks.is_empty());
}

#[test]
fn nesting_just_under_the_limit_is_parsed() {
    let depth = config::MAX_DEPTH;
    let text = format!("x = {}1{}\n", "[".repeat(depth), "]".repeat(depth));
    let errors = config::parse(&text, Path::new("n.toml")).unwrap_err().0;
    // Parsed: the only complaint is the unknown key, not the depth.
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.starts_with("unknown key `x`"),
        "{}",
        errors[0]
    );
    let text = format!("x = {}1{}\n", "[".repeat(depth + 1), "]".repeat(depth + 1));
    let errors = config::parse(&text, Path::new("n.toml")).unwrap_err().0;
    assert!(
        errors[0].message.contains("nested deeper than 32"),
        "{}",
        errors[0]
    );
}

#[test]
fn non_utf8_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"[daemon]\nsocket_group = \"op\xe9rateurs\"\n").unwrap();
    let errors = config::load(&path).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column), (2, 19));
    assert!(errors[0].message.contains("UTF-8"));
}
