//! The `oncalld` binary: parse the command line, then hand over to the library.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = oncalld::cli::Cli::parse();
    if !matches!(cli.command, oncalld::cli::Command::Run(_)) {
        // A CLI command piped into `head` ends quietly when the reader goes away, like every
        // other Unix tool (Rust ignores SIGPIPE, which turns it into a panic on `println!`).
        // The daemon keeps ignoring it: a dead stderr must never stop it (SPEC §9).
        // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "oncalld: cannot start the async runtime: {e}"
            );
            return ExitCode::from(1);
        }
    };
    runtime.block_on(oncalld::cli::dispatch(cli))
}
