# The production image: gunicorn for `web`, the same image for the Celery `worker` and `beat`.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH

# Pango and a font for the PDF receipts (WeasyPrint), from Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir uv==0.13.9 \
    && useradd --system --create-home --home-dir /home/app --uid 10001 app

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-cache

COPY . .

# Static files are built into the image (WhiteNoise serves them); the throwaway values only
# let the settings load, nothing is kept.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-at-build-time-only \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput \
    && rm -rf /app/var && mkdir -p /app/var/media \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

CMD ["gunicorn", "changemakers.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
