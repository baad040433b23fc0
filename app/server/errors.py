"""The one place errors become HTTP problem responses (RFC 9457, ``application/problem+json``)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from app.errors import AccessDenied, GatewayError
from app.server.authentication import insufficient_scope_challenge
from app.validation import describe_problem

__all__ = ("PROBLEM_MEDIA_TYPE", "exception_handlers", "problem_response")

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("mcp_gateway")


def problem_response(status: int, code: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    """A problem document: ``{type, title, status, detail, code, …extra}``."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail, "code": code}
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _gateway_error(_: Request[Any, Any, Any], exc: GatewayError) -> Response[dict[str, Any]]:
    return problem_response(exc.status_code, exc.code, exc.message)


def _access_denied(request: Request[Any, Any, Any], exc: AccessDenied) -> Response[dict[str, Any]]:
    response = problem_response(403, exc.code, exc.message)
    settings = request.app.state.settings
    if settings.auth_required:
        response.headers["WWW-Authenticate"] = insufficient_scope_challenge(settings, request.url.path, exc.scopes)
    return response


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    # Litestar puts msgspec's findings in `extra` as [{"message", "key", "source"}]; surface the first.
    problems = exc.extra if isinstance(exc.extra, list) else []
    detail = exc.detail
    if problems and isinstance(problems[0], dict):
        first = problems[0]
        # msgspec reports a root-level body problem at the parameter name ("data"), not at a key.
        key = "" if first.get("key") == "data" else str(first.get("key") or "")
        detail = f"{first.get('source', 'body')}: {describe_problem(str(first.get('message')), key)}"
    return problem_response(400, "invalid_request", detail, errors=problems)


def _http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    response = problem_response(exc.status_code, code, exc.detail)
    response.headers.update(exc.headers or {})
    return response


def _integrity_error(_: Request[Any, Any, Any], exc: IntegrityError) -> Response[dict[str, Any]]:
    logger.warning("database constraint violated: %s", exc.orig)
    return problem_response(409, "conflict", "the change conflicts with a concurrent change; retry")


def _database_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    logger.error("database unavailable: %s", exc)
    return problem_response(503, "database_unavailable", "the database cannot be reached; retry later")


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal_error", "internal error; see the gateway log")


exception_handlers: ExceptionHandlersMap = {
    GatewayError: _gateway_error,
    AccessDenied: _access_denied,
    ValidationException: _validation_error,
    HTTPException: _http_exception,
    IntegrityError: _integrity_error,
    OperationalError: _database_unavailable,
    InterfaceError: _database_unavailable,
    ConnectionError: _database_unavailable,
    Exception: _internal_error,
}
"""Litestar picks the most specific class, so GatewayError subclasses keep their own status."""
