from coop.errors import CoopError


class TaxformsError(CoopError):
    """A tax certificate or Belcotax rule refused the request."""
