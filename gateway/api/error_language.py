"""REST errors in the reader's language: ``Accept-Language`` picks Russian or English.

``error.code`` is the contract and never changes. ``error.message`` is English, as the gateway
writes it, unless the caller prefers Russian: then it is the Russian text of the code from this
catalogue, and the English original moves to ``error.details.message_en`` (it names fields and
values the general text does not). Codes not in the catalogue keep their English message.
The response says which language it chose (``Content-Language``).
"""

from __future__ import annotations

from typing import Final

from gateway.model import ErrorCode

__all__ = ["RU_MESSAGES", "localise_error", "preferred_language"]

RU_MESSAGES: Final[dict[str, str]] = {
    ErrorCode.DUPLICATE_CONFLICT: "Этот localUid уже принят с другим содержимым, и он ещё может быть зарегистрирован",
    ErrorCode.NOT_FOUND: "Не найдено",
    ErrorCode.UNAUTHORIZED: "Нужен действующий токен клиента (Authorization: Bearer …)",
    ErrorCode.FORBIDDEN: "Клиенту это не разрешено (source_system или организация не его)",
    ErrorCode.SCHEMA_INVALID: "Подача не соответствует схеме (ошибки по полям — в details)",
    ErrorCode.MALFORMED_JSON: "Тело запроса не является корректным JSON",
    ErrorCode.PAYLOAD_TOO_LARGE: "Тело запроса больше допустимого размера",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "Этот тип содержимого здесь не принимается",
    ErrorCode.JSON_LIMIT_EXCEEDED: "JSON превышает допустимую вложенность или размер",
    ErrorCode.INVALID_CHARACTER: "Недопустимый символ во входных данных",
    ErrorCode.CALLBACK_NOT_ALLOWED: "Адрес обратного вызова не разрешён для этого клиента",
    ErrorCode.OVERLOADED: "Шлюз перегружен: повторите позже (Retry-After)",
    ErrorCode.STORE_UNAVAILABLE: "Журнал недоступен: повторите позже",
    ErrorCode.INTERNAL_ERROR: "Внутренняя ошибка; сообщите оператору шлюза request_id",
    ErrorCode.NO_ROUTE: "Для этого вида документа и региона нет маршрута",
    ErrorCode.DOCUMENT_UNREADABLE: "Документ не читается",
}


def preferred_language(accept_language: str | None) -> str:
    """``ru`` or ``en`` from an Accept-Language header (quality values honoured); ``en`` when
    neither is asked for."""
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("ru", "en"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best if best_q > 0 else "en"


def localise_error(error: dict[str, object], language: str) -> dict[str, object]:
    """The ``error`` object in ``language`` (see the module docstring)."""
    text = RU_MESSAGES.get(str(error.get("code"))) if language == "ru" else None
    if text is None:
        return error
    raw = error.get("details")
    details: dict[str, object] = dict(raw) if isinstance(raw, dict) else {}
    details["message_en"] = error.get("message")
    return {**error, "message": text, "details": details}
