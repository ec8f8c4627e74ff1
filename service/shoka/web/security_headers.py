"""Security headers on every response (REQUIREMENTS §9): no framing, no MIME sniffing, a strict CSP that
allows only the site's own scripts and styles, and no referrer leaking search terms to other sites."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# The interactive API documentation loads its script and styles from a CDN; give it its own policy.
DOCUMENTATION_PREFIX = "/schema"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in SECURITY_HEADERS.items():
                    if name == "Content-Security-Policy" and scope["path"].startswith(DOCUMENTATION_PREFIX):
                        continue
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
