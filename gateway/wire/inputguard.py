"""Refuse, at the edge, text that no handler can store: NUL in the path, the query or a form.

PostgreSQL ``text`` cannot hold NUL, so a ``%00`` anywhere a handler passed on to the journal (a
path id, ``?local_uid=``, the UI's search form, the login form's username) ended as a 500 from the
driver. One middleware covers every route, present and future, before any handler runs; JSON
bodies are checked where they are decoded (gateway.wire.jsonlimits) and XML cannot carry NUL at all.
A form body aiohttp cannot decode at all is refused here as well, with the same code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway.errors import InvalidCharacter
from gateway.wire.textcheck import describe, first_unstorable, printable

__all__ = ["input_guard_middleware"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _refuse(where: str, char: str) -> InvalidCharacter:
    return InvalidCharacter(
        f"{where} contains {describe(char)}, which is not allowed",
        details={"errors": [{"field": printable(where)[:200], "message": f"contains {describe(char)}"}]},
    )


def input_guard_middleware() -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if (char := first_unstorable(request.path)) is not None:
            raise _refuse("the path", char)
        for key, value in request.query.items():
            for text in (key, value):
                if (char := first_unstorable(text)) is not None:
                    raise _refuse(f"query parameter {key}", char)
        if request.method == "POST" and request.content_type in _FORM_TYPES:
            try:
                form = await request.post()  # cached by aiohttp: the handler reads the same
            except (UnicodeDecodeError, ValueError):
                raise InvalidCharacter("the form is not valid text in its charset") from None
            for key, field in form.items():
                texts = (key, field) if isinstance(field, str) else (key,)  # files are not text
                for field_text in texts:
                    if (char := first_unstorable(field_text)) is not None:
                        raise _refuse(f"form field {key}", char)
        return await handler(request)

    return middleware
