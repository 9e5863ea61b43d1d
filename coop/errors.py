"""The base of every domain error.

Services raise a subclass (``MembersError``, ``InvoicingError``…) with a translatable message;
the API maps it to HTTP 400 and browser views show it as a form error.
"""


class CoopError(Exception):
    """A business rule refused the request; ``message`` is shown to the user as it is."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
