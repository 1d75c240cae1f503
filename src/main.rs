//! The `oncalld` binary: parse the command line, then hand over to the library.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = oncalld::cli::Cli::parse();
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
