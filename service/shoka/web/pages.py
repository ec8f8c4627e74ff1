"""Rendering pages: the template engine, the context every page gets, and the HTML error page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from shoka.web.i18n import LANGUAGE_COOKIE, MESSAGES, request_language, translator

TEMPLATE_FOLDERS = [Path(__file__).parent / "templates", Path(__file__).parents[1] / "opac" / "templates"]

TEMPLATE_CONFIG = TemplateConfig(directory=TEMPLATE_FOLDERS, engine=JinjaTemplateEngine)


def page(request: Request, template_name: str, *, status_code: int = 200, **context: Any) -> Template:
    language = request_language(request)
    response = Template(template_name=template_name, status_code=status_code, context={
        "lang": language, "t": translator(language), "request_path": request.url.path, **context})
    if request.query_params.get("lang") in ("ja", "en"):
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


def render_error_page(request: Request, status_code: int, code: str, message: str) -> Response:
    language = request_language(request)
    engine = request.app.template_engine
    html = engine.get_template("error.html").render(
        lang=language, t=translator(language), request_path=request.url.path,
        status_code=status_code, code=code, message=message)
    return Response(content=html, status_code=status_code, media_type="text/html; charset=utf-8")


__all__ = ["MESSAGES", "TEMPLATE_CONFIG", "page", "render_error_page"]
