//! The client commands: each one talks to the daemon over its socket and maps the answer to
//! output and an exit code (SPEC §2). Any error prints one line `oncalld: ...` and exits 1.

use std::process::ExitCode;

use super::args::Command;
use super::incident::Action;
use super::{admin, incident, oncall, ping, silence, status};

/// Run one client command. `Run`, `CheckConfig`, `Probe`, `Completions` and `Man` are not client
/// commands and never reach here.
pub async fn run(command: Command) -> ExitCode {
    let result = match command {
        Command::Status(c) => status::status(&c).await,
        Command::Incidents { client, all, since } => {
            status::incidents(&client, all, since.as_deref()).await
        }
        Command::Show { client, id } => status::show(&client, &id).await,
        Command::Ack {
            client,
            ids,
            check,
            message,
        } => incident::act_many(&client, Action::Ack, &ids, check, message).await,
        Command::Resolve {
            client,
            ids,
            check,
            message,
        } => incident::act_many(&client, Action::Resolve, &ids, check, message).await,
        Command::Escalate { client, id } => {
            incident::act(&client, Action::Escalate, &id, None).await
        }
        Command::Note { client, id, text } => incident::note(&client, &id, text).await,
        Command::Postmortem { client, id, output } => {
            incident::postmortem(&client, &id, output.as_deref()).await
        }
        Command::Silence {
            client,
            pattern,
            duration,
            message,
        } => silence::silence(&client, pattern, duration, message).await,
        Command::Silences(c) => silence::silences(&c).await,
        Command::Unsilence { client, id } => silence::unsilence(&client, &id).await,
        Command::Who { client, policy, at } => {
            oncall::who(&client, policy.as_deref(), at.as_deref()).await
        }
        Command::TestPage { client, target } => oncall::test_page(&client, target).await,
        Command::Report { client, since } => admin::report(&client, &since).await,
        Command::Reload(c) => admin::reload(&c).await,
        Command::Ping {
            client,
            name,
            start,
            fail,
            exit,
            log,
            message,
        } => {
            let kind = ping::kind(start, fail, exit, log);
            ping::ping(&client, &name, kind, message).await
        }
        other => Err(anyhow::anyhow!("{other:?} is not a client command")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // The error may quote the daemon's answer, which may quote outside text.
            eprintln!("oncalld: {}", crate::text::sanitize_text(&e.to_string()));
            ExitCode::from(1)
        }
    }
}
