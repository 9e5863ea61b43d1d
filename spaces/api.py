"""REST API of this app; ``register`` adds its viewsets to the version 1 router."""


def register(router) -> None:
    """Add this app's viewsets to the API router."""
