"""Fixtures of the other apps that the audit tests drive."""

from tests.invoicing.conftest import belgian_client, draft, no_review  # noqa: F401
from tests.spaces.conftest import house_activity, room, site  # noqa: F401
