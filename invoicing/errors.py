from coop.errors import CoopError


class InvoicingError(CoopError):
    """An invoicing rule refused the request."""
