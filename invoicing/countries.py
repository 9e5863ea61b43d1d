"""Countries of clients: every ISO 3166-1 alpha-2 code, named in the reader's language.

The list and its French and Dutch names come from django-countries (its ISO 3166-1 data and
translation catalogs); which countries are EU member states is a VAT matter (invoicing.vat).
"""

from django.utils.translation import get_language
from django_countries import countries

from invoicing.vat import HOME_COUNTRY

# Sorting the names in a language costs a member page milliseconds: done once per process.
_CHOICES_BY_LANGUAGE: dict[str | None, list[tuple[str, str]]] = {}


def is_country(code: str) -> bool:
    return code in countries


def country_name(code: str) -> str:
    """The country's name in the active language; the code itself when unknown."""
    return str(countries.name(code)) or code


def country_choices() -> list[tuple[str, str]]:
    """All countries sorted by name in the active language, Belgium first."""
    language = get_language()
    choices = _CHOICES_BY_LANGUAGE.get(language)
    if choices is None:
        choices = [(code, str(name)) for code, name in countries]
        choices.sort(key=lambda choice: choice[0] != HOME_COUNTRY)
        _CHOICES_BY_LANGUAGE[language] = choices
    return list(choices)


COUNTRY_CODES = sorted(code for code, _name in countries)
