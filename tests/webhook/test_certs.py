"""The webhook's self-issued certificates: a chain that verifies, for the right names, renewed in time."""

from __future__ import annotations

import datetime
import ssl

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from kaito.webhook.certs import CertificateBundle, issue, needs_renewal, service_dns_names


def test_service_names_cover_every_way_the_api_server_may_dial() -> None:
    assert service_dns_names("kaito-webhook", "kaito-system") == [
        "kaito-webhook",
        "kaito-webhook.kaito-system",
        "kaito-webhook.kaito-system.svc",
        "kaito-webhook.kaito-system.svc.cluster.local",
    ]


def test_issued_leaf_is_signed_by_the_ca_and_loads_into_an_ssl_context(tmp_path) -> None:  # type: ignore[no-untyped-def]
    names = service_dns_names("kaito-webhook", "kaito-system")
    bundle = issue(names)
    ca = x509.load_pem_x509_certificate(bundle.ca_cert)
    leaf = x509.load_pem_x509_certificate(bundle.tls_cert)
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    leaf.verify_directly_issued_by(ca)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == names
    cert_file, key_file = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_file.write_bytes(bundle.tls_cert)
    key_file.write_bytes(bundle.tls_key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)


def test_renewal_is_due_near_expiry_for_new_names_or_garbage() -> None:
    names = service_dns_names("w", "ns")
    now = datetime.datetime.now(datetime.UTC)
    bundle = issue(names, now=now)
    assert not needs_renewal(bundle, names, now=now)
    assert needs_renewal(bundle, names, now=now + datetime.timedelta(days=340))
    assert needs_renewal(bundle, service_dns_names("w", "other"), now=now)
    assert needs_renewal(CertificateBundle(b"junk", b"junk", b"junk"), names, now=now)
