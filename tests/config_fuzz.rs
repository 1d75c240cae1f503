//! Config fuzzing on stable Rust, in every CI run (SPEC §9, issue 11).
//!
//! Whatever the bytes, the config reader (and the schedule lint on what it accepts) answers
//! with a config or located errors, within 2 s, without panicking. Inputs are
//! `checks.example.toml` and every file of the broken-config corpus (`tests/config/broken`),
//! damaged by a few random mutations: byte splices, a value swapped for an extreme one (the
//! edges of every range, huge numbers, wrong types, odd dates), lines dropped, repeated or
//! swapped. The in-process test runs 2,000 cases; a second test runs the real
//! `oncalld check-config` on 200 mutated files and checks its exit code and output shape.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{LazyLock, mpsc};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use proptest::prelude::*;

/// Longer than any case should take, even in a debug build on a busy machine.
const HANG: Duration = Duration::from_secs(2);

/// The example and every corpus file, as text.
static SOURCES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/config/broken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files.insert(0, root.join("checks.example.toml"));
    let texts: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(texts.len() > 20, "the corpus is missing");
    texts
});

/// The example for `n` below 1,000, else a corpus file.
fn pick(n: usize) -> &'static str {
    let sources = &*SOURCES;
    if n < 1_000 {
        &sources[0]
    } else {
        &sources[1 + n % (sources.len() - 1)]
    }
}

/// Values a careless or hostile file might hold, in place of any value.
const VALUES: &[&str] = &[
    "\"0s\"",
    "\"1ns\"",
    "\"999ms\"",
    "\"1s\"",
    "\"10ms\"",
    "\"10m 1s\"",
    "\"7d\"",
    "\"8d\"",
    "\"1000000000y\"",
    "\"18446744073709551615s\"",
    "0",
    "-1",
    "100",
    "101",
    "4294967295",
    "9223372036854775807",
    "0x7fffffff",
    "1e308",
    "nan",
    "-inf",
    "\"\"",
    "[]",
    "[[]]",
    "{}",
    "{ via = \"log\" }",
    "true",
    "\"0777\"",
    "\"0007\"",
    "\"0660\"",
    "\"0000-01-01T00:00\"",
    "\"1969-12-31T23:59\"",
    "\"2200-01-01T00:00\"",
    "\"9999-12-31T23:59:59\"",
    "1979-05-27T07:32:00Z",
    "1979-05-27",
    "07:32:00",
    "\"person:nobody\"",
    "\"schedule:\"",
    "\"notifier:log\"",
    "[\"schedule:primary\", \"person:bob\"]",
    "\"daily 00:00-24:00\"",
    "[\"daily 25:00-26:00\"]",
    "[\"mon-sun 23:59-00:00\"]",
    "\"Europe/Paris\"",
    "\"America/St_Johns\"",
    "\"http://user:pass@127.0.0.1:9/\"",
    "\"smtp://u:p@h:25?tls=maybe\"",
    "[\"/bin/true\"]",
    "\"\\u0000\\u001b[2J\"",
    "\"é😀\"",
    "\"x\" # comment",
];

/// One change to a text; positions are taken modulo what the text has.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace `cut` bytes at `at` (moved to a char boundary) with `insert`.
    Splice {
        at: usize,
        cut: usize,
        insert: String,
    },
    /// Give the `line`-th `key = value` line the value `VALUES[value]`.
    Value {
        line: usize,
        value: usize,
    },
    /// A long name where the `line`-th value is.
    LongValue {
        line: usize,
        len: usize,
    },
    Drop(usize),
    Repeat(usize),
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<usize>(), 0usize..40, "[\\[\\]{}=\",.:# a-z0-9\n'-]{0,12}")
            .prop_map(|(at, cut, insert)| Mutation::Splice { at, cut, insert }),
        4 => (any::<usize>(), 0..VALUES.len()).prop_map(|(line, value)| Mutation::Value { line, value }),
        1 => (any::<usize>(), 100usize..300).prop_map(|(line, len)| Mutation::LongValue { line, len }),
        1 => any::<usize>().prop_map(Mutation::Drop),
        1 => any::<usize>().prop_map(Mutation::Repeat),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Replace the value of a `key = value` line, keeping the key.
fn set_value(lines: &mut [String], line: usize, value: &str) {
    let assignments: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].trim_start().starts_with('#') && lines[i].contains(" = "))
        .collect();
    if assignments.is_empty() {
        return;
    }
    let i = assignments[line % assignments.len()];
    if let Some((key, _)) = lines[i].split_once(" = ") {
        lines[i] = format!("{key} = {value}");
    }
}

fn apply(text: &str, m: &Mutation) -> String {
    if let Mutation::Splice { at, cut, insert } = m {
        let start = floor_char(text, at % (text.len() + 1));
        let end = floor_char(text, start + cut);
        return format!("{}{insert}{}", &text[..start], &text[end..]);
    }
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return text.to_string();
    }
    let n = lines.len();
    match m {
        Mutation::Value { line, value } => set_value(&mut lines, *line, VALUES[*value]),
        Mutation::LongValue { line, len } => {
            set_value(&mut lines, *line, &format!("\"{}\"", "n".repeat(*len)));
        }
        Mutation::Drop(i) => {
            lines.remove(i % n);
        }
        Mutation::Repeat(i) => {
            let copy = lines[i % n].clone();
            lines.insert(i % n, copy);
        }
        Mutation::Swap(a, b) => lines.swap(a % n, b % n),
        Mutation::Splice { .. } => {}
    }
    lines.join("\n") + "\n"
}

