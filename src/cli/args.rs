//! The command line, as clap types. `main` parses these and hands them to [`super::dispatch`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "oncalld", version, about = "Monitoring daemon with built-in on-call paging", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `-c FILE`, else `$ONCALLD_CONFIG`, else /etc/oncalld/checks.toml.
#[derive(Debug, Args, Clone)]
pub struct ConfigArg {
    /// Config file [default: $ONCALLD_CONFIG, else /etc/oncalld/checks.toml]
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    pub fn path(&self) -> PathBuf {
        if let Some(p) = &self.config {
            return p.clone();
        }
        match std::env::var_os("ONCALLD_CONFIG") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from(crate::config::DEFAULT_PATH),
        }
    }
}

/// How a client command reaches the daemon.
#[derive(Debug, Args, Clone)]
pub struct ClientArgs {
    /// The daemon's socket [default: $ONCALLD_SOCKET, else the daemon's default path]
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Print JSON instead of a table
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon in the foreground (logs to stderr)
    Run(ConfigArg),
    /// Validate the config file, print its warnings and a one-line summary
    CheckConfig {
        #[command(flatten)]
        config: ConfigArg,
        /// Print the summary as JSON
        #[arg(long)]
        json: bool,
        /// Treat warnings (schedule lint) as errors: exit 1 when there is any
        #[arg(long)]
        strict: bool,
    },
    /// Run one check once and print the result (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)
    Probe {
        #[command(flatten)]
        config: ConfigArg,
        /// The check's name
        name: String,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Every check and the open incidents (exit 2 when any incident is open)
    Status(ClientArgs),
    /// Open incidents (all with --all)
    Incidents {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        all: bool,
        /// Only incidents opened within this long ago ("7d", "1h 30m")
        #[arg(long, value_name = "DUR")]
        since: Option<String>,
    },
    /// One incident with its whole timeline
    Show {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
    },
    /// Acknowledge incidents: escalation stops (`ack 17`, `ack 17 18 19`, `ack --check 'web-*'`)
    Ack {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(required_unless_present = "check")]
        ids: Vec<String>,
        /// Every open incident whose check matches this glob, in the same step
        #[arg(long = "check", value_name = "PATTERN")]
        check: Option<String>,
        #[arg(short = 'm', long = "message")]
        message: Option<String>,
    },
    /// Resolve incidents by hand (`resolve 17`, `resolve 17 18`, `resolve --check 'web-*'`)
    Resolve {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(required_unless_present = "check")]
        ids: Vec<String>,
        /// Every open incident whose check matches this glob, in the same step
        #[arg(long = "check", value_name = "PATTERN")]
        check: Option<String>,
        #[arg(short = 'm', long = "message")]
        message: Option<String>,
    },
    /// Page the next escalation step now
    Escalate {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
    },
    /// Add a note to an incident's timeline
    Note {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
        text: String,
    },
    /// A maintenance window for checks matching a glob
    Silence {
        #[command(flatten)]
        client: ClientArgs,
        pattern: String,
        #[arg(long = "for", value_name = "DUR")]
        duration: String,
        #[arg(short = 'm', long = "message")]
        message: Option<String>,
    },
    /// List silences
    Silences(ClientArgs),
    /// End a silence
    Unsilence {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
    },
    /// Who is on call now (or at TIME), step by step
    Who {
        #[command(flatten)]
        client: ClientArgs,
        policy: Option<String>,
        /// RFC 3339 time, or a local time in this machine's zone ("2026-12-24T03:00")
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Send a test page to "person:NAME" or "notifier:NAME"
    TestPage {
        #[command(flatten)]
        client: ClientArgs,
        target: String,
    },
    /// Markdown postmortem draft of an incident
    Postmortem {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// MTTA, MTTR, incidents, pages and availability, per check and per person
    Report {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long, value_name = "DUR", default_value = "30d")]
        since: String,
    },
    /// Re-read the config (same as SIGHUP); prints the errors if it is invalid
    Reload(ClientArgs),
    /// Ping a heartbeat check (success unless --start, --fail or --exit N); exit 1 for an
    /// unknown check or one that is not a heartbeat
    Ping {
        #[command(flatten)]
        client: ClientArgs,
        /// The heartbeat check's name
        name: String,
        /// A run started: DOWN if no success or failure follows within the check's grace
        #[arg(long, conflicts_with_all = ["fail", "exit"])]
        start: bool,
        /// The run failed: DOWN at once
        #[arg(long, conflicts_with = "exit")]
        fail: bool,
        /// The run's exit code: 0 is a success, 1-255 a failure
        #[arg(long, value_name = "N")]
        exit: Option<u8>,
        /// Only record the message on the check's history (no state change)
        #[arg(long, conflicts_with_all = ["start", "fail", "exit"])]
        log: bool,
        /// Text kept with the ping: its first line is the check's message (at most 10,000
        /// bytes are kept)
        #[arg(short = 'm', long = "message", value_name = "TEXT")]
        message: Option<String>,
    },
    /// Print shell completions
    Completions { shell: clap_complete::Shell },
    /// Write the man pages (oncalld.1 and one per subcommand), generated from these very
    /// definitions, into DIR: `--help` and `man oncalld` cannot disagree. Used by `make install`.
    #[command(hide = true)]
    Man {
        /// Where to write the pages
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
}
