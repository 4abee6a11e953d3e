"""Bitnami sealed-secrets hybrid encryption, written independently of kubesealpy.

Used by tests as a second, independent reference for the sealed-secret format:

    blob = u16be(len(rsa_ct)) || rsa_ct || aes_ct
    rsa_ct = RSA-OAEP(SHA-256, MGF1-SHA-256, label)(session_key[32])
    aes_ct = AES-256-GCM(session_key, nonce = 12 zero bytes)(plaintext)  (tag appended)

label: b"<ns>/<name>" for strict scope, b"<ns>" namespace-wide, b"" cluster-wide.
The zero nonce is safe only because every session key is fresh and used once.
"""
import os
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = b"\0" * 12


def label_for(scope, namespace, name):
    """Label bytes for a scope: 'strict', 'namespace-wide' or 'cluster-wide'."""
    return {
        "strict": f"{namespace}/{name}",
        "namespace-wide": namespace,
        "cluster-wide": "",
    }[scope].encode()


def _oaep(label):
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label)


def seal(public_key, plaintext, label):
    session_key = os.urandom(32)
    rsa_ct = public_key.encrypt(session_key, _oaep(label))
    return struct.pack(">H", len(rsa_ct)) + rsa_ct + AESGCM(session_key).encrypt(_NONCE, plaintext, None)


def unseal(private_key, blob, label):
    (n,) = struct.unpack(">H", blob[:2])
    session_key = private_key.decrypt(blob[2 : 2 + n], _oaep(label))
    return AESGCM(session_key).decrypt(_NONCE, blob[2 + n :], None)


def load_cert_pub(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read()).public_key()


def load_priv(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)
