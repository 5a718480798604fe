"""The webhook's serving certificate: a private CA and a leaf for the webhook Service.

kube-apiserver calls webhooks over TLS and trusts the CA in the webhook
configuration's ``caBundle``, so the controller issues both itself and renews
them well before they expire; no cert-manager needed.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALIDITY = datetime.timedelta(days=365)
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class CertificateBundle:
    """PEM CA certificate, serving certificate and key (the Secret's ca.crt, tls.crt and tls.key)."""

    ca_cert: bytes
    tls_cert: bytes
    tls_key: bytes


def service_dns_names(service: str, namespace: str) -> list[str]:
    return [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    ]


def issue(dns_names: list[str], now: datetime.datetime | None = None) -> CertificateBundle:
    """A fresh CA and a serving certificate for ``dns_names`` (plus 127.0.0.1, for local use)."""
    now = now or datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kaito-webhook-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alt_names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return CertificateBundle(
        ca_cert=ca_cert.public_bytes(serialization.Encoding.PEM),
        tls_cert=cert.public_bytes(serialization.Encoding.PEM),
        tls_key=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def needs_renewal(
    bundle: CertificateBundle, dns_names: list[str], now: datetime.datetime | None = None
) -> bool:
    """True when the certificate is unreadable, expires soon, or does not cover ``dns_names``."""
    now = now or datetime.datetime.now(datetime.UTC)
    try:
        cert = x509.load_pem_x509_certificate(bundle.tls_cert)
        x509.load_pem_x509_certificate(bundle.ca_cert)
        serialization.load_pem_private_key(bundle.tls_key, password=None)
        alt_names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        covered = set(alt_names.get_values_for_type(x509.DNSName))
    except (ValueError, x509.ExtensionNotFound):
        return True
    return cert.not_valid_after_utc - now < RENEW_BEFORE or not set(dns_names) <= covered
