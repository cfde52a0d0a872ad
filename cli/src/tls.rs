//! TLS for `wss://` servers: rustls on ring (as the server's own webhooks use: no C toolchain
//! beyond what ring builds), trusting the system's certificate authorities, or those in
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (a private CA, a test's own).

use anyhow::bail;
use std::sync::{Arc, OnceLock};
use tokio_tungstenite::Connector;

/// The connector every `wss://` connection uses: the roots are read once, on the first.
pub fn connector() -> anyhow::Result<Connector> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    match CONFIG.get_or_init(|| config().map_err(|err| format!("{err:#}"))) {
        Ok(config) => Ok(Connector::Rustls(Arc::clone(config))),
        Err(err) => bail!("{err}"),
    }
}

fn config() -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found.errors.first().map(|e| format!(" ({e})")).unwrap_or_default();
        bail!("no trusted certificate authorities found on this system{why}: set SSL_CERT_FILE to a file of them");
    }
    // ring rather than aws-lc-rs (which rustls now prefers, for its post-quantum key exchange):
    // as the server's webhooks, so that the workspace builds one TLS stack and no C library of
    // that size. Revisit both together.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
