//! TCP probes against real listeners; disk probes on the real filesystem.

use std::time::Duration;

use oncalld::config::{MinFree, ProbeConfig};
use oncalld::probe::{ProbeResult, Probes, Status, run_probe};

async fn probe(cfg: ProbeConfig) -> ProbeResult {
    let p = Probes::new().build(&cfg);
    run_probe(p.as_ref(), Duration::from_secs(2)).await
}

#[tokio::test]
async fn tcp_connects() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = l.local_addr().unwrap().to_string();
    let r = probe(ProbeConfig::Tcp { address }).await;
    assert_eq!(r.status, Status::Ok);
    assert!(r.message.starts_with("connected in "), "{}", r.message);
    assert!(r.message.ends_with(" ms"), "{}", r.message);
}

#[tokio::test]
async fn tcp_refused() {
    let address = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let r = probe(ProbeConfig::Tcp { address }).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, "connection refused");
}

#[tokio::test]
async fn tcp_bad_address_is_critical_not_a_panic() {
    let r = probe(ProbeConfig::Tcp {
        address: "no port here".into(),
    })
    .await;
    assert_eq!(r.status, Status::Critical);
}

fn disk(path: &std::path::Path, min_free: MinFree) -> ProbeConfig {
    ProbeConfig::Disk {
        path: path.to_path_buf(),
        min_free,
    }
}

#[tokio::test]
async fn disk_thresholds_pass_and_fail() {
    let dir = tempfile::tempdir().unwrap();
    let r = probe(disk(dir.path(), MinFree::Percent(0.0))).await;
    assert_eq!(r.status, Status::Ok, "{}", r.message);
    assert!(r.message.contains("% free ("), "{}", r.message);
    assert!(r.message.contains(" of "), "{}", r.message);
    assert_eq!(r.perfdata[0].label, "free");
    assert_eq!(r.perfdata[0].unit, "B");

    let r = probe(disk(dir.path(), MinFree::Percent(100.0))).await;
    assert_eq!(r.status, Status::Critical, "{}", r.message);
    assert!(r.message.ends_with("< 100%"), "{}", r.message);

    let r = probe(disk(dir.path(), MinFree::Bytes(0))).await;
    assert_eq!(r.status, Status::Ok, "{}", r.message);
    let r = probe(disk(dir.path(), MinFree::Bytes(u64::MAX))).await;
    assert_eq!(r.status, Status::Critical, "{}", r.message);
}

#[tokio::test]
async fn disk_missing_path_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let r = probe(disk(&dir.path().join("nope"), MinFree::Percent(0.0))).await;
    assert_eq!(r.status, Status::Unknown);
    assert!(r.message.contains("nope"), "{}", r.message);
}
