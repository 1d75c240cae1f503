//! Whom outgoing TLS trusts, and what a certificate problem is called in words.
//!
//! Every TLS client oncalld opens (HTTPS checks, webhooks, PagerDuty, Alertmanager, SMTP)
//! trusts three sets of roots at once:
//!
//! 1. the built-in Mozilla roots (`webpki-roots`), so a minimal container still works;
//! 2. the system store, read by `rustls-native-certs` the way OpenSSL reads it: the
//!    distribution's bundle (`/etc/ssl/certs/ca-certificates.crt`, what
//!    `update-ca-certificates` writes), or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set;
//! 3. the check's or notifier's own `ca_file` (PEM), when it names one.
//!
//! The store is read each time a client is built (at start and on every reload), so an internal
//! CA installed with `update-ca-certificates` is trusted after `systemctl reload oncalld`.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::{CertificateError, RootCertStore};

/// The certificates of a PEM file, each checked to be usable as a trust anchor. The errors
/// name the file; `config` reports them at the key's file:line:column.
pub fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read ca_file {shown}: {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("ca_file {shown} is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "ca_file {shown} holds no certificate (expected PEM \"-----BEGIN CERTIFICATE-----\")"
        ));
    }
    let mut scratch = RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        scratch
            .add(cert.clone())
            .map_err(|e| format!("ca_file {shown}: certificate {} is invalid: {e}", i + 1))?;
    }
    Ok(certs)
}

/// The roots a client trusts: `store` for rustls clients we configure ourselves, `extra` (the
/// system's and the `ca_file`'s, without the built-in ones) for lettre, which adds the
/// built-in roots itself.
pub struct Roots {
    pub store: RootCertStore,
    pub extra: Vec<CertificateDer<'static>>,
}

/// Built-in + system + `ca_file`. An unreadable system store is not an error (the built-in
/// roots still work, and the log says so); an unusable `ca_file` is.
pub fn roots(ca_file: Option<&Path>) -> Result<Roots, String> {
    let mut store = RootCertStore::empty();
    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut extra = Vec::new();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::warn!(error = %e, "Cannot read part of the system CA store.");
    }
    for cert in native.certs {
        // A system bundle may hold a certificate rustls cannot use; skip it, as OpenSSL does.
        if store.add(cert.clone()).is_ok() {
            extra.push(cert);
        }
    }
    if let Some(path) = ca_file {
        for cert in load_ca_file(path)? {
            store
                .add(cert.clone())
                .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            extra.push(cert);
        }
    }
    Ok(Roots { store, extra })
}

/// A rustls client configuration (ring, TLS 1.2 and 1.3) trusting [`roots`].
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots(ca_file)?.store)
        .with_no_client_auth();
    Ok(config)
}

/// Give a reqwest client our trust: [`client_config`] when certificates are verified; with
/// `verify` false nothing is checked, so no roots are needed.
pub fn reqwest_trust(
    builder: reqwest::ClientBuilder,
    ca_file: Option<&Path>,
    verify: bool,
) -> Result<reqwest::ClientBuilder, String> {
    if verify {
        Ok(builder.use_preconfigured_tls(client_config(ca_file)?))
    } else {
        Ok(builder.danger_accept_invalid_certs(true))
    }
}

/// Words for a certificate problem found anywhere in an error chain (reqwest, hyper, lettre
/// wrap rustls' error in an `io::Error`, whose `source` skips it), or `None` if there is none.
pub fn describe(err: &(dyn Error + 'static), zone: &TimeZone) -> Option<String> {
    find_rustls(err).map(|e| words(e, zone))
}

/// The rustls error in a chain, looking inside `io::Error`s (possibly nested) too.
fn find_rustls<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(t) = err.downcast_ref::<rustls::Error>() {
        return Some(t);
    }
    if let Some(inner) = err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        let inner: &(dyn Error + 'static) = inner;
        if let Some(t) = find_rustls(inner) {
            return Some(t);
        }
    }
    err.source().and_then(find_rustls)
}

/// One rustls error in an operator's words; dates in `zone`.
pub fn words(err: &rustls::Error, zone: &TimeZone) -> String {
    let rustls::Error::InvalidCertificate(cert) = err else {
        return format!("TLS error: {err}");
    };
    match cert {
        CertificateError::UnknownIssuer => "certificate not trusted: unknown issuer (not in the \
             built-in roots, the system CA store or ca_file)"
            .to_string(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("certificate expired on {}", unix_date(*not_after, zone))
        }
        CertificateError::Expired => "certificate expired".to_string(),
        CertificateError::NotValidYetContext { not_before, .. } => {
            format!(
                "certificate not valid yet: valid from {}",
                unix_date(*not_before, zone)
            )
        }
        CertificateError::NotValidYet => "certificate not valid yet".to_string(),
        CertificateError::NotValidForNameContext { .. } | CertificateError::NotValidForName => {
            format!("certificate is for another host: {cert}")
        }
        CertificateError::BadSignature => "certificate signature is invalid".to_string(),
        CertificateError::Revoked => "certificate revoked".to_string(),
        other => format!("invalid certificate: {other}"),
    }
}

