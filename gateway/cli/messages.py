"""What the CLI says to people, in Russian and English, and the language it says it in.

The language is the global ``mse-gateway --lang ru|en`` (``check --lang`` too), else the POSIX
locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``ru_*`` Russian, ``en_*`` English), else English —
``C``/``POSIX`` and unset locales are the untranslated default of Unix tools, and the CLI's output
is read by scripts in containers as often as by people (docs/languages.md). Machine-readable
output (``--json``) keeps its keys; codes never change. The catalogue is the shared
:class:`gateway.common.language.Catalogue`, as the UI's, the REST errors' and the FLK's.
"""

from __future__ import annotations

from typing import Final

import click

from gateway.cli._common import Context
from gateway.common.language import Catalogue, Language, locale_language

__all__ = ["CLI_TEXTS", "LANG_OPTION_HELP", "cli_language", "echo", "failure", "say"]

LANG_OPTION_HELP: Final = (
    "language of messages, reports and table headers (default: from the locale LC_ALL/LC_MESSAGES/LANG: "
    "ru_* Russian, en_* English, others English)"
)

CLI_TEXTS: Final = Catalogue(
    "CLI",
    {
        # shared
        "error": ("mse-gateway: {message}", "mse-gateway: {message}"),
        "config_invalid": ("конфигурация некорректна: {detail}", "the configuration is invalid: {detail}"),
        "no_journal": (
            "журнала нет по адресу {url} (запустите шлюз или выполните `mse-gateway db upgrade`)",
            "no journal at {url} (start the gateway or run `mse-gateway db upgrade`)",
        ),
        "schema_not_current": (
            "схема журнала устарела: выполните `mse-gateway db upgrade`",
            "the journal schema is not current: run `mse-gateway db upgrade`",
        ),
        "none": ("(нет)", "(none)"),
        # db, status
        "db.upgraded": ("схема: {before} -> {after}", "schema: {before} -> {after}"),
        "db.empty": ("пусто", "empty"),
        "status.total": ("всего", "total"),
        # check
        "check.passed": ("ПРОЙДЕНА", "PASSED"),
        "check.rejected": ("ОТКЛОНЕНА", "REJECTED"),
        "check.signatures": ("подписей: {n}, все действительны: {ok}", "signatures: {n}, all valid: {ok}"),
        "check.yes": ("да", "yes"),
        "check.no": ("нет", "no"),
        "check.warning": ("предупреждение", "warning"),
        "check.skipped": ("пропущено", "skipped"),
        "check.not_json": ("{path}: не читается как JSON: {error}", "{path}: cannot be read as JSON: {error}"),
        # verify
        "verify.headline": (
            "{verdict}: {format}, {how}, подписей: {n}",
            "{verdict}: {format}, {how}, {n} signature(s)",
        ),
        "verify.VALID": ("ДЕЙСТВИТЕЛЬНА", "VALID"),
        "verify.INVALID": ("НЕДЕЙСТВИТЕЛЬНА", "INVALID"),
        "verify.detached": ("откреплённая", "detached"),
        "verify.attached": ("присоединённая", "attached"),
        "verify.valid": ("действительна", "valid"),
        "verify.invalid": ("недействительна", "invalid"),
        "verify.unknown_signer": ("подписант неизвестен", "unknown signer"),
        "verify.title": ("      должность: {title}", "      title: {title}"),
        "verify.signing_time": ("      время подписи: {time} ({source})", "      signing time: {time} ({source})"),
        "verify.certificate": (
            "      сертификат {serial}, {start} .. {end}",
            "      certificate {serial}, {start} .. {end}",
        ),
        # clients
        "clients.created": (
            "клиент {name} создан; токен (сохраните сейчас, больше он не показывается):\n{token}",
            "client {name} created; token (store it now, it is not shown again):\n{token}",
        ),
        "clients.active": ("активен", "active"),
        "clients.revoked_state": ("отозван", "revoked"),
        "clients.revoked": ("клиент {name} отозван", "client {name} revoked"),
        "clients.callbacks": (
            "клиент {name}: узлы обратного вызова: {hosts}",
            "client {name} callback hosts: {hosts}",
        ),
        # users
        "users.exists": (
            "пользователь {name} уже есть (см. `users passwd`)",
            "user {name} already exists (use `users passwd`)",
        ),
        "users.created": ("пользователь {name} создан с ролью {role}", "user {name} created with role {role}"),
        "users.unknown": ("нет пользователя {name}", "no user {name}"),
        "users.password": ("пароль пользователя {name} изменён", "password of {name} changed"),
        "users.role": ("у {name} теперь роль {role}", "{name} is now {role}"),
        "users.disabled": ("{name} отключён", "{name} is disabled"),
        "users.enabled": ("{name} включён", "{name} is enabled"),
        "users.disabled_mark": (" (отключён)", " (disabled)"),
        # purge
        "purge.done": (
            "итоговых подач старше {cutoff} UTC: {n} — {verb}",
            "{n} final submissions older than {cutoff} UTC {verb}",
        ),
        "purge.would": ("будут обработаны (пробный прогон)", "would be"),
        "purge.anonymised": ("обезличены", "anonymised"),
        "purge.deleted": ("удалены", "deleted"),
        # requests
        "requests.unknown": ("REQUEST_UNKNOWN: нет запроса {id}", "REQUEST_UNKNOWN: no request {id}"),
        "requests.answer_label": ("ответ", "answer"),
        "requests.not_xml": ("ANSWER_NOT_XML: {path}: {error}", "ANSWER_NOT_XML: {path}: {error}"),
        "requests.recorded": (
            "ответ на {id} записан; он будет отправлен при следующем цикле приёма экземпляра",
            "answer to {id} recorded; it is sent at the instance's next receive round",
        ),
        # ops
        "ops.more_than": ("более {cap}", "more than {cap}"),
        "ops.total": (
            "всего {total} (страница {page} из {pages}){causes}",
            "total {total} (page {page} of {pages}){causes}",
        ),
        "ops.preview": (
            "документов к действию «{verb}»: {n} (выбрано {matched}{skipped})",
            "{n} documents will be {verb} ({matched} selected{skipped})",
        ),
        "ops.not_applicable": ("; неприменимо: {list}", "; not applicable: {list}"),
        "ops.verb.resend": ("повторная отправка", "resent"),
        "ops.verb.resolve": ("отметить решёнными", "marked resolved"),
        "ops.verb.cancel": ("отмена", "cancelled"),
        "ops.too_many": (
            "выборка больше {max}: сузьте фильтр",
            "the selection is larger than {max}: narrow the filter",
        ),
        "ops.preview_only": (
            "только просмотр: добавьте --yes --comment '…', чтобы выполнить",
            "preview only: add --yes --comment '…' to carry it out",
        ),
        "ops.done": (
            "выполнено: {ok}; отказано (состояние изменилось): {refused}; не найдено: {missing}",
            "done: {ok}; refused (state changed): {refused}; missing: {missing}",
        ),
        "ops.need_filter": (
            "укажите --filter или --id: действие над всем журналом случайно не выполняется",
            "give --filter or --id: an action on the whole journal is not taken by accident",
        ),
        "ops.need_comment": ("для действия нужен --comment", "--comment is required to act"),
        "ops.token_live": ("действует", "live"),
        "ops.token_revoked_state": ("отозван", "revoked"),
        "ops.no_token": ("нет действующего токена {name}", "no live token named {name}"),
        "ops.token_revoked": ("токен {name} отозван", "token {name} revoked"),
    },
)


def cli_language(explicit: str | None = None) -> Language:
    """``explicit`` (a command's own ``--lang``), else the global ``--lang``, else the locale."""
    if explicit in ("ru", "en"):
        return "ru" if explicit == "ru" else "en"
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Context) if ctx is not None else None
    if obj is not None and obj.lang is not None:
        return obj.lang
    return locale_language(default="en")


def say(key: str, **params: object) -> str:
    """The text ``key`` in the CLI's language."""
    return CLI_TEXTS.get_text(cli_language(), key, **params)


def echo(key: str, *, err: bool = False, **params: object) -> None:
    click.echo(say(key, **params), err=err)


def failure(key: str, **params: object) -> click.ClickException:
    """A ClickException (exit 1, ``Error: …``) worded in the CLI's language."""
    return click.ClickException(say(key, **params))
