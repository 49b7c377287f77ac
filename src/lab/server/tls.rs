//! TLS for the lab's API: a CA and a 127.0.0.1/localhost certificate per lab (fresh, or the
//! ones a lab kept in its directory, as a restarted server keeps its certificates), and a
//! listener that hands axum TLS streams. TLS is not optional: kubectl (client-go) sends
//! bearer tokens only over TLS, so a plain-HTTP lab could not tell its two users apart.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// A lab's certificate authority and the acceptor serving its certificate.
#[derive(Clone)]
pub struct LabTls {
    /// PEM of the CA that signed the server certificate: what clients must trust.
    pub ca_pem: String,
    /// PEM of the serving certificate and of its private key, to start again with them.
    pub cert_pem: String,
    pub key_pem: String,
    acceptor: TlsAcceptor,
}

impl LabTls {
    pub fn generate() -> Result<Self, String> {
        let err = |e: rcgen::Error| format!("cannot create the lab's TLS certificate: {e}");
        let mut ca_params = CertificateParams::new(Vec::new()).map_err(err)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "release-cockpit lab CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(err)?;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .map_err(err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "release-cockpit lab");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().map_err(err)?;
        let cert = params.signed_by(&key, &issuer).map_err(err)?;
        Self::from_pem(ca_cert.pem(), cert.pem(), key.serialize_pem())
    }

    /// The TLS of a lab that ran before: its CA, serving certificate and key, as PEM.
    pub fn from_pem(ca_pem: String, cert_pem: String, key_pem: String) -> Result<Self, String> {
        use tokio_rustls::rustls::pki_types::CertificateDer;
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            format!(
                "the lab's saved {what} cannot be read ({e}); remove lab-state.json from the --dir to start with new certificates"
            )
        };
        let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| bad("serving certificate", &e))?;
        let ca_cert =
            CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(|e| bad("CA", &e))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| bad("private key", &e))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_no_client_auth()
                    .with_single_cert(vec![cert, ca_cert], key)
            })
            .map_err(|e| format!("cannot configure TLS for the lab: {e}"))?;
        // HTTP/2 first, as kube-apiserver offers it: a client multiplexes its requests.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(LabTls {
            ca_pem,
            cert_pem,
            key_pem,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Accepts on `tcp` in a background task; each handshake runs in its own task so a
    /// slow client never holds up the others.
    pub fn listener(&self, tcp: TcpListener) -> std::io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let (ready_tx, ready) = mpsc::channel(16);
        let acceptor = self.acceptor.clone();
        let task = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::debug!("lab API accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // As a real API server: answers go out at once, not after the client's
                // delayed ACK (Nagle's algorithm cost 40 ms on some requests).
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!("lab API: TCP_NODELAY for {peer}: {e}");
                }
                let acceptor = acceptor.clone();
                let ready_tx = ready_tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready_tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!("lab API TLS handshake with {peer} failed: {e}")
                        }
                        Err(_) => tracing::debug!("lab API TLS handshake with {peer} timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { addr, ready, task })
    }
}

/// TLS connections whose handshake is complete, for axum to serve.
pub struct TlsListener {
    addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    task: JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept task only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
