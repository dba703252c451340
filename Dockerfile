# The portal's production image: one image, five processes (see Procfile and compose.yaml).
#   docker build -t identity-portal .
# The default command is the web server; compose.yaml runs ws, worker, beat and the
# migrations from the same image with other commands.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PORT=8000

WORKDIR /app

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

# Dependencies first, so code changes do not reinstall them (every pin has a manylinux wheel).
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image (whitenoise serves them with hashed names).
# collectstatic reads the production settings, which need these; the values live only in
# this build step and are never used at run time (nothing is sent while collecting).
RUN SECRET_KEY="collectstatic-only-$(python -c 'import secrets; print(secrets.token_hex(32))')" \
    ALLOWED_HOSTS=localhost \
    EMAIL_URL=smtp://localhost:25 \
    SMS_BACKEND=file \
    FIELD_ENCRYPTION_KEYS="$(python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" \
    OIDC_RSA_PRIVATE_KEY="$(python -c 'from pathlib import Path; from config.settings.base import development_signing_key as k; print(k(Path("/tmp/collectstatic-oidc.pem")))')" \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p var \
    && chown -R app:app var

USER app

EXPOSE 8000 8001

# /healthz answers 200 when the database and the broker are reachable. It is exempt from the
# https redirect; the Host header must be one of ALLOWED_HOSTS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, sys, urllib.request as u; host = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('*.') or 'localhost'; r = u.urlopen(u.Request('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', headers={'Host': host}), timeout=4); sys.exit(0 if r.status == 200 else 1)"

CMD ["sh", "-c", "exec gunicorn config.wsgi:application --config gunicorn.conf.py --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-3} --threads ${WEB_THREADS:-4} --timeout 30 --graceful-timeout 30 --max-requests 2000 --max-requests-jitter 200 --access-logfile - --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-*}\""]
