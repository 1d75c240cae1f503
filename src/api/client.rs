//! The CLI's side of the socket: one HTTP/1.1 request per connection over a `UnixStream`.
//! Failures are turned into one-line errors that name the socket path, because the most common
//! problem at 3 am is "wrong socket" or "daemon not running".

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;

use super::types::ErrorBody;

/// How long a command waits for the daemon's answer (a test page waits for real deliveries).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a client command failed; `Display` is the line printed after `oncalld: `.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the daemon at {path}: {reason} (is oncalld running?)")]
    Unreachable { path: PathBuf, reason: String },
    /// The daemon answered with an error status and `{"error": message}`.
    #[error("{message}")]
    Api { status: u16, message: String },
    #[error("bad answer from the daemon at {path}: {detail}")]
    Protocol { path: PathBuf, detail: String },
}

/// One answer: the status and the raw body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// A client for the daemon listening on one socket path.
#[derive(Debug, Clone)]
pub struct Client {
    path: PathBuf,
}

impl Client {
    pub fn new(socket_path: impl Into<PathBuf>) -> Self {
        Client {
            path: socket_path.into(),
        }
    }

    pub fn socket_path(&self) -> &Path {
        &self.path
    }

    /// `GET` a JSON document; an error status becomes [`ClientError::Api`].
    pub async fn get_json<T: DeserializeOwned>(&self, uri: &str) -> Result<T, ClientError> {
        let a = self.request(Method::GET, uri, None).await?;
        self.decode(a)
    }

    /// `GET` the raw JSON body (what `--json` prints, byte for byte).
    pub async fn get_bytes(&self, uri: &str) -> Result<Bytes, ClientError> {
        let a = self.request(Method::GET, uri, None).await?;
        Ok(self.check(a)?.body)
    }

    /// `POST` a JSON body; the raw JSON answer.
    pub async fn post_bytes<B: Serialize>(
        &self,
        uri: &str,
        body: &B,
    ) -> Result<Bytes, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| self.protocol(e))?;
        let a = self.request(Method::POST, uri, Some(bytes)).await?;
        Ok(self.check(a)?.body)
    }

    /// `DELETE`; the raw JSON answer.
    pub async fn delete_bytes(&self, uri: &str) -> Result<Bytes, ClientError> {
        let a = self.request(Method::DELETE, uri, None).await?;
        Ok(self.check(a)?.body)
    }

    /// `GET` a text document (postmortem Markdown, metrics).
    pub async fn get_text(&self, uri: &str) -> Result<String, ClientError> {
        let a = self.request(Method::GET, uri, None).await?;
        let a = self.check(a)?;
        String::from_utf8(a.body.to_vec()).map_err(|e| self.protocol(e))
    }

    /// `POST` a JSON body and decode the JSON answer.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        uri: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| self.protocol(e))?;
        let a = self.request(Method::POST, uri, Some(bytes)).await?;
        self.decode(a)
    }

    /// `DELETE` and decode the JSON answer.
    pub async fn delete<T: DeserializeOwned>(&self, uri: &str) -> Result<T, ClientError> {
        let a = self.request(Method::DELETE, uri, None).await?;
        self.decode(a)
    }

    /// One raw request, any status: for answers whose error bodies carry more than `error`
    /// (reload's list of config errors).
    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, ClientError> {
        match tokio::time::timeout(ANSWER_TIMEOUT, self.exchange(method, uri, body)).await {
            Ok(r) => r,
            Err(_) => Err(self.protocol(format!(
                "no answer within {}",
                humantime::format_duration(ANSWER_TIMEOUT)
            ))),
        }
    }

    async fn exchange(
        &self,
        method: Method,
        uri: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, ClientError> {
        let stream = UnixStream::connect(&self.path)
            .await
            .map_err(|e| self.unreachable(&e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.protocol(e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, "localhost");
        if body.is_some() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| self.protocol(e))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| self.protocol(e))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| self.protocol(e))?
            .to_bytes();
        Ok(Answer { status, body })
    }

    /// An error status becomes [`ClientError::Api`] with the daemon's message.
    pub fn check(&self, a: Answer) -> Result<Answer, ClientError> {
        if (200..300).contains(&a.status) {
            return Ok(a);
        }
        let message = match serde_json::from_slice::<ErrorBody>(&a.body) {
            Ok(e) => e.error,
            Err(_) => format!(
                "HTTP {}: {}",
                a.status,
                String::from_utf8_lossy(&a.body).trim()
            ),
        };
        Err(ClientError::Api {
            status: a.status,
            message,
        })
    }

    fn decode<T: DeserializeOwned>(&self, a: Answer) -> Result<T, ClientError> {
        let a = self.check(a)?;
        serde_json::from_slice(&a.body).map_err(|e| self.protocol(e))
    }

    fn unreachable(&self, e: &io::Error) -> ClientError {
        ClientError::Unreachable {
            path: self.path.clone(),
            reason: os_reason(e),
        }
    }

    fn protocol(&self, e: impl std::fmt::Display) -> ClientError {
        ClientError::Protocol {
            path: self.path.clone(),
            detail: e.to_string(),
        }
    }
}

/// "No such file or directory" rather than "No such file or directory (os error 2)".
fn os_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Percent-encode a query value or path segment (everything but RFC 3986 unreserved bytes),
/// so `+01:00` in a time or a space in a name survives the trip.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_bytes() {
        assert_eq!(
            encode("2026-12-24T03:00+01:00"),
            "2026-12-24T03%3A00%2B01%3A00"
        );
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
    }

    #[test]
    fn reason_drops_os_error_suffix() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(os_reason(&e), "No such file or directory");
    }
}
