"""HTTPS with a certificate from a test CA: boto3 verifies it, and refuses it without the CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from botocore.exceptions import SSLError
from local_api_support import make_client

from neptune_ml_endpoint.local.api import LocalNeptuneMlApi


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_api(certificate_authority: trustme.CA) -> Iterator[LocalNeptuneMlApi]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate_authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with LocalNeptuneMlApi(ssl_context=context) as api:
        yield api


@pytest.fixture
def ca_path(certificate_authority: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return str(path)


def test_boto3_verifies_the_server_with_the_ca(tls_api: LocalNeptuneMlApi, ca_path: str) -> None:
    assert tls_api.url.startswith("https://127.0.0.1:")
    client = make_client(tls_api.url, verify=ca_path)
    assert client.create_ml_endpoint(id="ep-1", mlModelTrainingJobId="job-1")["id"] == "ep-1"
    assert client.get_ml_endpoint(id="ep-1")["status"] == "Creating"


def test_aws_ca_bundle_points_boto3_at_the_ca(
    tls_api: LocalNeptuneMlApi, ca_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CA_BUNDLE", ca_path)
    assert make_client(tls_api.url).list_ml_endpoints()["ids"] == []


def test_a_client_without_the_ca_refuses_the_server(tls_api: LocalNeptuneMlApi) -> None:
    with pytest.raises(SSLError):
        make_client(tls_api.url).list_ml_endpoints()
    assert tls_api.requests() == []
