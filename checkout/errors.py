from coop.errors import CoopError


class CheckoutError(CoopError):
    """A rule of online payment refused the request."""
