"""coop: a web platform for freelancer cooperatives."""

from .celery import app as celery_app

__all__ = ["celery_app"]
