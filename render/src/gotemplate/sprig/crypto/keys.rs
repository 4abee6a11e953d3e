//! Private keys as sprig makes and reads them: `genPrivateKey` (`rsa` 4096-bit PKCS#1,
//! `ecdsa` P-256 SEC 1, `ed25519` PKCS#8, each PEM as Go's `encoding/pem` writes it), and
//! the PEM parsing the `...WithKey` certificate functions do. Certificates are signed with
//! RSA keys only: an EC or Ed25519 key given to a certificate function is a clear error.

use super::super::random::fill;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::DecodePrivateKey;
use x509_cert::der::pem;
use zeroize::Zeroizing;

/// The RSA key type of the workspace's `rsa` release.
pub type RsaKey = rsa::PrivateKey;

/// A fresh RSA key of `bits` bits.
pub fn generate_rsa(bits: usize) -> Result<RsaKey, String> {
    RsaKey::new(&mut getrandom::SysRng, bits).map_err(|e| e.to_string())
}

/// An RSA key as PKCS#1 PEM (`RSA PRIVATE KEY`), as Go's `x509.MarshalPKCS1PrivateKey`.
pub fn rsa_pem(key: &RsaKey) -> Result<Zeroizing<String>, String> {
    key.to_pkcs1_pem(LineEnding::LF)
        .map(|p| Zeroizing::new(p.to_string()))
        .map_err(|e| e.to_string())
}

/// sprig's `genPrivateKey`: the PEM, or sprig's text for an unknown type.
pub fn generate_private_key(kind: &str) -> Result<String, String> {
    let failed = |e: String| format!("failed to generate private key: {e}");
    Ok(match kind {
        "" | "rsa" => rsa_pem(&generate_rsa(4096).map_err(failed)?)?.as_str().to_owned(),
        "ecdsa" => ecdsa_pem()?.as_str().to_owned(),
        "ed25519" => ed25519_pem()?.as_str().to_owned(),
        "dsa" => {
            return Err(
                "genPrivateKey: dsa keys are not supported (DSA parameter generation is not \
                 available here)"
                    .into(),
            );
        }
        other => format!("Unknown type {other}"),
    })
}

/// A P-256 key as SEC 1 PEM (`EC PRIVATE KEY`), as Go's `x509.MarshalECPrivateKey` writes
/// it: version 1, the 32-byte scalar, the curve's OID and the uncompressed public point.
fn ecdsa_pem() -> Result<Zeroizing<String>, String> {
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    const HEAD: [u8; 7] = [0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
    // [0] { OID prime256v1 } [1] { BIT STRING (65 bytes, no unused bits) }
    const CURVE_AND_POINT: [u8; 15] = [
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0xa1, 0x44, 0x03,
    ];
    loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        fill(bytes.as_mut())?;
        // A scalar of zero or at least the group order is rejected; draw again.
        let Ok(key) = p256::SecretKey::from_slice(bytes.as_ref()) else {
            continue;
        };
        let point = key.public_key().to_encoded_point(false);
        let mut der = Zeroizing::new(Vec::with_capacity(121));
        der.extend_from_slice(&HEAD);
        der.extend_from_slice(bytes.as_ref());
        der.extend_from_slice(&CURVE_AND_POINT);
        der.push(0x42);
        der.push(0x00);
        der.extend_from_slice(point.as_bytes());
        return pem::encode_string("EC PRIVATE KEY", pem::LineEnding::LF, &der)
            .map(Zeroizing::new)
            .map_err(|e| format!("failed to generate private key: {e}"));
    }
}

/// An Ed25519 key as PKCS#8 PEM (`PRIVATE KEY`), as Go's `x509.MarshalPKCS8PrivateKey`.
fn ed25519_pem() -> Result<Zeroizing<String>, String> {
    // PrivateKeyInfo { version 0, AlgorithmIdentifier { id-Ed25519 }, OCTET STRING {
    // OCTET STRING seed } } (RFC 8410).
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ];
    let mut der = Zeroizing::new(Vec::with_capacity(48));
    der.extend_from_slice(&PREFIX);
    let mut seed = Zeroizing::new([0u8; 32]);
    fill(seed.as_mut())?;
    der.extend_from_slice(seed.as_ref());
    pem::encode_string("PRIVATE KEY", pem::LineEnding::LF, &der)
        .map(Zeroizing::new)
        .map_err(|e| format!("failed to generate private key: {e}"))
}

/// The first PEM block in `text` (Go's `pem.Decode` skips what precedes it): its label and
/// contents.
pub fn first_pem_block(text: &str) -> Option<(String, Zeroizing<Vec<u8>>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = text.get(start..)?;
    let label_end = rest.get(11..)?.find("-----")? + 11;
    let label = rest.get(11..label_end)?.to_owned();
    let end_marker = format!("-----END {label}-----");
    let end = rest.find(&end_marker)? + end_marker.len();
    let block = rest.get(..end)?;
    let (_, der) = pem::decode_vec(block.as_bytes()).ok()?;
    Some((label, Zeroizing::new(der)))
}

/// sprig's `parsePrivateKeyPEM`, for the RSA keys certificates can be signed with here.
pub fn parse_private_key(text: &str) -> Result<RsaKey, String> {
    let (label, der) = first_pem_block(text).ok_or("no PEM data in input")?;
    match label.as_str() {
        "PRIVATE KEY" => RsaKey::from_pkcs8_der(&der)
            .map_err(|_| "decoding PEM as PKCS#8: only RSA keys are supported for certificates here".to_owned()),
        "RSA PRIVATE KEY" => RsaKey::from_pkcs1_der(&der).map_err(|e| format!("parsing RSA private key from PEM: {e}")),
        "EC PRIVATE KEY" | "DSA PRIVATE KEY" => Err(format!(
            "{label} keys are not supported for certificates here (only RSA keys are)"
        )),
        l if l.ends_with(" PRIVATE KEY") => Err(format!("invalid private key type {l}")),
        l => Err(format!("no private key data in PEM block of type {l}")),
    }
}
