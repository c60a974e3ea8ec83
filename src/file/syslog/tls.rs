//! TLS for `syslog+tls://` (RFC 5425), by rustls with its `ring` provider: the CA file
//! (`syslog_tls_ca`, required), an optional client certificate and key
//! (`syslog_tls_cert`, `syslog_tls_key`), the name the server's certificate must carry
//! (`syslog_tls_server_name`, default the host of the destination).
//!
//! A certificate that does not verify fails the handshake: nothing is ever written to
//! the connection but TLS records, so no message leaves in the clear.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

/// What a TLS connection needs: the configuration and the name to verify.
#[derive(Clone, Debug)]
pub(super) struct TlsSetup {
    pub config: Arc<ClientConfig>,
    pub server_name: ServerName<'static>,
}

fn certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let read = |e: &dyn std::fmt::Display| format!("{what} {}: {e}", path.display());
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| read(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read(&e))?;
    if certs.is_empty() {
        return Err(read(&"no PEM certificate in it"));
    }
    Ok(certs)
}

/// Reads the files and builds the client configuration. The error names the file.
pub(super) fn setup(
    ca: &Path,
    cert_key: Option<(&Path, &Path)>,
    server_name: &str,
) -> Result<TlsSetup, String> {
    let mut roots = RootCertStore::empty();
    for c in certs(ca, "syslog_tls_ca")? {
        roots
            .add(c)
            .map_err(|e| format!("syslog_tls_ca {}: {e}", ca.display()))?;
    }
    // rustls marks ring's provider deprecated since it has no post-quantum key exchange;
    // it is the provider that builds with a C compiler alone (aws-lc-rs wants cmake and
    // nasm), and syslog receivers (GnuTLS, OpenSSL) negotiate its X25519 and P-256.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots);
    let config = match cert_key {
        Some((cert, key)) => {
            let chain = certs(cert, "syslog_tls_cert")?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("syslog_tls_key {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("syslog_tls_cert/syslog_tls_key: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    let server_name = ServerName::try_from(server_name.to_owned())
        .map_err(|e| format!("syslog_tls_server_name '{server_name}': {e}"))?;
    Ok(TlsSetup {
        config: Arc::new(config),
        server_name,
    })
}

/// A fault of the TLS layer (a certificate that does not verify, a refused handshake):
/// `InvalidData`, which [`refused`] recognises.
pub(super) fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {e}"))
}

/// Was the connection refused by TLS (as opposed to a network fault)?
pub(super) fn refused(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData
}
