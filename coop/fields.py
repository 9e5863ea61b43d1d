"""Model fields for personal data that must be encrypted at rest."""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def _field_key() -> str:
    """Return the Fernet key in use, as its base64 text."""
    if settings.FIELD_ENCRYPTION_KEY:
        return settings.FIELD_ENCRYPTION_KEY
    # Development fallback: derive a stable key from SECRET_KEY (production requires a real key).
    digest = hashlib.sha256(f"coop-field-encryption:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@cache
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def fernet() -> Fernet:
    """Return the cipher for encrypted fields."""
    return _fernet(_field_key())


def key_fingerprint(key: str | None = None) -> str:
    """Return the first 16 hex digits of the SHA-256 of a Fernet key (by default, the one in use).

    The fingerprint names a key without revealing it: backups record it so that a restore can
    tell which key it needs (``printf %s "$FIELD_ENCRYPTION_KEY" | sha256sum | cut -c1-16``).
    """
    return hashlib.sha256((key or _field_key()).encode()).hexdigest()[:16]


def key_source() -> str:
    """Say where the key in use comes from."""
    if settings.FIELD_ENCRYPTION_KEY:
        return "FIELD_ENCRYPTION_KEY"
    return "development fallback derived from SECRET_KEY"


def fingerprint(value: str) -> str:
    """Return a keyed hash of a value, to find duplicates without decrypting every row."""
    key = (settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY).encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class EncryptedCharField(models.TextField):
    """A text value stored encrypted with Fernet; Python code sees the plain text.

    Encrypted values cannot be searched or ordered in the database.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return fernet().encrypt(value.encode()).decode()

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken as error:
            raise ValueError(
                "An encrypted value could not be read: wrong FIELD_ENCRYPTION_KEY?"
            ) from error
