//! sprig's certificates: `genCA`, `genSelfSignedCert`, `genSignedCert` (fresh 2048-bit RSA
//! keys), their `...WithKey` forms, and `buildCustomCert`, each giving sprig's
//! `certificate` struct (`.Cert`, `.Key`, both PEM). The certificates carry what Go's
//! `x509.CreateCertificate` writes for sprig's template: subject and issuer CN only, a random
//! 128-bit serial, `NotBefore` now and `NotAfter` `days` later, key usage (critical) digital
//! signature and key encipherment (and certificate signing for a CA), extended key usage
//! server and client auth, basic constraints (critical), a subject key identifier on CAs, the
//! issuer's as authority key identifier on signed certificates, and DNS then IP alternative
//! names; SHA-256 with RSA.

use super::keys::{RsaKey, first_pem_block, generate_rsa, parse_private_key, rsa_pem};
use crate::gotemplate::value::{Object, Value};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::EncodePublicKey;
use sha1::Digest as _;
use sha2_11::Sha256;
use std::rc::Rc;
use std::str::FromStr;
use std::time::{Duration, SystemTime};
use x509_cert::Certificate;
use x509_cert::TbsCertificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::der::asn1::{Ia5String, OctetString};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode, EncodePem};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
const CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

/// sprig's `certificate` struct.
pub struct CertObject {
    /// The certificate, PEM.
    pub cert: String,
    /// The private key, PEM.
    pub key: String,
}

impl Object for CertObject {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(self.cert.clone())),
            "Key" => Some(Value::str(self.key.clone())),
            _ => None,
        }
    }
    fn format_v(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
}

fn cert_value(cert: String, key: String) -> Value {
    Value::Object(Rc::new(CertObject { cert, key }))
}

/// Reads a `certificate` argument (anything with string `Cert` and `Key` fields).
fn cert_arg(v: &Value) -> Result<(String, String), String> {
    let Value::Object(o) = v else {
        return Err(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            v.type_name()
        ));
    };
    let text = |f: &str| match o.field(f) {
        Some(Value::Str(s)) => Ok(s.as_str().to_owned()),
        _ => Err(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            o.type_name()
        )),
    };
    Ok((text("Cert")?, text("Key")?))
}

/// What goes into a certificate besides its keys.
struct Template {
    cn: String,
    ips: Vec<Vec<u8>>,
    dns: Vec<String>,
    days: i64,
    is_ca: bool,
}

/// sprig's `getNetIPs` and `getAlternateDNSStrs` checks, then the template.
fn template(cn: &str, ips: &[Value], dns: &[Value], days: i64, is_ca: bool) -> Result<Template, String> {
    let mut ip_bytes = Vec::with_capacity(ips.len());
    for ip in ips {
        let Value::Str(s) = ip else {
            return Err(format!("error parsing ip: {} is not a string", ip.format_v()));
        };
        let parsed: std::net::IpAddr = s.parse().map_err(|_| format!("error parsing ip: {}", s.as_str()))?;
        ip_bytes.push(match parsed {
            std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
            std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.octets().to_vec(),
                None => v6.octets().to_vec(),
            },
        });
    }
    let mut names = Vec::with_capacity(dns.len());
    for name in dns {
        let Value::Str(s) = name else {
            return Err(format!(
                "error processing alternate dns name: {} is not a string",
                name.format_v()
            ));
        };
        names.push(s.as_str().to_owned());
    }
    Ok(Template {
        cn: cn.to_owned(),
        ips: ip_bytes,
        dns: names,
        days,
        is_ca,
    })
}

/// The extensions Go writes for sprig's template, in Go's order.
struct Profile {
    subject: Name,
    issuer: Name,
    is_ca: bool,
    authority_key_id: Option<Vec<u8>>,
    dns: Vec<String>,
    ips: Vec<Vec<u8>>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let subject = tbs.subject();
        let mut usages = KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment;
        if self.is_ca {
            usages |= KeyUsages::KeyCertSign;
        }
        let mut out = vec![
            (&KeyUsage(usages)).to_extension(subject, &[])?,
            (&ExtendedKeyUsage(vec![SERVER_AUTH, CLIENT_AUTH])).to_extension(subject, &[])?,
            (&BasicConstraints {
                ca: self.is_ca,
                path_len_constraint: None,
            })
                .to_extension(subject, &[])?,
        ];
        if self.is_ca {
            let id = sha1::Sha1::digest(spk.subject_public_key.raw_bytes());
            out.push((&SubjectKeyIdentifier(OctetString::new(id.to_vec())?)).to_extension(subject, &[])?);
        }
        if let Some(id) = &self.authority_key_id {
            let akid = AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(id.clone())?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            };
            out.push((&akid).to_extension(subject, &[])?);
        }
        if !self.dns.is_empty() || !self.ips.is_empty() {
            let mut names = Vec::with_capacity(self.dns.len() + self.ips.len());
            for d in &self.dns {
                names.push(GeneralName::DnsName(Ia5String::new(d)?));
            }
            for ip in &self.ips {
                names.push(GeneralName::IpAddress(OctetString::new(ip.clone())?));
            }
            out.push((&SubjectAltName(names)).to_extension(subject, &[])?);
        }
        Ok(out)
    }
}

fn name_with_cn(cn: &str) -> Result<Name, String> {
    if cn.is_empty() {
        return Ok(Name::default());
    }
    // RFC 4514 form: escape what the parser would read as structure.
    let mut escaped = String::with_capacity(cn.len() + 3);
    for (i, c) in cn.chars().enumerate() {
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, ' ' | '#'))
            || (i + 1 == cn.chars().count() && c == ' ')
        {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    Name::from_str(&format!("CN={escaped}")).map_err(|e| format!("error creating certificate: {e}"))
}

