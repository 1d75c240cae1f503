//! TOML -> typed config. Every error carries file, line, column and key; all errors of a file
//! are reported together; cross-references are checked at load.
//!
//! How it reads: [`source`] refuses oversized or absurdly nested text before parsing; the
//! `toml` crate parses it into a tree where every key and value keeps its byte span;
//! [`document`] walks that tree section by section through [`reader`], which records each
//! problem with its span and key path (`check[2].interval`,
//! `policies.default.steps[0].notify[1]`) and carries on. Spans become line:column at the end.
//! Values outside their [`limits`] (SPEC §9) are errors like any other.
//!
//! A valid config can still be probably wrong: [`lint`] finds on-call gaps in the next 28
//! days, policies that page only a console, people nobody pages; [`load_linted`] returns
//! those warnings located like errors ([`locate`]), for `check-config` and the daemon's log.
//!
//! Relative paths in the file (`daemon.state_dir`, `daemon.socket`, a disk check's `path`, and
//! a command's program when written like `./script`) are resolved against the directory of
//! the config file, so the file means the same thing whatever directory the daemon starts in.

mod chat;
mod checks;
mod daemon;
mod document;
mod heartbeat;
mod limits;
pub mod lint;
mod locate;
mod notifiers;
mod oncall;
mod probes;
mod reader;
mod source;
pub mod sources;
mod status_page;
mod types;
mod values;
mod window;

pub use daemon::MAX_INSTANCE;
pub use source::{MAX_BYTES, MAX_DEPTH};
pub use sources::{AlertRoute, SourceConfig};
pub use status_page::StatusPageConfig;
pub use types::*;
pub use window::parse_window;

use std::io::Read;
use std::path::{Path, PathBuf};

/// Where the config is read from when no `-c` is given and `$ONCALLD_CONFIG` is unset.
pub const DEFAULT_PATH: &str = "/etc/oncalld/checks.toml";

/// One problem in a config file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no position (e.g. the file cannot be read).
    pub line: usize,
    pub column: usize,
    /// Dotted key path, e.g. `check[2].interval` or `policies.default.steps[0].notify`.
    /// Empty for problems with the file as a whole (unreadable, too large, TOML syntax).
    pub key: String,
    pub message: String,
}

impl ConfigError {
    fn whole_file(file: &Path, message: String) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            key: String::new(),
            message,
        }
    }
}

/// `file:line:col: key: message`; the position is left out when there is none, and the key
/// when the problem is not about one key.
impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:", self.file.display())?;
        if self.line > 0 {
            write!(f, "{}:{}:", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, " {}:", self.key)?;
        }
        write!(f, " {}", self.message)
    }
}

impl ConfigError {
    /// The same line as a warning: `file:line:col: warning: key: message`.
    pub fn as_warning(&self) -> String {
        let shown = self.to_string();
        let head = format!("{}:{}:{}:", self.file.display(), self.line, self.column);
        match shown.strip_prefix(&head) {
            Some(rest) if self.line > 0 => format!("{head} warning:{rest}"),
            _ => format!("warning: {shown}"),
        }
    }
}

/// Every error found in one file.
#[derive(Debug, Clone)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Read and validate a config file.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let (text, base) = read(path)?;
    parse_in(&text, path, &base)
}

/// Read and validate a config file, and lint it as of `now` ([`lint`]): the config and its
/// warnings, each located like an error.
pub fn load_linted(
    path: &Path,
    now: jiff::Timestamp,
) -> Result<(Config, Vec<ConfigError>), ConfigErrors> {
    let (text, base) = read(path)?;
    let config = parse_in(&text, path, &base)?;
    let warnings = locate::locate(lint::lint(&config, now), &text, path);
    Ok((config, warnings))
}

/// [`parse`] and lint as of `now`, as [`load_linted`] does for a file.
pub fn parse_linted(
    text: &str,
    path: &Path,
    now: jiff::Timestamp,
) -> Result<(Config, Vec<ConfigError>), ConfigErrors> {
    let config = parse(text, path)?;
    let warnings = locate::locate(lint::lint(&config, now), text, path);
    Ok((config, warnings))
}

/// The text of the file and the directory its relative paths mean.
fn read(path: &Path) -> Result<(String, PathBuf), ConfigErrors> {
    let fail = |message: String| ConfigErrors(vec![ConfigError::whole_file(path, message)]);
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read the file: {e}")))?;
    if bytes.len() > MAX_BYTES {
        return Err(fail(too_large()));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let text = String::from_utf8_lossy(&bytes[..at]);
        let (line, column) = source::LineIndex::new(&text).position(at);
        ConfigErrors(vec![ConfigError {
            line,
            column,
            ..ConfigError::whole_file(path, "the file is not valid UTF-8".to_string())
        }])
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let base = std::fs::canonicalize(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .unwrap_or_else(|_| absolute_dir(path));
    Ok((text, base))
}

/// Validate config text as if read from `path` (used for messages and relative paths).
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
    parse_in(text, path, &absolute_dir(path))
}

/// The directory of `path`, made absolute against the current directory.
fn absolute_dir(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new(""));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

fn too_large() -> String {
    format!("the file is larger than {MAX_BYTES} bytes (1 MiB); refusing to read it")
}

fn parse_in(text: &str, path: &Path, base: &Path) -> Result<Config, ConfigErrors> {
    let lines = source::LineIndex::new(text);
    // Every positioned error passes here: a value it quotes (an SMTP URL) has its password
    // starred, for check-config, the reload reply and the log alike.
    let located = |offset: usize, key: String, message: String| {
        let (line, column) = lines.position(offset);
        ConfigError {
            file: path.to_path_buf(),
            line,
            column,
            key,
            message: crate::redact::redact_urls(&message).into_owned(),
        }
    };
    if text.len() > MAX_BYTES {
        return Err(ConfigErrors(vec![ConfigError::whole_file(
            path,
            too_large(),
        )]));
    }
    if let Some(at) = source::too_deep(text) {
        let message =
            format!("arrays and tables nested deeper than {MAX_DEPTH} levels; refusing to parse");
        return Err(ConfigErrors(vec![located(at, String::new(), message)]));
    }
    let root = toml::de::DeTable::parse(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        ConfigErrors(vec![located(
            at,
            String::new(),
            format!("TOML syntax error: {}", e.message()),
        )])
    })?;
    let mut sink = reader::Sink::default();
    match document::build(root.get_ref(), path, base, &mut sink) {
        Some(config) if sink.errors.is_empty() => Ok(config),
        _ => {
            let mut errors: Vec<ConfigError> = sink
                .errors
                .into_iter()
                .map(|e| located(e.span.start, e.key, e.message))
                .collect();
            errors.sort_by_key(|e| (e.line, e.column));
            errors.dedup();
            Err(ConfigErrors(errors))
        }
    }
}
