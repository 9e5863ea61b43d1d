from coop.errors import CoopError


class QuotingError(CoopError):
    """A quoting rule refused the request."""