fn validity(days: i64) -> Result<Validity, String> {
    let now = SystemTime::now();
    let span = Duration::from_secs(days.unsigned_abs().saturating_mul(86_400));
    let then = if days >= 0 {
        now.checked_add(span)
    } else {
        now.checked_sub(span)
    }
    .ok_or("error creating certificate: validity out of range")?;
    let t = |s: SystemTime| Time::try_from(s).map_err(|e| format!("error creating certificate: {e}"));
    Ok(Validity::new(t(now)?, t(then)?))
}

/// Signs `t` for `key`, by `signer` (issuer name and key identifier from `parent`, or
/// self-signed without one); the certificate's and the key's PEM.
fn sign(t: &Template, key: &RsaKey, parent: Option<(&Certificate, &RsaKey)>) -> Result<(String, String), String> {
    let err = |e: &dyn std::fmt::Display| format!("error creating certificate: {e}");
    let subject = name_with_cn(&t.cn)?;
    let (issuer, authority_key_id, signing_key) = match parent {
        None => (subject.clone(), None, key),
        Some((cert, signer)) => {
            let tbs = cert.tbs_certificate();
            let skid = tbs
                .get_extension::<SubjectKeyIdentifier>()
                .ok()
                .flatten()
                .map(|(_, id)| id.0.as_bytes().to_vec());
            (tbs.subject().clone(), skid, signer)
        }
    };
    let profile = Profile {
        subject,
        issuer,
        is_ca: t.is_ca,
        authority_key_id,
        dns: t.dns.clone(),
        ips: t.ips.clone(),
    };
    let spki_der = key.to_public_key().to_public_key_der().map_err(|e| err(&e))?;
    let spki = SubjectPublicKeyInfo::try_from(spki_der.as_bytes()).map_err(|e| err(&e))?;
    let mut serial = [0u8; 17];
    super::super::random::fill(serial.get_mut(1..).unwrap_or_default())?;
    let serial = SerialNumber::new(&serial).map_err(|e| err(&e))?;
    let builder = CertificateBuilder::new(profile, serial, validity(t.days)?, spki).map_err(|e| err(&e))?;
    let signer = SigningKey::<Sha256>::new(signing_key.clone());
    let cert = builder.build(&signer).map_err(|e| err(&e))?;
    let cert_pem = cert
        .to_pem(x509_cert::der::pem::LineEnding::LF)
        .map_err(|e| format!("error pem-encoding certificate: {e}"))?;
    let key_pem = rsa_pem(key).map_err(|e| format!("error pem-encoding key: {e}"))?;
    Ok((cert_pem, key_pem.as_str().to_owned()))
}

fn key_or_fresh(pem: Option<&str>) -> Result<RsaKey, String> {
    match pem {
        Some(p) => parse_private_key(p).map_err(|e| format!("parsing private key: {e}")),
        None => generate_rsa(2048).map_err(|e| format!("error generating rsa key: {e}")),
    }
}

/// `genCA` / `genCAWithKey`.
pub fn gen_ca(cn: &str, days: i64, key_pem: Option<&str>) -> Result<Value, String> {
    let key = key_or_fresh(key_pem)?;
    let t = template(cn, &[], &[], days, true)?;
    let (cert, key) = sign(&t, &key, None)?;
    Ok(cert_value(cert, key))
}

/// `genSelfSignedCert` / `genSelfSignedCertWithKey`.
pub fn gen_self_signed(
    cn: &str,
    ips: &[Value],
    dns: &[Value],
    days: i64,
    key_pem: Option<&str>,
) -> Result<Value, String> {
    let key = key_or_fresh(key_pem)?;
    let t = template(cn, ips, dns, days, false)?;
    let (cert, key) = sign(&t, &key, None)?;
    Ok(cert_value(cert, key))
}

/// `genSignedCert` / `genSignedCertWithKey`.
pub fn gen_signed(
    cn: &str,
    ips: &[Value],
    dns: &[Value],
    days: i64,
    ca: &Value,
    key_pem: Option<&str>,
) -> Result<Value, String> {
    let key = key_or_fresh(key_pem)?;
    let (ca_cert, ca_key) = cert_arg(ca)?;
    let (_, der) = first_pem_block(&ca_cert).ok_or("unable to decode certificate")?;
    let signer_cert =
        Certificate::from_der(&der).map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
    let signer_key = parse_private_key(&ca_key).map_err(|e| format!("error parsing private key: {e}"))?;
    let t = template(cn, ips, dns, days, false)?;
    let (cert, key) = sign(&t, &key, Some((&signer_cert, &signer_key)))?;
    Ok(cert_value(cert, key))
}

/// `buildCustomCert`: a base64 PEM certificate and key, checked, as a `certificate`.
pub fn build_custom(b64_cert: &str, b64_key: &str) -> Result<Value, String> {
    let decode = super::super::encoding::go_b64_decode;
    let cert = decode(b64_cert).map_err(|_| "unable to decode base64 certificate".to_owned())?;
    let key = decode(b64_key).map_err(|_| "unable to decode base64 private key".to_owned())?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = zeroize::Zeroizing::new(String::from_utf8_lossy(&key).into_owned());
    let (_, der) = first_pem_block(&cert).ok_or("unable to decode certificate")?;
    Certificate::from_der(&der).map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
    parse_private_key(&key).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(cert_value(cert, key.as_str().to_owned()))
}
