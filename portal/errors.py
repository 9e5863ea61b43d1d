from coop.errors import CoopError


class PortalError(CoopError):
    """A portal rule refused the request."""