/// Parse and lint `text` on another thread: a panic or a case slower than [`HANG`] fails.
/// Every error and warning must have a line and a column.
fn check(text: String, now: Timestamp) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let input = text.clone();
    std::thread::spawn(move || {
        let outcome = match oncalld::config::parse_linted(&input, Path::new("fuzz.toml"), now) {
            Ok((_, warnings)) => Ok(warnings),
            Err(errors) if errors.0.is_empty() => Err("a failure with no error".to_string()),
            Err(errors) => Ok(errors.0),
        };
        let _ = tx.send(outcome);
    });
    let located = match rx.recv_timeout(HANG) {
        Ok(outcome) => outcome?,
        Err(mpsc::RecvTimeoutError::Timeout) => return Err(format!("slower than {HANG:?}")),
        Err(mpsc::RecvTimeoutError::Disconnected) => return Err("panicked".into()),
    };
    let last_line = text.lines().count() + 1;
    for e in &located {
        if e.line == 0 || e.column == 0 || e.line > last_line || e.message.is_empty() {
            return Err(format!("badly located: {e}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_example_and_corpus_never_panic_hang_or_lose_a_location(
        source in 0usize..2_000,
        mutations in prop::collection::vec(mutation(), 1..4),
        // Any time from 1970 to 2200, so the lint's 28 days meet every edge.
        now in 0i64..7_258_118_400,
    ) {
        // Half the cases start from the valid example, so the lint runs on what stays valid.
        let mut text = pick(source).to_string();
        for m in &mutations {
            text = apply(&text, m);
        }
        let now = Timestamp::from_second(now).unwrap();
        if let Err(why) = check(text.clone(), now) {
            prop_assert!(false, "{why}\n--- input ---\n{text}");
        }
    }

    #[test]
    fn random_toml_ish_text_never_panics(text in "[\\[\\]{}=\",.:#a-z0-9 \n'_-]{0,200}") {
        prop_assert_eq!(check(text, Timestamp::UNIX_EPOCH), Ok(()));
    }
}

/// A tiny deterministic generator for the CLI test (xorshift64*): the same 200 files each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as usize
    }

    fn mutation(&mut self) -> Mutation {
        let (a, b) = (self.next(), self.next());
        let inserts = ["", "[", "]]", "= \"", "{", "\n[x]\n", "#", "'''"];
        match self.next() % 8 {
            0 => Mutation::Splice {
                at: a,
                cut: b % 40,
                insert: inserts[b % inserts.len()].to_string(),
            },
            1 => Mutation::LongValue {
                line: a,
                len: 100 + b % 200,
            },
            2 => Mutation::Drop(a),
            3 => Mutation::Repeat(a),
            4 => Mutation::Swap(a, b),
            _ => Mutation::Value {
                line: a,
                value: b % VALUES.len(),
            },
        }
    }
}

/// `oncalld check-config -c FILE` with a deadline; its exit code, stdout and stderr.
fn check_config(file: &Path) -> (Option<i32>, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .args(["check-config", "-c"])
        .arg(file)
        .env_remove("ONCALLD_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(Duration::from_secs(10)) else {
        let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
        panic!("check-config hung on {}", file.display());
    };
    let out = out.unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// `FILE:LINE:COL: ...` with LINE and COLUMN at least 1.
fn is_located(line: &str, file: &str) -> bool {
    let Some(rest) = line.strip_prefix(file).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let number = |p: Option<&str>| {
        p.and_then(|p| p.parse::<usize>().ok())
            .is_some_and(|n| n > 0)
    };
    number(parts.next()) && number(parts.next()) && parts.next().is_some_and(|r| r.starts_with(' '))
}

#[test]
fn the_real_check_config_on_200_mutated_files_exits_0_or_1_with_located_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let (mut valid, mut invalid) = (0, 0);
    for n in 0..200 {
        let mut text = pick(rng.next() % 2_000).to_string();
        for _ in 0..=rng.next() % 3 {
            text = apply(&text, &rng.mutation());
        }
        let path = dir.path().join(format!("m{n}.toml"));
        std::fs::write(&path, &text).unwrap();
        let file = path.to_str().unwrap();
        let (code, stdout, stderr) = check_config(&path);
        let lines: Vec<&str> = stderr.lines().collect();
        let context = || format!("{file} (exit {code:?})\n{stderr}\n--- input ---\n{text}");
        match code {
            Some(0) => {
                valid += 1;
                assert_eq!(stdout.lines().count(), 1, "{}", context());
                assert!(
                    stdout.starts_with(&format!("{file}: OK (")),
                    "{}",
                    context()
                );
                if let Some((count, warnings)) = lines.split_last() {
                    assert!(count.ends_with(" warning") || count.ends_with(" warnings"));
                    assert!(
                        warnings.iter().all(|l| is_located(l, file)),
                        "{}",
                        context()
                    );
                }
            }
            Some(1) => {
                invalid += 1;
                let (count, errors) = lines
                    .split_last()
                    .unwrap_or_else(|| panic!("{}", context()));
                assert!(
                    count.ends_with(" error") || count.ends_with(" errors"),
                    "{}",
                    context()
                );
                assert!(!errors.is_empty(), "{}", context());
                assert!(errors.iter().all(|l| is_located(l, file)), "{}", context());
            }
            _ => panic!("exit code {code:?}: {}", context()),
        }
    }
    assert!(valid > 0 && invalid > 0, "{valid} valid, {invalid} invalid");
    eprintln!(
        "200 files in {:?}: {valid} valid, {invalid} invalid",
        started.elapsed()
    );
}
