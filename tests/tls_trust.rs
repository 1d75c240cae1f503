//! TLS trust (SPEC §14): a CA made here with rcgen, a real HTTPS server on 127.0.0.1 (tokio-rustls)
//! with a certificate it signed. Trusted through `ca_file`, through the system store as
//! `SSL_CERT_FILE` names it (the real binary, so the environment is the child's own), and, as
//! root in CI, through `update-ca-certificates` (undone afterwards); untrusted without either;
//! `cert_expiry` CRITICAL with the date for a certificate that expires in 3 days.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use oncalld::config::{self, HttpProbe, ProbeConfig};
use oncalld::probe::{ProbeResult, Probes, Status, run_probe};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType,
    date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_oncalld");
const TIMEOUT: Duration = Duration::from_secs(5);

/// A test CA and one server certificate it signed, for `localhost` and 127.0.0.1.
struct Pki {
    ca_pem: String,
    leaf_der: CertificateDer<'static>,
    leaf_key: PrivateKeyDer<'static>,
}

/// `not_after` as (year, month, day), midnight UTC; `None`: rcgen's default (far ahead).
fn pki(not_after: Option<(i32, u8, u8)>) -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "oncalld test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("CA cert");

    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).expect("leaf params");
    leaf.subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    leaf.not_before = date_time_ymd(2020, 1, 1);
    if let Some((y, m, d)) = not_after {
        leaf.not_after = date_time_ymd(y, m, d);
    }
    let leaf_cert = leaf
        .signed_by(&leaf_key, &ca_cert, &ca_key)
        .expect("leaf cert");
    Pki {
        ca_pem: ca_cert.pem(),
        leaf_der: leaf_cert.der().clone(),
        leaf_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
    }
}

/// An HTTPS server answering `200 ok` to every request, on its own thread and runtime (so the
/// real binary can be pointed at it from a blocking test). Returns its `https://` URL.
fn https_server(pki: &Pki) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![pki.leaf_der.clone()], pki.leaf_key.clone_key())
        .expect("server cert");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("https://{}/health", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to do.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let reply =
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                    let _ = tls.write_all(reply.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
    });
    url
}

fn http(url: &str) -> HttpProbe {
    HttpProbe {
        url: url.to_string(),
        method: "GET".into(),
        headers: Default::default(),
        expect_status: vec![200],
        max_latency: None,
        body_contains: None,
        tls_verify: true,
        ca_file: None,
        cert_expiry: None,
        zone: jiff::tz::TimeZone::UTC,
    }
}

async fn probe(cfg: HttpProbe) -> ProbeResult {
    let p = Probes::new().build(&ProbeConfig::Http(cfg));
    run_probe(p.as_ref(), TIMEOUT).await
}

fn write_ca(dir: &Path, pki: &Pki) -> PathBuf {
    let path = dir.join("ca.pem");
    std::fs::write(&path, &pki.ca_pem).expect("write CA");
    path
}

#[tokio::test]
async fn ca_file_trusts_the_internal_ca_and_nothing_else_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki(None);
    let url = https_server(&pki);

    let untrusted = probe(http(&url)).await;
    assert_eq!(untrusted.status, Status::Critical, "{untrusted:?}");
    assert!(
        untrusted.message.contains("unknown issuer"),
        "{}",
        untrusted.message
    );

    let mut cfg = http(&url);
    cfg.ca_file = Some(write_ca(dir.path(), &pki));
    let trusted = probe(cfg).await;
    assert_eq!(trusted.status, Status::Ok, "{trusted:?}");
    assert!(
        trusted.message.starts_with("HTTP 200"),
        "{}",
        trusted.message
    );
}

#[tokio::test]
async fn cert_expiry_names_the_date_three_days_ahead() {
    let dir = tempfile::tempdir().expect("tempdir");
    let day = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(3))
        .expect("date");
    let pki = pki(Some((
        i32::from(day.year()),
        day.month() as u8,
        day.day() as u8,
    )));
    let url = https_server(&pki);
    let mut cfg = http(&url);
    cfg.ca_file = Some(write_ca(dir.path(), &pki));
    cfg.cert_expiry = Some(Duration::from_secs(14 * 86_400));
    let r = probe(cfg.clone()).await;
    assert_eq!(r.status, Status::Critical, "{r:?}");
    let date = format!("{day} 00:00 UTC");
    assert!(
        r.message.starts_with("certificate expires in "),
        "{}",
        r.message
    );
    assert!(r.message.contains(&date), "{} lacks {date}", r.message);

    // Within the limit is fine, and the OK message still names the date.
    cfg.cert_expiry = Some(Duration::from_secs(3600));
    let r = probe(cfg).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert!(
        r.message
            .contains(&format!("certificate valid until {date}")),
        "{}",
        r.message
    );
}

