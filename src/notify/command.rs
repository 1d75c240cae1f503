//! Command: runs a program (argv, no shell) with the page's JSON on stdin and the recipient's
//! address in `$ONCALLD_TO`. Exit 0 is delivered.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use super::payload::webhook_body_with;
use super::{Notifier, NotifyError, SendFuture};
use crate::core::model::Page;
use crate::link::LinkMaker;

/// How much of stderr goes into an error message.
const STDERR_CHARS: usize = 200;
/// How long to wait for stderr to close after the program exited (a background child may
/// hold it open).
const STDERR_GRACE: Duration = Duration::from_millis(500);

/// Runs one program per page; a non-zero exit or a timeout is retried, a program that cannot
/// be started is a permanent failure.
pub struct CommandNotifier {
    /// Program and arguments; never empty (checked in `new`), so `argv[0]` is safe.
    argv: Vec<String>,
    timeout: Duration,
    /// `links` in the JSON, with `public_url` (SPEC §13).
    links: Option<Arc<LinkMaker>>,
}

impl CommandNotifier {
    pub fn new(argv: Vec<String>, timeout: Duration) -> Result<Self, String> {
        if argv.first().is_none_or(|p| p.is_empty()) {
            return Err("command is empty".to_string());
        }
        Ok(CommandNotifier {
            argv,
            timeout,
            links: None,
        })
    }

    /// Signed action links in each JSON (SPEC §13).
    pub fn with_links(mut self, links: Option<Arc<LinkMaker>>) -> Self {
        self.links = links;
        self
    }

    /// Starts the program in its own process group (so a timeout can kill the whole tree).
    fn spawn(&self, to: &str) -> Result<Child, NotifyError> {
        let program = &self.argv[0];
        Command::new(program)
            .args(&self.argv[1..])
            .env("ONCALLD_TO", to)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| NotifyError::permanent(format!("cannot run {program}: {e}")))
    }

    async fn run(&self, page: &Page) -> Result<(), NotifyError> {
        let body = serde_json::to_vec(&webhook_body_with(
            page,
            self.links.as_ref().and_then(|l| l.links(page)).as_ref(),
        ))
        .map_err(|e| NotifyError::permanent(format!("cannot encode the page: {e}")))?;
        let program = &self.argv[0];
        let mut child = self.spawn(page.to.as_deref().unwrap_or(""))?;
        // Own process group: on timeout (or if this future is dropped) the whole group goes,
        // grandchildren included.
        let mut group = GroupGuard(child.id().and_then(|id| i32::try_from(id).ok()));
        let stderr = child.stderr.take().map(first_line_of);
        let stdin = child.stdin.take();
        let exchange = async {
            let write = async {
                if let Some(mut stdin) = stdin {
                    // A program that ignores stdin and exits closes the pipe: not an error.
                    let _ = stdin.write_all(&body).await;
                }
            };
            let (_, status) = tokio::join!(write, child.wait());
            status
        };
        let status = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => {
                return Err(NotifyError::retryable(format!(
                    "waiting for {program}: {e}"
                )));
            }
            Err(_) => {
                group.kill();
                let _ = child.wait().await;
                return Err(NotifyError::retryable(format!(
                    "{program} timed out after {}; killed",
                    humantime::format_duration(self.timeout)
                )));
            }
        };
        // Reaped: the group id may be reused from now on, so never signal it again.
        group.disarm();
        if status.success() {
            return Ok(());
        }
        let stderr = match stderr {
            Some(rx) => tokio::time::timeout(STDERR_GRACE, rx).await,
            None => return Err(NotifyError::retryable(failure_message(program, status, ""))),
        };
        let stderr = stderr.ok().and_then(Result::ok).unwrap_or_default();
        Err(NotifyError::retryable(failure_message(
            program, status, &stderr,
        )))
    }
}

impl Notifier for CommandNotifier {
    fn send<'a>(&'a self, page: &'a Page) -> SendFuture<'a> {
        Box::pin(self.run(page))
    }
}

fn failure_message(program: &str, status: ExitStatus, stderr: &str) -> String {
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => "failed".to_string(),
    };
    if stderr.is_empty() {
        format!("{program} {how}")
    } else {
        format!("{program} {how}: {stderr}")
    }
}

/// Reads stderr in the background: sends its first line (capped) as soon as it is known, then
/// keeps draining so a chatty program never blocks on a full pipe.
fn first_line_of(mut stream: impl AsyncRead + Unpin + Send + 'static) -> oneshot::Receiver<String> {
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    head.extend_from_slice(&buf[..n]);
                    if head.contains(&b'\n') || head.len() >= 4 * STDERR_CHARS {
                        break;
                    }
                }
            }
        }
        let text = String::from_utf8_lossy(&head);
        let line: String = text
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .chars()
            .take(STDERR_CHARS)
            .collect();
        let _ = tx.send(line);
        let _ = tokio::io::copy(&mut stream, &mut tokio::io::sink()).await;
    });
    rx
}

/// Kills the child's process group when dropped (the send was cancelled mid-run), unless
/// disarmed after the child was reaped.
struct GroupGuard(Option<i32>);

impl GroupGuard {
    fn disarm(&mut self) {
        self.0 = None;
    }

    fn kill(&self) {
        if let Some(pgid) = self.0 {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}
