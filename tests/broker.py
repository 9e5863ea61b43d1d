"""Reading the real broker in tests: which task messages wait in a queue."""

import json
from collections import Counter

import redis
from django.conf import settings


def waiting_messages(queue: str) -> Counter:
    """Count the messages waiting in a Redis queue by (task name, arguments as written)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        messages = [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
    finally:
        client.close()
    return Counter((m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages)
