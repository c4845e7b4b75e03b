"""The UI's request pipeline: language, session, role and CSRF checks, security headers.

The session cookie holds a random token (the database keeps its hash); it is HttpOnly,
SameSite=Strict, scoped to /ui and Secure when served over https. Every POST must carry the
session's CSRF token in the form (``csrf``); the login form, which has no session yet, uses a
double-submit cookie instead.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway.appkeys import CONFIG_KEY, JOURNAL_KEY
from gateway.common.language import preferred_language
from gateway.ui.config import UiConfig
from gateway.ui.i18n import LANGUAGES, Language
from gateway.ui.throttle import LoginThrottle
from gateway.ui.users import Role, Session, UserStore

__all__ = [
    "CSRF_FIELD",
    "LANG_COOKIE",
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "UI_KEY",
    "UiState",
    "current_language",
    "current_session",
    "is_https",
    "require",
    "ui_middleware",
]

SESSION_COOKIE: Final = "mseg_ui_session"
LOGIN_CSRF_COOKIE: Final = "mseg_ui_login_csrf"
LANG_COOKIE: Final = "mseg_ui_lang"
CSRF_FIELD: Final = "csrf"
PREFIX: Final = "/ui"
_PUBLIC: Final = frozenset({f"{PREFIX}/login", f"{PREFIX}/lang"})
_SESSION: Final = web.RequestKey("ui_session", Session)
_LANG: Final = web.RequestKey("ui_lang", str)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# No script at all; styles and images from this origin only; no framing (clickjacking on actions).
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class UiState:
    """Shared by the UI's handlers; the user store is built at the first request, once the
    journal (and its engine) exists."""

    config: UiConfig
    users: UserStore | None = None
    throttle: LoginThrottle | None = None

    def user_store(self, request: web.Request) -> UserStore:
        if self.users is None:
            journal = request.config_dict[JOURNAL_KEY]
            self.users = UserStore(
                journal.engine,
                clock=journal.clock,
                idle=timedelta(minutes=self.config.session_idle_minutes),
                max_age=timedelta(hours=self.config.session_max_hours),
            )
        return self.users

    def login_throttle(self, request: web.Request) -> LoginThrottle:
        if self.throttle is None:
            self.throttle = LoginThrottle(
                max_failures=self.config.login_max_failures,
                window=timedelta(minutes=self.config.login_lockout_minutes),
                max_delay=timedelta(seconds=self.config.login_max_delay_seconds),
                clock=request.config_dict[JOURNAL_KEY].clock,
            )
        return self.throttle


UI_KEY: Final = web.AppKey("ui_state", UiState)


def is_https(request: web.Request, config: UiConfig) -> bool:
    if config.secure_cookies == "always":
        return True
    if config.secure_cookies == "never":
        return False
    if config.trust_forwarded_proto:
        return request.headers.get("X-Forwarded-Proto", "").lower() == "https" or request.secure
    return request.secure


def current_session(request: web.Request) -> Session | None:
    return request.get(_SESSION)


def current_language(request: web.Request) -> Language:
    lang = request.get(_LANG, "ru")
    return "en" if lang == "en" else "ru"


def _pick_language(request: web.Request, default: Language) -> Language:
    """The reader's explicit choice (the RU/EN switch's cookie), else the browser's
    ``Accept-Language``, else ``ui.default_language`` (docs/languages.md)."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    for lang in LANGUAGES:
        if chosen == lang:
            return lang
    return preferred_language(request.headers.get("Accept-Language"), default)


def ui_middleware(*, forbidden: Callable[[web.Request, str], web.Response]) -> Middleware:
    """Authenticate every /ui path but the login form and the language switch, check CSRF on
    every POST, and add the security headers. ``forbidden(request, message_key)`` renders a 403."""

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        state = request.config_dict[UI_KEY]
        request[_LANG] = _pick_language(request, state.config.default_language)
        if request.path.startswith(f"{PREFIX}/static/"):
            return await handler(request)
        session: Session | None = None
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            session = await state.user_store(request).session(token)
        if session is not None:
            request[_SESSION] = session
        public = request.path in _PUBLIC or (
            request.path.startswith(f"{PREFIX}/sandbox") and request.config_dict[CONFIG_KEY].sandbox.vendor_page
        )
        if not public and session is None:
            if request.method in ("GET", "HEAD"):
                raise web.HTTPFound(f"{PREFIX}/login")
            response: web.StreamResponse = forbidden(request, "err.forbidden")
        elif request.method == "POST" and not await _csrf_ok(request, session):
            response = forbidden(request, "err.csrf")
        else:
            response = await handler(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # The page's language depends on these two request headers (a shared cache must know).
        response.headers.setdefault("Content-Language", request[_LANG])
        response.headers.setdefault("Vary", "Accept-Language, Cookie")
        return response

    return middleware


async def _csrf_ok(request: web.Request, session: Session | None) -> bool:
    form = await request.post()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not sent:
        return False
    # Without a session (the login form) the token is a double-submit cookie.
    expected = session.csrf_token if session is not None else request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(expected) and secrets.compare_digest(sent, expected)


def require(request: web.Request, role: Role) -> Session | None:
    """The session if its role is at least ``role``; None otherwise (the caller answers 403)."""
    session = current_session(request)
    return session if session is not None and session.role.at_least(role) else None
