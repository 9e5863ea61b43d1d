"""Hand e-invoices to the Peppol network through a pluggable transport.

The transport is named by the ``PEPPOL_TRANSPORT`` setting. The default, ``OutboxTransport``,
only files the document in storage, where an access point connector (or a person) picks it up;
a real access point client implements the same ``send``.
"""

from typing import Protocol

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.module_loading import import_string
from django.utils.text import get_valid_filename

DEFAULT_TRANSPORT = "invoicing.peppol.OutboxTransport"
OUTBOX = "peppol/outbox"


class PeppolTransport(Protocol):
    def send(self, *, document_number: str, receiver_id: str, payload: bytes) -> str:
        """Transmit a UBL document to a Peppol participant; return the transmission reference."""
        ...


class OutboxTransport:
    """File the document as ``peppol/outbox/<document number>.xml`` in the default storage."""

    def send(self, *, document_number: str, receiver_id: str, payload: bytes) -> str:
        """Store the payload; sending the same bytes again returns the same reference."""
        if not document_number or get_valid_filename(document_number) != document_number:
            raise ValueError(f"{document_number!r} cannot be used as a file name.")
        name = f"{OUTBOX}/{document_number}.xml"
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as existing:
                if existing.read() == payload:
                    return f"outbox:{name}"
            # A re-rendered document replaces the old file: storages rename on collision
            # instead of overwriting, which would leave two files for one number.
            default_storage.delete(name)
        stored_name = default_storage.save(name, ContentFile(payload))
        return f"outbox:{stored_name}"


def get_transport() -> PeppolTransport:
    """Return an instance of the transport class named by the PEPPOL_TRANSPORT setting."""
    transport_class = import_string(getattr(settings, "PEPPOL_TRANSPORT", DEFAULT_TRANSPORT))
    return transport_class()
