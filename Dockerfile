# syntax=docker/dockerfile:1
# coop's production image. By default gunicorn serves coop.wsgi on port 8000; the same image runs
# the migrations, the Celery worker and Celery beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH \
    COOP_ENV=production \
    MEDIA_ROOT=/app/var/media \
    WEB_CONCURRENCY=3

# WeasyPrint (invoice and payslip PDFs) needs Pango and HarfBuzz (HarfBuzz-Subset cuts the
# embedded font subsets fast). The PDFs use DejaVu Sans, with Droid Sans Fallback for Chinese,
# Japanese and Korean and Symbola for emoji (coop/pdf_font_stack.py: the same packages as
# "python3 dev.py" installs), so that a document lays out the same here as on a development
# machine. "manage.py backup" and "restore" need pg_dump and pg_restore at least as new as the
# server (PostgreSQL 18 in docker-compose.yml): Debian ships 15, so they come from the
# PostgreSQL project's repository (postgresql-common holds its key).
RUN apt-get update \
    && apt-get install --yes --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-dejavu-core fonts-droid-fallback fonts-wqy-microhei fonts-symbola \
        postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install --yes --no-install-recommends postgresql-client-18 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system coop \
    && useradd --system --gid coop --create-home --home-dir /home/coop \
        --shell /usr/sbin/nologin coop

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. uv comes from pip at the
# version pinned in uv.lock (read by dev.py, like in development) and is removed afterwards.
# The base image's Python is named in full: once /app/.venv exists, "python" is the venv's.
COPY dev.py pyproject.toml uv.lock ./
RUN /usr/local/bin/python -m pip install --no-cache-dir --disable-pip-version-check \
        "uv==$(/usr/local/bin/python -c 'import dev; print(dev.pinned_uv_version())')" \
    && uv sync --frozen --no-dev --no-cache \
    && /usr/local/bin/python -m pip uninstall --yes --disable-pip-version-check uv

COPY . .

# Collect the static files with the production storage (hashed names and a manifest, served by
# WhiteNoise). The production settings refuse to load without secrets, so this one step gets
# throwaway values; they are not kept in the image.
RUN SECRET_KEY=collectstatic-only-collectstatic-only-collectstatic-only \
    FIELD_ENCRYPTION_KEY=collectstatic-only \
    python manage.py collectstatic --noinput \
    && mkdir -p "$MEDIA_ROOT" \
    && chown coop:coop "$MEDIA_ROOT"

# The code stays owned by root: the application can write to MEDIA_ROOT (a volume) and /tmp only.
USER coop

EXPOSE 8000
CMD ["gunicorn", "coop.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
