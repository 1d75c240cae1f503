//! `type = "tcp"`: can a connection be opened within the timeout?

use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::{PerfDatum, Probe, ProbeFuture, Verdict, describe_io, millis, timed_out};

pub(super) struct TcpCheck {
    /// `host:port`; a name is resolved on each probe, as a client would.
    address: String,
}

impl TcpCheck {
    pub(super) fn new(address: &str) -> Self {
        TcpCheck {
            address: address.to_string(),
        }
    }

    async fn run(&self, timeout: Duration) -> Verdict {
        let start = Instant::now();
        match tokio::time::timeout(timeout, TcpStream::connect(self.address.as_str())).await {
            Err(_) => Verdict::critical(timed_out(timeout)),
            Ok(Err(e)) => Verdict::critical(describe_io(&e)),
            Ok(Ok(stream)) => {
                let took = start.elapsed();
                drop(stream);
                Verdict::ok(format!("connected in {} ms", millis(took))).with_perfdata(vec![
                    PerfDatum {
                        min: Some(0.0),
                        ..PerfDatum::new("time", took.as_secs_f64(), "s")
                    },
                ])
            }
        }
    }
}

impl Probe for TcpCheck {
    fn check(&self, timeout: Duration) -> ProbeFuture<'_> {
        Box::pin(self.run(timeout))
    }
}
