//! `type = "command"`: a Nagios plugin. argv (no shell); exit 0/1/2/3 = OK / WARNING /
//! CRITICAL / UNKNOWN, anything else UNKNOWN; the first line of stdout is the message and
//! perfdata after `|` is kept. The plugin runs in its own process group, and the whole group
//! is killed when it overruns its timeout (or the probe is cancelled), so a plugin's
//! background children never outlive it.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::perfdata;
use super::{Probe, ProbeFuture, Status, Verdict, timed_out};

/// At most this much of stdout (and of stderr) is read; the rest is never read.
pub const MAX_OUTPUT: usize = 4096;

pub(super) struct CommandCheck {
    argv: Vec<String>,
}

impl CommandCheck {
    pub(super) fn new(argv: &[String]) -> Self {
        CommandCheck {
            argv: argv.to_vec(),
        }
    }

    async fn run(&self, timeout: Duration) -> Verdict {
        let Some((program, args)) = self.argv.split_first() else {
            return Verdict::unknown("empty command");
        };
        let mut child = match tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return Verdict::unknown(format!("cannot run {program}: {e}")),
        };
        let mut group = GroupKiller(child.id());
        let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
        let work = async {
            let (out, err) = tokio::join!(read_capped(&mut stdout), read_capped(&mut stderr));
            // The pipes stay open (unread) until the plugin exits: closing them would kill a
            // plugin that writes a little more than the cap with SIGPIPE and lose its code.
            (out, err, child.wait().await)
        };
        let (out, err, status) = match tokio::time::timeout(timeout, work).await {
            Ok(done) => done,
            Err(_) => {
                group.kill();
                let _ = child.wait().await;
                // Nagios' default for a plugin that times out.
                return Verdict::critical(timed_out(timeout));
            }
        };
        group.disarm();
        match status {
            Ok(status) => verdict(status, &out, &err),
            Err(e) => Verdict::unknown(format!("cannot wait for {program}: {e}")),
        }
    }
}

/// The plugin's verdict from its exit status and output.
fn verdict(status: std::process::ExitStatus, out: &str, err: &str) -> Verdict {
    let (message, perf) = parse_output(out);
    let message = if message.is_empty() {
        match crate::probe::one_line(err) {
            e if e.is_empty() => "(no output)".to_string(),
            e => format!("(no output) stderr: {e}"),
        }
    } else {
        message
    };
    let verdict = match status.code() {
        Some(code @ 0..=3) => Verdict::new(Status::from_exit_code(code), message),
        Some(code) => Verdict::unknown(format!("{message} (exit code {code})")),
        None => {
            use std::os::unix::process::ExitStatusExt;
            let sig = status.signal().unwrap_or(0);
            Verdict::unknown(format!("{message} (killed by signal {sig})"))
        }
    };
    verdict.with_perfdata(perf)
}

impl Probe for CommandCheck {
    fn check(&self, timeout: Duration) -> ProbeFuture<'_> {
        Box::pin(self.run(timeout))
    }
}

/// Kills the plugin's whole process group on drop unless disarmed: on timeout, and also when
/// the scheduler drops a running probe (reload, shutdown).
struct GroupKiller(Option<u32>);

impl GroupKiller {
    fn kill(&mut self) {
        if let Some(pid) = self.0.take() {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Read up to [`MAX_OUTPUT`] bytes, then stop reading.
async fn read_capped<R: AsyncRead + Unpin>(pipe: &mut Option<R>) -> String {
    let Some(pipe) = pipe else {
        return String::new();
    };
    let mut buf = Vec::with_capacity(1024);
    let _ = pipe.take(MAX_OUTPUT as u64).read_to_end(&mut buf).await;
    String::from_utf8_lossy(&buf).into_owned()
}

/// Nagios plugin output: `TEXT | PERFDATA` on the first line, then optional long text whose
/// first `|` starts more perfdata (Nagios 3 multi-line format). Returns the message (first
/// line's text) and all perfdata.
pub fn parse_output(out: &str) -> (String, Vec<perfdata::PerfDatum>) {
    let mut lines = out.lines();
    let first = lines.next().unwrap_or("");
    let (message, mut perf_text) = match first.split_once('|') {
        Some((m, p)) => (m.trim().to_string(), p.to_string()),
        None => (first.trim().to_string(), String::new()),
    };
    let mut in_perf = false;
    for line in lines {
        if in_perf {
            perf_text.push(' ');
            perf_text.push_str(line);
        } else if let Some((_, p)) = line.split_once('|') {
            in_perf = true;
            perf_text.push(' ');
            perf_text.push_str(p);
        }
    }
    (message, perfdata::parse(&perf_text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_message_and_perfdata() {
        let (m, p) =
            parse_output("DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n");
        assert_eq!(m, "DISK OK - free space: / 3326 MB (56%);");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].label, "/");
        assert_eq!(p[0].value, 2643.0);

        let (m, p) = parse_output("OK - a\nlong text\nmore | x=1 y=2\nz=3\n");
        assert_eq!(m, "OK - a");
        let labels: Vec<_> = p.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, ["x", "y", "z"]);

        assert_eq!(parse_output(""), (String::new(), vec![]));
    }
}
