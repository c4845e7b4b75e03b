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
        # shared, for every command
        "connection_failed": (
            "база данных журнала недоступна: {detail} ({url})",
            "the journal database cannot be reached: {detail} ({url})",
        ),
        "not_iso_time": ("не дата-время ISO 8601: {value}", "not an ISO 8601 date-time: {value}"),
        "cannot_read": ("не удаётся прочитать {what}: {reason}", "cannot read {what}: {reason}"),
        "read.key": ("ключ", "the key"),
        "read.certificate": ("сертификат", "the certificate"),
        "read.a_certificate": ("файл сертификата", "a certificate"),
        "read.chain": ("файл цепочки", "a chain file"),
        "read.content": ("подписанные данные", "the content"),
        "read.document": ("документ", "the document"),
        "read.signature": ("подпись", "the signature"),
        "period.bad": (
            "{text}: положительное число с d (дни), w, m или y, напр. 365d или 5y",
            "{text}: a positive number of d (days), w, m or y, e.g. 365d or 5y",
        ),
        "at_least_1": ("не меньше 1", "at least 1"),
        "zero_or_more": ("0 или больше", "0 or more"),
        "db.behind": (
            "схема журнала в ревизии {revision}, ожидается {head}: выполните `db upgrade`",
            "journal schema is at {revision}, expected {head}: run `db upgrade`",
        ),
        # serve, sandbox
        "serve.locked": (
            "{directory} занят {who} (блокировка {lock}); один процесс шлюза на каталог данных SQLite — "
            "остановите его, выберите другой --data-dir или используйте PostgreSQL (storage.database_url), "
            "чтобы запустить несколько процессов",
            "{directory} is in use by {who} (lock {lock}); one gateway process per SQLite data directory — "
            "stop it, choose another --data-dir, or use PostgreSQL (storage.database_url) to run several processes",
        ),
        "serve.process": ("процессом {pid}", "process {pid}"),
        "serve.another_process": ("другим процессом", "another process"),
        "serve.bind": (
            "{host}:{port} ({name}) {reason}; остановите то, что его занимает, или выберите другой --port",
            "{host}:{port} ({name}) {reason}; stop what holds it or choose another --port",
        ),
        "serve.in_use": ("занят", "is in use"),
        "serve.not_permitted": ("недоступен (нет прав)", "is not permitted"),
        "serve.unbindable": ("не удаётся занять", "cannot be bound"),
        "serve.unauthenticated": (
            "peers.{name}.auth: точки доступа участника {quoted} приняли бы вызовы от кого угодно; настройте "
            "allow_addresses, client_cert_fingerprints или signer_certificates либо задайте "
            "peers.{name}.auth.allow_unauthenticated = true (docs/security.md)",
            "peers.{name}.auth: the endpoints of peer {quoted} would accept anyone's calls; configure "
            "allow_addresses, client_cert_fingerprints or signer_certificates, "
            "or set peers.{name}.auth.allow_unauthenticated = true (docs/security.md)",
        ),
        "sb.running": (
            "песочница mse-gateway запущена (Ctrl-C — остановить)",
            "mse-gateway sandbox is running (Ctrl-C to stop)",
        ),
        "sb.gateway": ("шлюз", "gateway"),
        "sb.moved": (
            "(порт {port} был занят; укажите --port, чтобы задать порт явно)",
            "(port {port} was busy; pass --port to insist on one)",
        ),
        "sb.health": ("живость", "health"),
        "sb.readiness": ("готовность", "readiness"),
        "sb.api_docs": ("документация API", "API docs"),
        "sb.ui": ("мониторинг", "monitoring UI"),
        "sb.ui_value": ("{url}  (пользователь {user}, пароль в {path})", "{url}  (user {user}, password in {path})"),
        "sb.metrics": ("метрики", "metrics"),
        "sb.vendor": ("страница МИС", "vendor page"),
        "sb.vendor_value": (
            "{url}  (проверка подачи, тестовые ключи, ваши подачи)",
            "{url}  (check a submission, test keys, your submissions)",
        ),
        "sb.soap": ("вход SOAP", "SOAP front door"),
        "sb.soap_value": ("{url}  (SOAP 1.2; WSDL {wsdl})", "{url}  (SOAP 1.2; WSDL {wsdl})"),
        "sb.soap_auth": (
            "clientEntityId {entity} в egis:transportHeader/authInfo, заголовок X-MSE-Token: <токен ниже>",
            "clientEntityId {entity} in egis:transportHeader/authInfo, header X-MSE-Token: <the token below>",
        ),
        "sb.twin": ("двойник {name}", "twin {name}"),
        "sb.twin_value": ("{url} ({protocol}, профиль {profile})", "{url} ({protocol}, profile {profile})"),
        "sb.twin_calls": (
            "обратные вызовы на {callback}, статистика {stats}",
            "calls back {callback}, stats {stats}",
        ),
        "sb.routes": ("маршруты", "routes"),
        "sb.clock": ("часы", "clock"),
        "sb.clock_value": ("моделируемые, x{speed}", "simulated, x{speed}"),
        "sb.data_dir": ("каталог данных", "data directory"),
        "sb.pki": ("тестовый УЦ", "test PKI"),
        "sb.pki_value": (
            "{path} (доверенный; подписывайте через `mse-gateway samples`)",
            "{path} (trusted; sign with `mse-gateway samples`)",
        ),
        "sb.client": ("клиент песочницы", "sandbox client"),
        "sb.client_value": ("{name}, токен в {path}", "{name}, token in {path}"),
        # sign, verify
        "sign.cms_only": (
            "--attached, --pem и --no-signed-attributes — параметры CMS, не для --xml",
            "--attached, --pem and --no-signed-attributes are CMS options, not for --xml",
        ),
        "sign.xml_only": ("--style, --id и --xades требуют --xml", "--style, --id and --xades need --xml"),
        "sign.written": ("{how} подпись записана в {path}", "{how} signature written to {path}"),
        "sign.xml_written": ("XML-подпись ({style}) записана в {path}", "{style} XML signature written to {path}"),
        "verify.xml_content": (
            "{file}: XML-подпись покрывает свой документ; --content — для CMS",
            "{file}: XML signatures cover their own document; --content is for CMS",
        ),
        "verify.expect_xml": ("--expect — для XML-подписей", "--expect is for XML signatures"),
        "verify.no_crl": ("нет такого файла или каталога: {source}", "no such file or directory: {source}"),
        "verify.needs_content": (
            "{file}: откреплённая подпись; укажите подписанные данные в --content",
            "{file}: detached signature; give the signed data with --content",
        ),
        "verify.not_cms": ("{file}: не читается как подпись CMS", "{file}: not a readable CMS signature"),
        "verify.not_xml": (
            "{file}: XML не читается (или отвергнут: DTD, сущности, размер)",
            "{file}: not readable XML (or refused: DTD, entities, size)",
        ),
        "verify.no_dsig": ("{file}: нет XMLDSig ds:Signature", "{file}: no XMLDSig ds:Signature"),
        # certs
        "certs.root": ("корневой УЦ     {serial}  {path}", "root CA     {serial}  {path}"),
        "certs.issuing": ("выпускающий УЦ  {serial}  {path}", "issuing CA  {serial}  {path}"),
        "certs.trust": ("доверенные      {path}", "trust dir   {path}"),
        "certs.crls": ("списки отзыва   {paths}", "CRLs        {paths}"),
        "certs.serial": ("серийный номер {serial}", "serial {serial}"),
        "certs.cert": ("сертификат     {path}", "cert   {path}"),
        "certs.key": ("ключ           {path}", "key    {path}"),
        "certs.revoked": ("отозван {serial}; CRL {path}", "revoked {serial}; CRL {path}"),
        "certs.unknown_profile": ("неизвестный профиль; один из {profiles}", "unknown profile; one of {profiles}"),
        "certs.check_digits": (
            "{value} не проходит проверку контрольных цифр (используйте --unchecked)",
            "{value} fails the check digits (use --unchecked)",
        ),
        # envelope
        "envelope.signatures": ("подписей: {n}", "signatures: {n}"),
        "envelope.no_signatures": ("подписей: нет", "signatures: none"),
        "envelope.valid": ("действительна", "valid"),
        "envelope.not_valid": ("НЕ действительна", "NOT valid"),
        "envelope.signature": (
            "  - {holder} над {target}: {verdict} (целостность {integrity}, цепочка {chain})",
            "  - {holder} over {target}: {verdict} (integrity {integrity}, chain {chain})",
        ),
        "envelope.unknown": (
            "{file}: не конверт ни одного из установленных протоколов",
            "{file}: not an envelope of any installed protocol",
        ),
        "envelope.no_peer": (
            "участник {peer} не настроен (известны: {known})",
            "peer {peer} is not configured (known: {known})",
        ),
        "envelope.cannot_build": (
            "протокол {protocol} не умеет строить конверты",
            "protocol {protocol} cannot build envelopes here",
        ),
        # doctor
        "doctor.backend": ("бэкенд ГОСТ:  {name}", "GOST backend: {name}"),
        "doctor.unavailable": ("НЕДОСТУПЕН", "UNAVAILABLE"),
        "doctor.why": ("причина:      {reason}", "why:          {reason}"),
        "doctor.streebog": ("Стрибог:      {implementation} ({why})", "Streebog:     {implementation} ({why})"),
        "doctor.gost3410": ("ГОСТ 34.10:   {implementation} ({why})", "GOST 34.10:   {implementation} ({why})"),
        "doctor.requested": (
            "запрошен:     {requested} (задайте {var}=auto|openssl|fallback|pure, чтобы выбрать)",
            "requested:    {requested} (set {var}=auto|openssl|fallback|pure to force)",
        ),
        "doctor.auto": ("auto (по умолчанию)", "auto (default)"),
        "doctor.check": ("проверка {name}: {result}", "check {name}: {result}"),
        "doctor.ok": ("в порядке", "ok"),
        "doctor.failed": ("СБОЙ ({detail})", "FAILED ({detail})"),
        "doctor.tampered": ("изменённая подпись прошла проверку", "a tampered signature verified"),
        # documents
        "documents.error": ("ошибка: {detail}", "error: {detail}"),
        # bench
        "bench.backend": ("бэкенд:   {name} ({reason})", "backend:  {name} ({reason})"),
        "bench.fallback": ("запасной: {name} ({reason})", "fallback: {name} ({reason})"),
        "bench.na": ("н/д", "n/a"),
        "bench.target": ("  (цель {target}: {verdict})", "  (target {target}: {verdict})"),
        "bench.met": ("достигнута", "met"),
        "bench.not_met": ("НЕ достигнута", "NOT met"),
        "bench.load": (
            "средняя нагрузка до/после: {before} / {after}",
            "load average before/after: {before} / {after}",
        ),
        "bench.xml_backend": ("бэкенд: {name}, документ {size} байт", "backend: {name}, document {size} bytes"),
        "bench.xml_load": ("средняя нагрузка до {before}, после {after}", "load average before {before} after {after}"),
        "bench.delivery": (
            "{database} x{processes} (+{validators} проверяющих процессов на каждый): зарегистрировано "
            "{registered}/{documents} за {seconds} с: {rate} документов/с (приём {intake}/с, p50 {p50} с, "
            "ЦП шлюза {cpu} мс/документ)",
            "{database} x{processes} (+{validators} validators each) {registered}/{documents} registered in "
            "{seconds} s: {rate} documents/s (intake {intake}/s, p50 {p50} s, gateway CPU {cpu} ms/document)",
        ),
        "bench.delivery_2": (
            "{pad} одна проверка {validation} мс ЦП/документ, коэффициент накладных расходов {ratio}; "
            "приём p50 {p50} мс, p99 {p99} мс; нагрузка {before} -> {after}",
            "{pad} validation alone {validation} ms CPU/document, overhead ratio {ratio}; intake p50 {p50} ms, "
            "p99 {p99} ms; load {before} -> {after}",
        ),
        "bench.preloaded": (
            "предзагружено подач: {rows} за {seconds} с",
            "pre-loaded {rows} submissions in {seconds} s",
        ),
        "bench.empty": ("пустой", "empty"),
        "bench.full": ("заполненный", "preloaded"),
        "bench.growth": (
            "{label} {rate} документов/с, ЦП шлюза {cpu} мс/документ (коэффициент {ratio}), RSS {rss} МБ, "
            "обзор {overview} с, сообщения {messages} с, поиск {search} с; нагрузка {before} -> {after}",
            "{label} {rate} documents/s, gateway CPU {cpu} ms/document (ratio {ratio}), RSS {rss} MB, "
            "overview {overview} s, messages {messages} s, search {search} s; load {before} -> {after}",
        ),
        "bench.growth_ratio": (
            "документов/с, заполненный / пустой: {ratio}",
            "documents/s pre-loaded / empty: {ratio}",
        ),
        # simulate
        "sim.workdir": ("simulate: рабочий каталог {path}", "simulate: working directory {path}"),
        "sim.workdir_removed": (" (удаляется в конце; --keep оставляет его)", " (removed at the end; --keep keeps it)"),
        "sim.stopped": ("simulate: остановлено сигналом {signal}", "simulate: stopped by {signal}"),
        "sim.no_sandbox": (
            "в {path} нет песочницы (sandbox-client.json, pki/); запустите её через `mse-gateway sandbox` "
            "или укажите её --data-dir",
            "{path} holds no sandbox (sandbox-client.json, pki/); start one with `mse-gateway sandbox` "
            "or name its --data-dir",
        ),
        "sim.this_run": ("этот прогон", "this run"),
        "sim.baseline": ("РЭМД 2023", "REMD 2023"),
        "sim.documents": ("документов", "documents"),
        "sim.registered": ("зарегистрировано", "registered"),
        "sim.first_try": ("  с первой попытки", "  first try"),
        "sim.after_retry": ("  после повтора", "  after retry"),
        "sim.via_reconciliation": ("  через сверку", "  via reconciliation"),
        "sim.failed_permanent": ("отказ (постоянный код)", "failed (permanent code)"),
        "sim.rejected": ("отклонено шлюзом", "rejected by the gateway"),
        "sim.unknown": ("исход неизвестен", "no known outcome"),
        "sim.dead": ("  из них DEAD (оператору)", "  of them DEAD (operator)"),
        "sim.duplicates": ("дубликаты у участника", "duplicates at the peer"),
        "sim.lost": ("потеряно шлюзом", "lost by the gateway"),
        "sim.late_callbacks": ("поздние обратные вызовы", "late callbacks received"),
        "sim.regressions": ("откаты состояния", "state regressions"),
        "sim.contradictions": ("отмеченные противоречия", "flagged contradictions"),
        "sim.minutes": ("{n} мин", "{n} min"),
        "sim.time_to_final": (
            "время до итогового исхода (моделируемое): p50 {p50}, p95 {p95}",
            "time to final outcome (simulated): p50 {p50}, p95 {p95}",
        ),
        "sim.run": (
            "профиль {profile}, часы x{speed}, реальное время {wall} с, приём {intake}/с",
            "profile {profile}, clock x{speed}, wall {wall} s, intake {intake}/s",
        ),
        "sim.referrals": ("направлений", "referrals"),
        "sim.accepted": ("принято", "accepted"),
        "sim.results": ("пришёл результат (REGISTERED)", "result arrived (REGISTERED)"),
        "sim.returned": ("возвращено с причинами (FAILED)", "returned with reasons (FAILED)"),
        "sim.failed_other": ("прочие отказы", "failed otherwise"),
        "sim.unattributed": ("непривязанные уведомления", "unattributed notices"),
        "sim.offered": ("результат/возврат предложен МИС", "result/return offered to the MIS"),
        "sim.offered_twice": ("предложено МИС дважды", "offered to the MIS twice"),
        "sim.ksi": ("КСИ (по данным шлюза)", "KSI (gateway view)"),
        "sim.ksi.measured": ("измерено", "measured"),
        "sim.ksi.within": ("в срок", "within"),
        "sim.ksi.share": ("доля", "share"),
        "sim.ksi.late": ("позд.", "late"),
        "sim.ksi.open": ("откр.", "open"),
        "sim.ksi.unreported": ("б/отч.", "unrep."),
        "sim.ksi.bureau_late": ("бюро: позд.", "bureau late"),
        "sim.ksi.deadline": ("срок", "deadline"),
        "sim.notices": ("уведомления {notices}", "notices {notices}"),
        "sim.by_kind": (
            "предложено МИС по видам {by_kind}; задержано для оператора {held}",
            "offered to the MIS by kind {by_kind}; held for an operator {held}",
        ),
        "sim.loop_run": (
            "профиль {profile}, часы x{speed}, моделируемых дней: {days}, реальное время {wall} с",
            "profile {profile}, clock x{speed}, {days} simulated days, wall {wall} s",
        ),
        "sim.loop_ends": ("где заканчивается цикл: {where}", "where the loop ends: {where}"),
        "sim.concluded": ("вынесено заключение", "concluded (expert's conclusion)"),
        "sim.refused": ("отказ с кодом", "refused with a code"),
        "sim.kz_dead": ("мёртвые (DEAD)", "dead"),
        "sim.kz_unknown": ("неизвестно", "unknown"),
        "sim.kz_lost": ("потеряно", "lost"),
        "sim.kz_duplicates": ("дубликаты в ЦБДИ", "duplicates at CBDI"),
        "sim.conclusion_offered": ("заключение предложено МИС", "conclusion offered to the MIS"),
        "sim.not_offered": ("вынесено, не предложено", "concluded, not offered"),
        "sim.within_deadline": ("решено в срок", "decided within the deadline"),
        "sim.of": ("{within} из {measured}", "{within} of {measured}"),
        "sim.no_region": ("(без региона)", "(no region)"),
        "sim.outcomes": ("исходы: {list}", "outcomes: {list}"),
        "sim.held": ("задержано для оператора: {list}", "held for an operator: {list}"),
        "sim.kz_run": (
            "профиль {profile} (двойники: {twins}), часы x{speed}, моделируемых дней: {days}, реальное время {wall} с",
            "profile {profile} (twins: {twins}), clock x{speed}, {days} simulated days, wall {wall} s",
        ),
        "sim.target": ("документов: {count} в {url} (seed {seed})", "{count} documents into {url} (seed {seed})"),
        "sim.region": ("регион", "region"),
        "sim.kinds": ("виды: {list}", "kinds: {list}"),
        "sim.rejections": ("отклонения: {list}", "rejections: {list}"),
        "sim.refused_at_intake": ("отказано при приёме (HTTP): {list}", "refused at intake (HTTP): {list}"),
        "sim.not_rejected": ("дефекты НЕ отклонены: {list}", "defects NOT rejected: {list}"),
        "sim.see": (
            "смотрите в {url}/ui/messages (а для клиента песочницы — в {url}/ui/sandbox)",
            "see them in {url}/ui/messages (and, for the sandbox client, {url}/ui/sandbox)",
        ),
        # samples
        "samples.written": (
            "подач в {directory}: {n} (пройдут: {passing}, будут отклонены: {rejected})",
            "{n} submissions in {directory} ({passing} pass, {rejected} rejected)",
        ),
        "samples.signed": (
            "подписаны тестовым УЦ песочницы {pki}, source_system {source}, seed {seed}",
            "signed by the sandbox's test PKI {pki}, source_system {source}, seed {seed}",
        ),
        "samples.check_one": ("проверить одну: {command}", "check one: {command}"),
        # archive
        "archive.done": (
            "конвертов: {envelopes} ({bytes} байт) из итоговых подач: {submissions}, изменённых до {cutoff} UTC, "
            "— {verb}{files}{more}",
            "{envelopes} envelopes ({bytes} bytes) of {submissions} final submissions last changed before "
            "{cutoff} UTC {verb}{files}{more}",
        ),
        "archive.would": ("будут обработаны (пробный прогон)", "would be"),
        "archive.archived": ("архивированы", "archived"),
        "archive.deleted": ("удалены", "deleted"),
        "archive.files": ("; файлов: {n} в {directory}", " to {n} files under {directory}"),
        "archive.more": ("; осталось ещё: запустите снова", "; more left: run again"),
        "archive.no_submission": ("нет подачи {id}", "no submission {id}"),
        "clients.exists": (
            "клиент {name} (или клиент с этим entity id) уже есть",
            "a client named {name} (or with that entity id) exists",
        ),
        "clients.unknown": ("нет клиента {name}", "no client {name}"),
        "users.short_password": (
            "пароль должен быть не короче {n} символов",
            "a password needs at least {n} characters",
        ),
        "users.prompt": ("Пароль", "Password"),
        "users.prompt_again": ("Повторите пароль", "Repeat for confirmation"),
        "ops.token_exists": ("токен оператора {name} уже есть", "an operator token named {name} exists"),
        # ops
        "ops.bad_filter": (
            "{pair}: ожидается КЛЮЧ=ЗНАЧЕНИЕ, напр. state=DEAD",
            "{pair}: expected KEY=VALUE, e.g. state=DEAD",
        ),
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
