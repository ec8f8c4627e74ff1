"""The one mapping from failures to HTTP answers.

Domain code raises `ShokaError` subclasses that carry a stable machine code and a message for people; the
service turns them, Litestar's own validation and routing errors, and anything unexpected into
`{"code", "message"}` JSON (API) or a short HTML page (OPAC and staff pages). Bad input is always a 4xx; a 500
means a bug, is logged with its traceback, and says nothing of internals.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException, ValidationException

logger = logging.getLogger(__name__)


class ErrorBody(msgspec.Struct, frozen=True):
    code: str
    message: str


class ShokaError(Exception):
    """Base of every error a client can cause; subclasses fix the status and a default code."""

    status_code = HTTPStatus.BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidRequest(ShokaError):
    status_code = HTTPStatus.BAD_REQUEST
    code = "invalid_request"


class NotAuthenticated(ShokaError):
    status_code = HTTPStatus.UNAUTHORIZED
    code = "not_authenticated"


class LoginRequired(NotAuthenticated):
    """A page needs a login: a browser is sent to `login_url` (which returns it to the page afterwards); a
    script's fetch gets 401 JSON and can ask the user to log in again without losing what is on screen."""

    code = "login_required"

    def __init__(self, message: str, *, login_url: str) -> None:
        super().__init__(message)
        self.login_url = login_url


class Forbidden(ShokaError):
    status_code = HTTPStatus.FORBIDDEN
    code = "forbidden"


class NotFound(ShokaError):
    status_code = HTTPStatus.NOT_FOUND
    code = "not_found"


class Conflict(ShokaError):
    status_code = HTTPStatus.CONFLICT
    code = "conflict"


class Unprocessable(ShokaError):
    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "unprocessable"


class Locked(ShokaError):
    status_code = HTTPStatus.LOCKED
    code = "locked"


class TooManyRequests(ShokaError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS
    code = "too_many_requests"


class Unavailable(ShokaError):
    """Nothing is wrong with the request, but it cannot be carried out this moment: the client retries after
    Retry-After seconds."""

    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "unavailable"
    retry_after_seconds = 1


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/schema", "/healthz", "/sru")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _respond(request: Request, status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response:
    if _wants_html(request):
        from shoka.web.pages import render_error_page  # the page layer depends on this module, not the reverse

        return render_error_page(request, status, body.code, body.message)
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


def handle_shoka_error(request: Request, error: ShokaError) -> Response:
    if isinstance(error, LoginRequired) and _wants_html(request):
        return Response(content=b"", status_code=303, headers={"Location": error.login_url, "Cache-Control": "no-store"})
    headers = {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, Unavailable) else None
    return _respond(request, int(error.status_code), ErrorBody(error.code, error.message), headers)


def handle_http_exception(request: Request, error: HTTPException) -> Response:
    status = error.status_code
    if isinstance(error, ValidationException):
        problems = "; ".join(
            f"{item.get('key') or item.get('source') or 'body'}: {item.get('message')}"
            for item in (error.extra or []) if isinstance(item, dict))
        message = f"invalid request: {problems or error.detail}"
        return _respond(request, status, ErrorBody("invalid_request", message))
    if isinstance(error, NotAuthorizedException):
        return _respond(request, status, ErrorBody("not_authenticated", error.detail or "authentication required"),
                        headers={"WWW-Authenticate": "Bearer"})
    if isinstance(error, PermissionDeniedException):
        return _respond(request, status, ErrorBody("forbidden", error.detail or "not allowed for this role"))
    code = HTTPStatus(status).phrase.lower().replace(" ", "_") if status in HTTPStatus._value2member_map_ else "error"
    return _respond(request, status, ErrorBody(code, error.detail or HTTPStatus(status).phrase),
                    headers=dict(error.headers or {}))


def handle_unexpected_error(request: Request, error: Exception) -> Response:
    logger.exception("unhandled error", extra={"path_template": request.scope.get("path_template", "")})
    return _respond(request, 500, ErrorBody("internal_error", "an internal error occurred; it has been logged"))


def handle_engine_error(request: Request, error: Exception) -> Response:
    """The engine's exception tree (shoka._engine), mapped to HTTP once."""
    from shoka import _engine

    if isinstance(error, _engine.QueryError):
        return _respond(request, 400, ErrorBody("invalid_query", str(error)))
    if isinstance(error, _engine.IndexUnavailableError):
        logger.error("search index unavailable: %s", error)
        return _respond(request, 503, ErrorBody("index_unavailable", "the search index is not available; retry shortly"))
    return handle_unexpected_error(request, error)


def _engine_handlers() -> dict:
    from shoka import _engine

    return {_engine.EngineError: handle_engine_error}


EXCEPTION_HANDLERS = {
    **_engine_handlers(),
    ShokaError: handle_shoka_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected_error,
}