#[tokio::test]
async fn an_expired_certificate_is_said_in_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki(Some((2021, 3, 4)));
    let url = https_server(&pki);
    let mut cfg = http(&url);
    cfg.ca_file = Some(write_ca(dir.path(), &pki));
    let r = probe(cfg).await;
    assert_eq!(r.status, Status::Critical, "{r:?}");
    assert_eq!(r.message, "certificate expired on 2021-03-04 00:00 UTC");
}

/// A config for the real binary with one HTTPS check.
fn binary_config(dir: &Path, url: &str, extra: &str) -> PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "{state}"
socket = "{socket}"
time_zone = "UTC"

[notifiers.log]
type = "console"

[policies.default]
[[policies.default.steps]]
notify = ["notifier:log"]

[[check]]
name = "internal"
type = "http"
url = "{url}"
{extra}
"#,
        state = dir.join("state").display(),
        socket = dir.join("oncalld.sock").display(),
    );
    let path = dir.join("checks.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

fn run_probe_binary(cfg: &Path, env: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["probe", "-c"])
        .arg(cfg)
        .arg("internal")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run oncalld probe")
}

#[test]
fn ssl_cert_file_is_honoured_as_openssl_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki(None);
    let url = https_server(&pki);
    let cfg = binary_config(dir.path(), &url, "");
    let ca = write_ca(dir.path(), &pki);

    let out = run_probe_binary(&cfg, &[("SSL_CERT_FILE", &ca)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("HTTP 200"), "{stdout}");

    let out = run_probe_binary(&cfg, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("unknown issuer"), "{stdout}");

    // SSL_CERT_DIR: a directory of PEM files (hashed names are not needed by rustls).
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).expect("mkdir");
    std::fs::copy(&ca, certs.join("internal.pem")).expect("copy");
    let out = run_probe_binary(&cfg, &[("SSL_CERT_DIR", &certs)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}

/// Removes the test CA from the system store and rebuilds it, whatever the test did.
struct SystemCa(PathBuf);

impl Drop for SystemCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = Command::new("update-ca-certificates")
            .arg("--fresh")
            .output();
    }
}

/// The real system store: only as root in CI (or with ONCALLD_TEST_SYSTEM_CA=1), since it
/// changes the machine for a moment; the CA is removed again by the guard.
#[test]
fn a_ca_installed_with_update_ca_certificates_is_trusted() {
    let allowed =
        std::env::var_os("CI").is_some() || std::env::var_os("ONCALLD_TEST_SYSTEM_CA").is_some();
    let root = nix::unistd::Uid::effective().is_root();
    let tool = Path::new("/usr/sbin/update-ca-certificates").exists();
    if !(allowed && root && tool) {
        eprintln!(
            "skipped: needs root, update-ca-certificates and CI=1 or ONCALLD_TEST_SYSTEM_CA=1"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki(None);
    let url = https_server(&pki);
    let cfg = binary_config(dir.path(), &url, "");
    let installed = PathBuf::from(format!(
        "/usr/local/share/ca-certificates/oncalld-test-{}.crt",
        std::process::id()
    ));
    std::fs::write(&installed, &pki.ca_pem).expect("install CA");
    let guard = SystemCa(installed);
    let status = Command::new("update-ca-certificates")
        .output()
        .expect("update-ca-certificates");
    assert!(status.status.success(), "{status:?}");

    let out = run_probe_binary(&cfg, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    drop(guard);

    let out = run_probe_binary(&cfg, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "after removal: {stdout}");
}

#[test]
fn an_unreadable_or_invalid_ca_file_is_a_config_error_at_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    for (file, want) in [
        ("missing.pem", "cannot read ca_file"),
        ("junk.pem", "junk.pem"),
    ] {
        let text = format!(
            "[notifiers.log]\ntype = \"console\"\n[policies.p]\n[[policies.p.steps]]\nnotify = [\"notifier:log\"]\n\n[[check]]\nname = \"x\"\ntype = \"http\"\nurl = \"https://h/\"\npolicy = \"p\"\nca_file = \"{file}\"\n"
        );
        let path = dir.path().join("checks.toml");
        let err = match config::parse(&text, &path) {
            Ok(_) => panic!("{file} accepted"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("checks.toml:12:11: check[0].ca_file: "),
            "{err}"
        );
        assert!(err.contains("ca_file"), "{err}");
        assert!(err.contains(want), "{err}");
    }
}
