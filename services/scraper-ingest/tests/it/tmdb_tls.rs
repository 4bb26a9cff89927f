//! The TMDB jobs over HTTPS: the mock TMDB of `tmdb.rs` behind TLS (tokio-rustls with the ring provider), its
//! certificate self-signed for 127.0.0.1 by rcgen at the test's start. Trusted through `tmdb_ca_file`, a person
//! job succeeds; without it the client refuses the certificate and the job is dead-lettered at once, its reason
//! naming the certificate and the setting.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types::PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;

use crate::helpers::*;
use crate::tmdb::{KEY, MockTmdb, enqueue_person};

/// TLS on top of a TCP listener for `axum::serve`; a handshake the client aborts (it refused the certificate)
/// is counted and the next connection accepted.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    failed_handshakes: Arc<AtomicUsize>,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, addr) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            match tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => return (tls, addr),
                _ => {
                    self.failed_handshakes.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The mock TMDB over HTTPS, the PEM file of its certificate, and the handshakes that failed.
struct HttpsTmdb {
    mock: MockTmdb,
    ca_file: std::path::PathBuf,
    failed_handshakes: Arc<AtomicUsize>,
    _dir: TempDir,
}

impl HttpsTmdb {
    async fn start() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let dir = TempDir::new("tmdb-tls");
        let ca_file = dir.write("tmdb-ca.pem", &[certified.cert.pem().trim_end()]);
        let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key.into())
            .unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/3", tcp.local_addr().unwrap());
        let failed_handshakes = Arc::new(AtomicUsize::new(0));
        let listener = TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            failed_handshakes: failed_handshakes.clone(),
        };
        Self { mock: MockTmdb::serve(listener, url), ca_file, failed_handshakes, _dir: dir }
    }
}

async fn setup(trust: bool) -> (Env, HttpsTmdb) {
    let mut env = Env::new().await;
    let tmdb = HttpsTmdb::start().await;
    env.config.tmdb_base_url = tmdb.mock.url.clone();
    env.config.tmdb_api_key = KEY.into();
    env.config.tmdb_ca_file = trust.then(|| tmdb.ca_file.clone());
    (env, tmdb)
}

#[tokio::test]
async fn a_person_job_reads_an_https_tmdb_whose_certificate_tmdb_ca_file_trusts() {
    let (env, tmdb) = setup(true).await;
    let app = env.start().await;
    let queued = enqueue_person(&app, 31, "").await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(job.attempts, 1);
    assert_eq!(counts(file(&job, "tmdb actors")), (1, 1, 0, 0, 0));
    assert_eq!(env.catalog.count("filmography").await, 3);
    let hits = tmdb.mock.hits();
    assert_eq!(hits.len(), 6, "{hits:#?}");
    assert!(hits.iter().all(|h| h.api_key.as_deref() == Some(KEY)), "the key went over TLS");
    assert_eq!(tmdb.failed_handshakes.load(Ordering::SeqCst), 0);
    app.stop().await;
}

#[tokio::test]
async fn an_untrusted_certificate_dead_letters_the_job_at_once_with_its_reason() {
    let (env, tmdb) = setup(false).await;
    let app = env.start().await;
    let queued = enqueue_person(&app, 31, "").await;
    let job = app.wait_for(&queued.id, "dead", 60).await;
    assert_eq!(job.attempts, 1, "retrying cannot fix the certificate: {job:#?}");
    let reason = &job.last_error;
    assert!(reason.contains("certificate is not trusted") && reason.contains("UnknownIssuer"), "{reason}");
    assert!(reason.contains("tmdb_ca_file"), "the reason names the setting: {reason}");
    assert!(!reason.contains(KEY));
    assert!(tmdb.mock.hits().is_empty(), "no request got past the handshake");
    let failed = || tmdb.failed_handshakes.load(Ordering::SeqCst);
    iknow_testkit::eventually(5, || async { (failed() > 0).then_some(()) }).await;
    assert_eq!(failed(), 1, "one handshake, not tried again");
    app.stop().await;
}
