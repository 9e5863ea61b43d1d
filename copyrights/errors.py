from coop.errors import CoopError


class CopyrightError(CoopError):
    """A copyright payment rule refused the request."""
