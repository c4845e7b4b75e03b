"""``GET``/``POST /_sandbox/profile`` of every sandbox twin: the fault profile in force, or switch it
at run time (``{"profile": "painful"}``; the sandbox's vendor page does this). One handler for all
twins so that each answers the vendor page the same way; each twin says how to load and apply a
profile of its own protocol. What a twin already accepted keeps the fate it drew."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from aiohttp import web

from gateway.common.logs import get_logger
from gateway.errors import ConfigError

__all__ = ["PROFILE_PATH", "add_profile_route", "profile_key"]

PROFILE_PATH: Final = "/_sandbox/profile"
# A name from config/faults, never a path: the endpoint is unauthenticated on loopback.
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

_log = get_logger("gateway.sandbox.twin")


def profile_key(name: str, prefix: str = "") -> str:
    """The name the vendor page lists: ``smev3-painful`` → ``painful`` for prefix ``smev3-``."""
    return name[len(prefix) :] if prefix and name.startswith(prefix) else name


def add_profile_route(
    app: web.Application,
    *,
    what: str,
    current: Callable[[], str],
    switch: Callable[[str], None],
) -> None:
    """Mount the profile endpoint on a twin's ``app``. ``current()`` is the name in force (as the
    plug-in's ``fault_profiles()`` lists it); ``switch(name)`` loads and applies a profile by name,
    raising ConfigError (or ValueError) when there is none such."""

    async def handle(request: web.Request) -> web.Response:
        if request.method == "POST":
            try:
                body = await request.json()
                name = str(body["profile"])
                if not _NAME_RE.match(name):
                    raise ValueError(f"not a profile name: {name[:80]!r}")
                before = current()
                switch(name)
            except (ValueError, KeyError, TypeError) as exc:
                return web.json_response({"error": {"code": "BAD_PROFILE", "message": str(exc)}}, status=400)
            except ConfigError as exc:
                return web.json_response({"error": {"code": "BAD_PROFILE", "message": exc.message}}, status=400)
            _log.info("twin fault profile switched", twin=what, before=before, profile=current())
        elif request.method != "GET":
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST"])
        return web.json_response({"profile": current(), "twin": what})

    app.router.add_route("*", PROFILE_PATH, handle)
