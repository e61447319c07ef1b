//! TLS for `https://` targets (rustls): the client side, with the Mozilla
//! roots built in, extra roots from a PEM file, or no verification at all
//! for a self-signed test server; and the mock server's side from a PEM
//! certificate chain and key.
//!
//! Arrival stamps still come from the TCP socket under the TLS layer (see
//! `stamped_io`): a record's bytes are stamped when they reached the
//! socket, before decryption.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, SignatureScheme};

use crate::error::EndpointError;

/// How the client checks the server's certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsTrust {
    /// The Mozilla root certificates (built in).
    #[default]
    WebPki,
    /// The built-in roots plus the CA certificates of this PEM file.
    WithCa(PathBuf),
    /// Any certificate (self-signed test servers): the connection is
    /// encrypted but the server is not authenticated.
    Insecure,
}

/// What a TLS connection needs: the client configuration and the name the
/// certificate must carry (SNI).
#[derive(Debug, Clone)]
pub struct TlsClient {
    pub config: Arc<rustls::ClientConfig>,
    pub server_name: ServerName<'static>,
}

fn tls_error(what: impl Into<String>, reason: impl std::fmt::Display) -> EndpointError {
    EndpointError::Tls {
        what: what.into(),
        reason: reason.to_string(),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Certificates of a PEM file (at least one).
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, EndpointError> {
    let what = || format!("certificates in {}", path.display());
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| tls_error(what(), e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(what(), e))?;
    if certs.is_empty() {
        return Err(tls_error(what(), "no CERTIFICATE block in the file"));
    }
    Ok(certs)
}

impl TlsClient {
    /// The client side for `host` (a DNS name or an IP address).
    pub fn new(host: &str, trust: &TlsTrust) -> Result<TlsClient, EndpointError> {
        let server_name = ServerName::try_from(host.to_string())
            .map_err(|e| tls_error(format!("server name `{host}`"), e))?;
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("TLS versions", e))?;
        let mut config = match trust {
            TlsTrust::Insecure => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
                .with_no_client_auth(),
            TlsTrust::WebPki | TlsTrust::WithCa(_) => {
                let mut roots = rustls::RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                if let TlsTrust::WithCa(path) = trust {
                    for c in read_certs(path)? {
                        roots
                            .add(c)
                            .map_err(|e| tls_error(format!("CA in {}", path.display()), e))?;
                    }
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
        };
        // HTTP/1.1 only: the client drives one request per connection.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsClient {
            config: Arc::new(config),
            server_name,
        })
    }
}

/// The mock server's TLS side from a PEM certificate chain and private key.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, EndpointError> {
    let chain = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| tls_error(format!("private key in {}", key.display()), e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("TLS versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| tls_error(format!("certificate {}", cert.display()), e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// `--insecure`: accepts any certificate, still checking the handshake
/// signatures with the provider's algorithms.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
