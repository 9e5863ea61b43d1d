"""IBAN and national register numbers, with the test vectors of DOMAIN.md §3."""

import pytest
from django.core.exceptions import ValidationError

from members.validators import clean_iban, clean_niss, format_niss


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("BE71096123456769", "BE71096123456769"),
        ("be71 0961 2345 6769", "BE71096123456769"),
    ],
)
def test_valid_iban_is_returned_compact(given, expected):
    assert clean_iban(given) == expected


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("BE68539007547034", "iban_component"),  # digits check, but bank code 539 is unknown
        ("BE71096123456768", "iban_checksum"),
        ("BE7109612345", "iban_format"),
        ("not an iban", "iban_format"),
    ],
)
def test_invalid_iban_is_refused_with_its_reason(given, code):
    with pytest.raises(ValidationError) as error:
        clean_iban(given)
    assert error.value.code == code


@pytest.mark.parametrize("given", ["85073003328", "17073003384", "98472899765", "85.07.30-033.28"])
def test_valid_national_numbers_including_bis(given):
    assert clean_niss(given) == given.replace(".", "").replace("-", "")


@pytest.mark.parametrize(
    ("given", "code"),
    [("12345678901", "niss_checksum"), ("85073003329", "niss_checksum"), ("1234", "niss_format")],
)
def test_invalid_national_numbers(given, code):
    with pytest.raises(ValidationError) as error:
        clean_niss(given)
    assert error.value.code == code


def test_national_number_format():
    assert format_niss("85073003328") == "85.07.30-033.28"
