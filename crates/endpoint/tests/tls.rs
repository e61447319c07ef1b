//! `https://` targets against the mock server serving TLS with a
//! certificate made for the test: trusted through --ca-cert it works (with
//! kernel arrival stamps through the TLS layer), untrusted every request is
//! a counted connect failure naming the certificate, and --insecure
//! accepts it.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use yardstick_endpoint::{ApiKind, Bench, MockConfig, MockMode, MockServer, TlsTrust};

/// A self-signed certificate for 127.0.0.1 and localhost: (cert, key) PEM files.
fn certificate(dir: &str) -> (PathBuf, PathBuf) {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(dir);
    std::fs::create_dir_all(&d).unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let (cert, key) = (d.join("cert.pem"), d.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

fn tls_mock(cert: &Path, key: &Path) -> MockServer {
    let cfg = MockConfig {
        mode: MockMode::Simulated,
        ttft: Duration::from_millis(5),
        tpot: Duration::from_millis(1),
        output_tokens: 8,
        tls: Some(yardstick_endpoint::tls::server_config(cert, key).expect("server config")),
        ..MockConfig::default()
    };
    MockServer::start(cfg, SocketAddr::from(([127, 0, 0, 1], 0))).expect("mock")
}

fn tls_bench(url: &str, trust: TlsTrust) -> Bench {
    let mut c = config(url, ApiKind::Chat, true, Duration::from_secs(10));
    c.tls_trust = trust;
    Bench::new(c, dataset(4, "hello world"), None, None).expect("bench")
}

#[test]
fn a_trusted_certificate_streams_and_stamps() {
    let (cert, key) = certificate("tls-trusted");
    let m = tls_mock(&cert, &key);
    assert!(m.url().starts_with("https://"), "{}", m.url());
    let b = tls_bench(&m.url(), TlsTrust::WithCa(cert));
    let p = b.run_concurrency(4, None, Some(12), 2).expect("run");
    let s = &p.summary.metrics;
    assert_eq!(s.n_samples_failed, 0, "{:?}", s.first_error);
    assert_eq!(s.n_samples_completed, 12);
    assert!(s.ttft_p90_ms.is_some());
    let d = s.first_token_delay_vs_server.as_ref().expect("stamps");
    assert_eq!(d.count, 12);
    assert!(d.min >= 0.0, "stamped before the server sent it: {d:?}");
    assert!(d.p("50").unwrap_or(f64::MAX) < 20e6, "{d:?}");
}

#[test]
fn an_untrusted_certificate_fails_each_request_clearly() {
    let (cert, key) = certificate("tls-untrusted");
    let m = tls_mock(&cert, &key);
    let b = tls_bench(&m.url(), TlsTrust::WebPki);
    let p = b.run_concurrency(2, None, Some(4), 0).expect("run");
    let s = &p.summary.metrics;
    assert_eq!(s.n_samples_failed, 4);
    assert_eq!(s.errors.get("connect"), Some(&4), "{:?}", s.errors);
    let e = s.first_error.as_deref().unwrap_or_default();
    assert!(
        e.contains("TLS handshake") && e.contains("certificate"),
        "{e}"
    );
}

#[test]
fn insecure_accepts_a_self_signed_certificate() {
    let (cert, key) = certificate("tls-insecure");
    let m = tls_mock(&cert, &key);
    let b = tls_bench(&m.url(), TlsTrust::Insecure);
    let p = b.run_concurrency(2, None, Some(4), 0).expect("run");
    assert_eq!(
        p.summary.metrics.n_samples_failed, 0,
        "{:?}",
        p.summary.metrics.first_error
    );
}

#[test]
fn a_missing_ca_file_is_named() {
    let Err(e) = Bench::new(
        {
            let mut c = config(
                "https://127.0.0.1:9",
                ApiKind::Chat,
                true,
                Duration::from_secs(1),
            );
            c.tls_trust = TlsTrust::WithCa("/nonexistent/ca.pem".into());
            c
        },
        dataset(1, "x"),
        None,
        None,
    ) else {
        panic!("a missing CA file must fail");
    };
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
}
