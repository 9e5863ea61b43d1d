from coop.errors import CoopError


class DeclarationsError(CoopError):
    """A quarterly or yearly declaration could not be made as asked."""