/// The validity period (notBefore, notAfter) of a DER certificate.
pub fn validity(der: &[u8]) -> Result<(Timestamp, Timestamp), String> {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(der)
        .map_err(|e| format!("cannot read the server's certificate: {e}"))?;
    let v = &cert.tbs_certificate.validity;
    let ts = |d: Duration| {
        Timestamp::from_second(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .map_err(|e| format!("certificate date out of range: {e}"))
    };
    Ok((
        ts(v.not_before.to_unix_duration())?,
        ts(v.not_after.to_unix_duration())?,
    ))
}

/// `cert_expiry`: `Err` (CRITICAL) when the certificate is expired, not valid yet, or expires
/// within `within` of `now`; `Ok` with the expiry date otherwise. Pure: `now` is given.
pub fn judge_expiry(
    (not_before, not_after): (Timestamp, Timestamp),
    now: Timestamp,
    within: Duration,
    zone: &TimeZone,
) -> Result<String, String> {
    let until = date(not_after, zone);
    if now < not_before {
        return Err(format!(
            "certificate not valid yet: valid from {}",
            date(not_before, zone)
        ));
    }
    if now >= not_after {
        return Err(format!("certificate expired on {until}"));
    }
    let left = Duration::from_secs(u64::try_from((not_after - now).get_seconds()).unwrap_or(0));
    if left <= within {
        let days = left.as_secs() / 86_400;
        let when = match days {
            0 => "in less than a day".to_string(),
            1 => "in 1 day".to_string(),
            n => format!("in {n} days"),
        };
        return Err(format!("certificate expires {when}, on {until}"));
    }
    Ok(format!("certificate valid until {until}"))
}

/// A date as messages show it: `2026-12-05 14:03 CET`, in `zone`.
pub fn date(ts: Timestamp, zone: &TimeZone) -> String {
    ts.to_zoned(zone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

fn unix_date(t: UnixTime, zone: &TimeZone) -> String {
    let secs = i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
    match Timestamp::from_second(secs) {
        Ok(ts) => date(ts, zone),
        Err(_) => format!("{secs} (Unix time)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    const DAY: u64 = 86_400;

    #[test]
    fn expiry_in_words_and_in_the_zone() {
        let zone = TimeZone::get("Europe/Paris").expect("zone");
        let valid = (at("2026-01-01T00:00:00Z"), at("2026-12-05T13:00:00Z"));
        let within = Duration::from_secs(14 * DAY);
        let cases = [
            (
                "2026-06-01T00:00:00Z",
                Ok("certificate valid until 2026-12-05 14:00 CET"),
            ),
            (
                "2026-12-02T12:00:00Z",
                Err("certificate expires in 3 days, on 2026-12-05 14:00 CET"),
            ),
            (
                "2026-12-05T12:00:00Z",
                Err("certificate expires in less than a day, on 2026-12-05 14:00 CET"),
            ),
            (
                "2026-12-06T00:00:00Z",
                Err("certificate expired on 2026-12-05 14:00 CET"),
            ),
            (
                "2025-12-31T00:00:00Z",
                Err("certificate not valid yet: valid from 2026-01-01 01:00 CET"),
            ),
        ];
        for (now, want) in cases {
            let got = judge_expiry(valid, at(now), within, &zone);
            assert_eq!(got.as_deref().map_err(String::as_str), want, "at {now}");
        }
    }

    #[test]
    fn rustls_errors_in_words() {
        let zone = TimeZone::UTC;
        let expired = rustls::Error::InvalidCertificate(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000)),
        });
        assert_eq!(
            words(&expired, &zone),
            "certificate expired on 2023-11-14 22:13 UTC"
        );
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let said = describe(&io, &zone).expect("found");
        assert!(said.contains("unknown issuer"), "{said}");
    }

    #[test]
    fn ca_file_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("none.pem");
        let e = load_ca_file(&missing).expect_err("missing");
        assert!(
            e.starts_with("cannot read ca_file ") && e.contains("none.pem"),
            "{e}"
        );
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello\n").expect("write");
        let e = load_ca_file(&junk).expect_err("junk");
        assert!(e.contains("holds no certificate"), "{e}");
    }
}
