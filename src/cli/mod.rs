//! The command line: one file per group of subcommands. Client commands talk to the daemon
//! over its socket ([`crate::api`]); `run`, `check-config` and `probe` need no daemon.

pub mod admin;
pub mod args;
mod check_config;
pub mod incident;
pub mod oncall;
pub mod output;
pub mod ping;
pub mod probe;
pub mod remote;
pub mod silence;
pub mod status;

pub use args::{Cli, Command};

use std::process::ExitCode;

/// Run one parsed command line; the returned code is the process's exit code.
pub async fn dispatch(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "oncalld", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man { dir } => match man_pages(&dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("oncalld man: cannot write to {}: {e}", dir.display());
                ExitCode::FAILURE
            }
        },
        Command::Probe { config, name, json } => probe::probe(&config.path(), &name, json).await,
        Command::Run(config) => crate::daemon::run(&config.path()).await,
        Command::CheckConfig {
            config,
            json,
            strict,
        } => check_config::run(&config.path(), json, strict),
        cmd @ (Command::Status(_)
        | Command::Incidents { .. }
        | Command::Show { .. }
        | Command::Ack { .. }
        | Command::Resolve { .. }
        | Command::Escalate { .. }
        | Command::Note { .. }
        | Command::Silence { .. }
        | Command::Silences(_)
        | Command::Unsilence { .. }
        | Command::Who { .. }
        | Command::TestPage { .. }
        | Command::Postmortem { .. }
        | Command::Report { .. }
        | Command::Reload(_)
        | Command::Ping { .. }) => remote::run(cmd).await,
    }
}

/// `oncalld.1` and `oncalld-SUBCOMMAND.1` for every visible subcommand, from the clap types.
pub fn man_pages(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(<Cli as clap::CommandFactory>::command(), dir)
}
