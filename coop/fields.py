"""Model fields for personal data that must be encrypted at rest."""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@cache
def _fernet(key_material: str) -> Fernet:
    if settings.FIELD_ENCRYPTION_KEY:
        return Fernet(settings.FIELD_ENCRYPTION_KEY.encode())
    # Development fallback: derive a stable key from SECRET_KEY (production requires a real key).
    digest = hashlib.sha256(f"coop-field-encryption:{key_material}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def fernet() -> Fernet:
    """Return the cipher for encrypted fields."""
    return _fernet(settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY)


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
