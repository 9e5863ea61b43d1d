"""Validation of the identifiers members give us (test vectors in DOMAIN.md §3)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import iban as iban_module
from stdnum.be import ssn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BELGIAN_IBAN_LENGTH = 16


def clean_iban(value: str) -> str:
    """Return the IBAN in compact form, or raise a ValidationError saying what is wrong."""
    compact = iban_module.compact(value or "")
    if not IBAN_SHAPE.match(compact) or (
        compact.startswith("BE") and len(compact) != BELGIAN_IBAN_LENGTH
    ):
        raise ValidationError(_("Enter an IBAN such as BE71 0961 2345 6769."), code="iban_format")
    try:
        return iban_module.validate(compact)
    except InvalidChecksum as error:
        raise ValidationError(
            _("This IBAN's check digits are wrong: please check for a typing error."),
            code="iban_checksum",
        ) from error
    except InvalidComponent as error:
        raise ValidationError(
            _("This IBAN names an unknown country or bank."), code="iban_component"
        ) from error
    except (InvalidFormat, InvalidLength) as error:
        raise ValidationError(
            _("Enter an IBAN such as BE71 0961 2345 6769."), code="iban_format"
        ) from error


def clean_niss(value: str) -> str:
    """Return a national register (or BIS) number as 11 digits, or raise a ValidationError."""
    try:
        return ssn.validate(value)
    except InvalidChecksum as error:
        raise ValidationError(
            _("This national register number's check digits are wrong."), code="niss_checksum"
        ) from error
    except (InvalidFormat, InvalidLength, InvalidComponent) as error:
        raise ValidationError(
            _("Enter the 11 digits of your national register number, e.g. 85.07.30-033.28."),
            code="niss_format",
        ) from error


def format_niss(value: str) -> str:
    """Format 11 digits as YY.MM.DD-SSS.CC."""
    return ssn.format(value) if value else ""
