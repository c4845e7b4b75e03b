"""REST errors in the reader's language: ``Accept-Language`` picks Russian or English.

``error.code`` is the contract and never changes. ``error.message`` is English, as the gateway
writes it (it names fields and values), unless the caller prefers Russian: then it is the Russian
text of the code from :data:`ERROR_TEXTS`, and the English original moves to
``error.details.message_en``. Every :class:`~gateway.model.ErrorCode` has a text in both languages
(a test walks the enum); other codes (``HTTP_405``…) keep their English message. The response says
which language it chose (``Content-Language``). The mechanism is the shared one of
:mod:`gateway.common.language`.
"""

from __future__ import annotations

from typing import Final

from gateway.common.language import Catalogue, Language, preferred_language
from gateway.model import ErrorCode

__all__ = ["ERROR_TEXTS", "localise_error", "preferred_language"]

ERROR_TEXTS: Final = Catalogue(
    "REST errors",
    {
        ErrorCode.CONFIG_INVALID: ("Конфигурация шлюза некорректна", "The gateway's configuration is invalid"),
        ErrorCode.DUPLICATE_CONFLICT: (
            "Этот localUid уже принят с другим содержимым, и он ещё может быть зарегистрирован",
            "This localUid was already accepted with other content and may still be registered",
        ),
        ErrorCode.ILLEGAL_TRANSITION: (
            "Действие невозможно в текущем состоянии подачи",
            "Not possible in the submission's current state",
        ),
        ErrorCode.CONCURRENT_UPDATE: (
            "Подача изменена одновременно другим процессом: повторите",
            "The submission was changed concurrently: try again",
        ),
        ErrorCode.NOT_FOUND: ("Не найдено", "Not found"),
        ErrorCode.XML_FORBIDDEN_CONSTRUCT: (
            "XML содержит запрещённую конструкцию (DTD, сущности)",
            "The XML holds a forbidden construct (DTD, entities)",
        ),
        ErrorCode.XML_MALFORMED: ("XML некорректен", "The XML is malformed"),
        ErrorCode.UNAUTHORIZED: (
            "Нужен действующий токен клиента (Authorization: Bearer …)",
            "A valid client token is needed (Authorization: Bearer …)",
        ),
        ErrorCode.FORBIDDEN: (
            "Клиенту это не разрешено (source_system или организация не его)",
            "The client may not do this (the source_system or organisation is not its own)",
        ),
        ErrorCode.SCHEMA_INVALID: (
            "Подача не соответствует схеме (ошибки по полям — в details)",
            "The submission does not match the schema (errors by field in details)",
        ),
        ErrorCode.MALFORMED_JSON: ("Тело запроса не является корректным JSON", "The request body is not valid JSON"),
        ErrorCode.PAYLOAD_TOO_LARGE: (
            "Тело запроса больше допустимого размера",
            "The request body is larger than allowed",
        ),
        ErrorCode.UNSUPPORTED_MEDIA_TYPE: (
            "Этот тип содержимого здесь не принимается",
            "This media type is not accepted here",
        ),
        ErrorCode.JSON_LIMIT_EXCEEDED: (
            "JSON превышает допустимую вложенность или размер",
            "The JSON exceeds the allowed nesting or size",
        ),
        ErrorCode.INVALID_CHARACTER: ("Недопустимый символ во входных данных", "An invalid character in the input"),
        ErrorCode.CALLBACK_NOT_ALLOWED: (
            "Адрес обратного вызова не разрешён для этого клиента",
            "The callback URL is not allowed for this client",
        ),
        ErrorCode.OVERLOADED: (
            "Шлюз перегружен: повторите позже (Retry-After)",
            "The gateway is overloaded: try again later (Retry-After)",
        ),
        ErrorCode.STORE_UNAVAILABLE: ("Журнал недоступен: повторите позже", "The journal is unavailable: try later"),
        ErrorCode.INTERNAL_ERROR: (
            "Внутренняя ошибка; сообщите оператору шлюза request_id",
            "Internal error; quote the request_id to the gateway's operator",
        ),
        ErrorCode.NO_ROUTE: (
            "Для этого вида документа и региона нет маршрута",
            "No route for this document kind and region",
        ),
        ErrorCode.DOCUMENT_UNREADABLE: ("Документ не читается", "The document cannot be read"),
    },
)


def localise_error(error: dict[str, object], language: Language | str) -> dict[str, object]:
    """The ``error`` object in ``language`` (see the module docstring)."""
    code = str(error.get("code"))
    if language != "ru" or code not in ERROR_TEXTS:
        return error
    raw = error.get("details")
    details: dict[str, object] = dict(raw) if isinstance(raw, dict) else {}
    details["message_en"] = error.get("message")
    return {**error, "message": ERROR_TEXTS[code][0], "details": details}
