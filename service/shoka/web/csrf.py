"""CSRF protection of every HTML form that changes state (Litestar's CSRF middleware, double-submit cookie).

The secret is shared by every worker process and machine of one installation, so it lives in the database
(service_secret 'csrf_secret', made once) like the token signing key. The JSON API (Bearer tokens, no cookies),
SRU, the OpenAPI pages, health checks and static files are excluded: they hold no cookie-authenticated state.
Forms put `{{ csrf_input | safe }}` inside; a POST without the matching token gets 403.
"""

from __future__ import annotations

import secrets

import psycopg
from litestar.config.csrf import CSRFConfig

from shoka.web.web_settings import web_settings

CSRF_COOKIE = "shoka_csrf"
CSRF_FIELD = "_csrf_token"
CSRF_EXCLUDED_PATHS = ["^/api/", "^/sru", "^/schema", "^/healthz", "^/static/", "^/opensearch\\.xml"]


def load_shared_secret(database_url: str, name: str) -> bytes | None:
    """The named secret from service_secret, created on first use; None when the schema is not there yet."""
    try:
        with psycopg.connect(database_url, autocommit=True) as connection:
            with connection.transaction():
                connection.execute("INSERT INTO service_secret (name, value) VALUES (%s, %s) "
                                   "ON CONFLICT (name) DO NOTHING", [name, secrets.token_bytes(32)])
                row = connection.execute("SELECT value FROM service_secret WHERE name = %s", [name]).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return bytes(row[0])


def opac_csrf_config(database_url: str) -> CSRFConfig:
    # Without a schema the application refuses to start anyway (lifespan); a throw-away secret is then harmless.
    secret = load_shared_secret(database_url, "csrf_secret") or secrets.token_bytes(32)
    return CSRFConfig(secret=secret.hex(), cookie_name=CSRF_COOKIE, cookie_httponly=True, cookie_samesite="lax",
                      cookie_secure=web_settings().secure_cookies, header_name="x-csrf-token",
                      exclude=CSRF_EXCLUDED_PATHS)
