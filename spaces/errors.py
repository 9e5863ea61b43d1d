from coop.errors import CoopError


class BookingError(CoopError):
    """A booking, lease or room rule refused the request."""
