"""Documents in S3-compatible storage stay private and come back whole through the views.

moto's server mode plays the S3-compatible server (a real HTTP server on a free port): the
storage settings are those ``coop.settings`` builds from the ``AWS_*`` environment.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from django.urls import reverse
from moto.server import ThreadedMotoServer

from coop.devstack import free_port
from invoicing.models import InvoiceDocument
from invoicing.services.documents import render_document
from invoicing.services.issue import submit_invoice
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, belgian_client, make_draft, no_review  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "coop-documents"
KEYS = {"AWS_ACCESS_KEY_ID": "coop-test-key", "AWS_SECRET_ACCESS_KEY": "coop-test-secret"}


def storages_from_settings(**environment: str) -> dict:
    """Load coop.settings in a fresh interpreter with this environment; return STORAGES."""
    script = (
        "import json, django; django.setup(); from django.conf import settings;"
        "print(json.dumps(settings.STORAGES))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "coop.settings", **environment}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    """Point the default storage at a fresh private bucket, with coop.settings' options."""
    storages = storages_from_settings(
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_S3_REGION_NAME="eu-west-1",
        **KEYS,
    )
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="eu-west-1",
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    settings.STORAGES = {**settings.STORAGES, "default": storages["default"]}
    try:
        yield client
    finally:
        for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
        client.delete_bucket(Bucket=BUCKET)


def test_without_a_bucket_files_stay_on_the_local_disk():
    storages = storages_from_settings()
    assert storages["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_the_bucket_settings_make_private_files_and_short_lived_urls():
    storages = storages_from_settings(AWS_STORAGE_BUCKET_NAME=BUCKET, **KEYS)
    assert storages["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storages["default"]["OPTIONS"]
    assert (options["bucket_name"], options["default_acl"]) == (BUCKET, "private")
    assert (options["querystring_auth"], options["querystring_expire"]) == (True, 300)
    assert options["file_overwrite"] is False


def test_an_invoice_pdf_in_s3_is_private_and_downloads_whole_through_the_view(
    s3_storage,
    s3_endpoint,
    client,
    member,
    other_member,
    activity,
    belgian_client,  # noqa: F811
    no_review,  # noqa: F811
):
    invoice = make_draft(member, activity, belgian_client)
    invoice = submit_invoice(user=member.user, invoice=invoice, today=TODAY, now=NOW)
    assert invoice.number == "2026-000001"
    document = invoice.documents.get(format=InvoiceDocument.Format.PDF)
    render_document(document=document)
    document.refresh_from_db()
    assert document.is_ready and len(document.sha256) == 64

    # The object is in the bucket, byte for byte what was rendered.
    stored = s3_storage.get_object(Bucket=BUCKET, Key=document.file.name)["Body"].read()
    assert stored.startswith(b"%PDF-")
    assert hashlib.sha256(stored).hexdigest() == document.sha256

    # The member downloads it through the view that checks who asks.
    client.force_login(member.user)
    response = client.get(reverse("invoicing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    downloaded = b"".join(response.streaming_content)
    assert hashlib.sha256(downloaded).hexdigest() == document.sha256

    # Another member gets a 404, not the file.
    client.force_login(other_member.user)
    assert client.get(reverse("invoicing:invoice_pdf", args=[invoice.pk])).status_code == 404

    # Nobody reads it from the bucket without signing: no public grant, 403 anonymously.
    grants = s3_storage.get_object_acl(Bucket=BUCKET, Key=document.file.name)["Grants"]
    assert [grant["Grantee"].get("URI") for grant in grants] == [None]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    anonymous = requests.get(f"{s3_endpoint}/{BUCKET}/{document.file.name}", timeout=10)
    assert anonymous.status_code == 403
    assert downloaded not in anonymous.content

    # A URL the storage makes is presigned and expires within five minutes.
    url = document.file.url
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert requests.get(url, timeout=10).content == stored
