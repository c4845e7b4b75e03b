"""The UI's one translation catalogue: Russian (default) and English.

Templates call ``t("key")``; a missing key shows the key itself, so a gap is visible rather than
silent. A test checks that both languages have every key.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

__all__ = ["CATALOGUE", "LANGUAGES", "Language", "translate"]

Language = Literal["ru", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("ru", "en")

_ENTRIES: dict[str, tuple[str, str]] = {
    # chrome
    "app.title": ("Шлюз МСЭ — мониторинг", "MSE gateway — monitoring"),
    "nav.overview": ("Обзор", "Overview"),
    "nav.rejections": ("Отказы и возвраты", "Rejections and returns"),
    "nav.sla": ("Сроки (SLA)", "Deadlines (SLA)"),
    "nav.queues": ("Очереди и узлы", "Queues and peers"),
    "nav.messages": ("Документы", "Documents"),
    "nav.alerts": ("Оповещения", "Alerts"),
    "nav.audit": ("Журнал действий", "Audit trail"),
    "nav.logout": ("Выйти", "Log out"),
    "nav.skip": ("Перейти к содержимому", "Skip to content"),
    "nav.language": ("Язык", "Language"),
    "nav.signed_in_as": ("Пользователь", "Signed in as"),
    # login
    "login.title": ("Вход", "Sign in"),
    "login.username": ("Имя пользователя", "Username"),
    "login.password": ("Пароль", "Password"),
    "login.submit": ("Войти", "Sign in"),
    "login.failed": ("Неверное имя пользователя или пароль.", "Wrong username or password."),
    "login.throttled": (
        "Слишком много неудачных попыток входа. Повторите через {minutes} мин.",
        "Too many failed sign-in attempts. Try again in {minutes} min.",
    ),
    # period form
    "period.from": ("С", "From"),
    "period.to": ("По (включительно)", "To (inclusive)"),
    "period.kind": ("Вид документа", "Document kind"),
    "period.region": ("Регион", "Region"),
    "period.apply": ("Показать", "Show"),
    "period.any": ("любой", "any"),
    # funnel
    "funnel.title": ("Воронка доставки", "Delivery funnel"),
    "funnel.received": ("Принято", "Received"),
    "funnel.registered": ("Зарегистрировано", "Registered"),
    "funnel.reconciled": ("из них по сверке", "of which via reconciliation"),
    "funnel.failed": ("Отказ узла", "Failed at peer"),
    "funnel.rejected": ("Отклонено шлюзом", "Rejected by gateway"),
    "funnel.awaiting": ("Ожидает ответа", "Awaiting answer"),
    "funnel.in_progress": ("В обработке", "In progress"),
    "funnel.dead": ("Требует оператора", "Needs an operator"),
    "funnel.by_kind": ("По видам документов", "By document kind"),
    "funnel.by_region": ("По регионам", "By region"),
    "funnel.failed_by_code": ("Отказы узла по кодам", "Peer failures by code"),
    "funnel.chart": ("Диаграмма воронки", "Funnel chart"),
    "col.kind": ("Вид", "Kind"),
    "col.region": ("Регион", "Region"),
    "col.code": ("Код", "Code"),
    "col.count": ("Количество", "Count"),
    "col.state": ("Состояние", "State"),
    "col.local_uid": ("localUid", "localUid"),
    "col.emdr_id": ("emdrId", "emdrId"),
    "col.organization": ("Организация (OID)", "Organisation (OID)"),
    "col.created": ("Принят", "Received at"),
    "col.updated": ("Изменён", "Updated at"),
    "col.deadline": ("Срок", "Deadline"),
    "col.done": ("Выполнено", "Done at"),
    "col.share": ("Доля", "Share"),
    "col.referrals": ("Направления", "Referrals"),
    "col.returns": ("Возвраты", "Returns"),
    "col.patient": ("Пациент", "Patient"),
    "col.attempts": ("Попытки", "Attempts"),
    "col.outcome": ("Итог", "Outcome"),
    "col.peer": ("Узел-получатель", "Peer"),
    "col.reason": ("Причина", "Reason"),
    "none": ("нет", "none"),
    # rejections
    "rej.title": ("Отказы по категориям", "Rejections by category"),
    "rej.by_region": ("Отказы по регионам", "Rejections by region"),
    "rej.returns": ("Возвраты в МО по регионам", "Returns to the MO by region"),
    "rej.returns_note": (
        "Доля = уведомления о возврате (вид 108) / направления (виды 121, 109) за период.",
        "Share = return notices (kind 108) / referrals (kinds 121, 109) in the period.",
    ),
    "rej.highest": ("Наибольшая доля", "Highest share"),
    "rej.lowest": ("Наименьшая доля", "Lowest share"),
    "cat.late": ("Поздно", "Late"),
    "cat.duplicate": ("Дубликат", "Duplicate"),
    "cat.invalid_signature": ("Неверная подпись", "Invalid signature"),
    "cat.wrong_region": ("Не тот регион", "Wrong region"),
    "cat.citizen_data": ("Данные гражданина", "Citizen data"),
    "cat.examinations": ("Обследования", "Examinations"),
    "cat.role": ("Роль подписанта", "Signer role"),
    "cat.other": ("Прочее", "Other"),
    # sla
    "sla.title": ("Соблюдение сроков", "Deadline compliance"),
    "sla.note": (
        "Доля зарегистрированных в срок по производственному календарю среди зарегистрированных "
        "и просроченных открытых. Казахстан: правило 16:00.",
        "Share registered by the working-day deadline among registered and overdue open items. "
        "Kazakhstan: the 16:00 rule.",
    ),
    "sla.stage": ("Этап", "Stage"),
    "sla.measured": ("Учтено", "Measured"),
    "sla.within": ("В срок", "Within deadline"),
    "sla.open_overdue": ("Просрочено, не завершено", "Overdue, still open"),
    "sla.overdue": ("Просроченные", "Overdue items"),
    "stage.ru_registration": (
        "РФ: регистрация направления — 1 рабочий день",
        "RU: referral registration — 1 working day",
    ),
    "stage.kz_expert_conclusion": (
        "РК: заключение 031/у — 1 рабочий день, после 16:00 — со следующего",
        "KZ: 031/u conclusion — 1 working day, after 16:00 from the next",
    ),
    # queues
    "q.title": ("Очереди", "Queues"),
    "q.oldest": ("Самый давний без ответа", "Oldest unanswered"),
    "q.retry_backlog": ("Ожидают повтора", "Retry backlog"),
    "q.next_retry": ("Ближайший повтор", "Next retry"),
    "q.dead": ("Требуют оператора (DEAD)", "Needing an operator (DEAD)"),
    "q.flagged": ("Противоречия", "Flagged contradictions"),
    "q.peers": ("Узлы", "Peers"),
    "q.peer": ("Узел", "Peer"),
    "q.circuit": ("Автомат", "Circuit"),
    "q.last_success": ("Последний успех", "Last success"),
    "q.error_rate": ("Доля ошибок (1 ч)", "Error rate (1 h)"),
    "q.errors_by_code": ("Ошибки по кодам", "Errors by code"),
    "circuit.closed": ("замкнут (норма)", "closed (normal)"),
    "circuit.open": ("разомкнут", "open"),
    "circuit.half-open": ("пробный запрос", "half-open (probing)"),
    "q.no_peers": ("Узлы не настроены.", "No peers configured."),
    "q.stuck": ("Зависшие документы", "Stuck documents"),
    "q.stuck_hint": (
        "Ждут узел дольше его stuck_after_hours (от приёма) или направлены узлу, который не работает.",
        "Waiting for a peer longer than its stuck_after_hours (since arrival), or routed to a peer not running.",
    ),
    # messages
    "m.title": ("Поиск документов", "Document search"),
    "m.patient_id": ("СНИЛС или ИИН (полностью)", "SNILS or IIN (full)"),
    "m.search": ("Найти", "Search"),
    "m.results": ("Результаты", "Results"),
    "m.none": ("Ничего не найдено.", "Nothing found."),
    "m.next": ("Следующая страница", "Next page"),
    "m.open": ("Открыть", "Open"),
    "d.title": ("Документ", "Document"),
    "d.timeline": ("Хронология", "Timeline"),
    "d.envelopes": ("Конверты", "Envelopes"),
    "d.download": ("Скачать", "Download"),
    "d.report": ("Отчёт проверки (ФЛК)", "Verification report (FLK)"),
    "d.no_report": ("Отчёта нет.", "No report."),
    "d.actions": ("Действия оператора", "Operator actions"),
    "d.comment": ("Комментарий (обязательно)", "Comment (required)"),
    "d.resend": ("Отправить повторно", "Resend now"),
    "d.resolve": ("Отметить решённым", "Mark resolved"),
    "d.cancel": ("Отменить отправку", "Cancel"),
    "d.disposition": ("Решение оператора", "Operator's disposition"),
    "d.audit": ("Действия операторов", "Operator actions log"),
    "d.no_actions": (
        "В этом состоянии действий не требуется.",
        "No action applies in this state.",
    ),
    "d.viewer_note": ("Действия доступны операторам.", "Actions are available to operators."),
    "d.direction.in": ("получен", "received"),
    "d.direction.out": ("отправлен", "sent"),
    "ev.at": ("Время", "Time"),
    "ev.kind": ("Событие", "Event"),
    "ev.actor": ("Кто", "Actor"),
    "ev.change": ("Переход", "Change"),
    "ev.message": ("Сообщение", "Message"),
    "flash.resend": ("Документ поставлен в очередь на отправку.", "The document is queued for sending."),
    "flash.resolve": ("Документ отмечен решённым.", "The document is marked resolved."),
    "flash.cancel": ("Отправка документа отменена.", "The document is cancelled."),
    "flash.refused": ("Действие невозможно в текущем состоянии.", "Not possible in the current state."),
    "flash.comment": ("Укажите комментарий.", "A comment is required."),
    # alerts
    "a.title": ("Оповещения", "Alerts"),
    "a.rule": ("Правило", "Rule"),
    "a.status": ("Статус", "Status"),
    "a.value": ("Значение", "Value"),
    "a.since": ("С", "Since"),
    "a.notified": ("Оповещено", "Notified"),
    "a.firing": ("активно", "firing"),
    "a.ok": ("норма", "ok"),
    "a.none": ("Оповещений нет.", "No alerts."),
    # audit
    "audit.title": ("Журнал действий операторов", "Operator audit trail"),
    "audit.user": ("Пользователь", "User"),
    "audit.action": ("Действие", "Action"),
    "audit.comment": ("Комментарий", "Comment"),
    "audit.submission": ("Документ", "Document"),
    # states (stored values stay English; the UI names them)
    "state.RECEIVED": ("Принят", "Received"),
    "state.VALIDATED": ("Проверен", "Validated"),
    "state.REJECTED": ("Отклонён шлюзом", "Rejected"),
    "state.QUEUED": ("В очереди", "Queued"),
    "state.SENT": ("Отправлен, ждёт ответа", "Sent"),
    "state.RETRY_WAIT": ("Ждёт повтора", "Retry wait"),
    "state.RECONCILING": ("Сверка", "Reconciling"),
    "state.REGISTERED": ("Зарегистрирован", "Registered"),
    "state.FAILED": ("Отказ узла", "Failed"),
    "state.DEAD": ("Требует оператора", "Dead"),
    "state.CANCELLED": ("Отменён оператором", "Cancelled"),
    "disp.resolved": ("решён", "resolved"),
    "disp.cancelled": ("отменён", "cancelled"),
    # operator lists
    "nav.list": ("Списки", "Lists"),
    "l.title": ("Документы по фильтру", "Filtered documents"),
    "l.view": ("Выборка", "Selection"),
    "view.needs-operator": ("Требуют оператора", "Needs an operator"),
    "view.stuck": ("Зависшие", "Stuck"),
    "view.flagged": ("Противоречия", "Flagged"),
    "view.closed": ("Закрыты оператором", "Closed by an operator"),
    "l.age_hours": ("Старше (ч)", "Older than (h)"),
    "l.prefix": ("localUid или OID (начало)", "localUid or OID (prefix)"),
    "l.reset": ("Сбросить", "Reset"),
    "l.total": ("Всего", "Total"),
    "l.csv": ("Выгрузить CSV", "Export CSV"),
    "l.patient_search": ("Поиск по СНИЛС/ИИН", "Search by SNILS/IIN"),
    "l.causes": ("Причины", "Causes"),
    "l.meaning": ("Что означает", "What it means"),
    "l.todo": ("Что делать", "What to do"),
    "l.select": ("Выбрать", "Select"),
    "l.bulk": ("Массовое действие", "Bulk action"),
    "l.scope_selected": ("отмеченные", "the ticked rows"),
    "l.scope_filter": ("все по фильтру", "everything the filter selects"),
    "l.bulk_done": ("Выполнено для документов", "Done for documents"),
    "l.bulk_refused": ("отказано (состояние изменилось)", "refused (the state had changed)"),
    "l.all_in_list": ("Весь список с фильтрами и действиями", "The whole list, with filters and actions"),
    "l.pages": ("Страницы", "Pages"),
    "l.page": ("Страница", "Page"),
    "l.prev": ("Назад", "Previous"),
    "l.next": ("Далее", "Next"),
    "col.mis": ("МИС", "MIS"),
    "col.org": ("Организация", "Organisation"),
    "col.last_code": ("Последний код", "Last code"),
    "col.age": ("Возраст", "Age"),
    "col.stuck_since": ("В состоянии с", "In this state since"),
    "funnel.closed": ("Закрыто оператором", "Closed by an operator"),
    # causes: what to do, by the code's class in the peer's table
    "cause.action.transient": (
        "Временный сбой: шлюз повторит сам. Если документы в DEAD — проверьте узел "
        "(автомат, /readyz) и отправьте повторно.",
        "Transient: the gateway retries by itself. If the documents are DEAD, check the peer "
        "(circuit, /readyz) and resend.",
    ),
    "cause.action.rate-limit": (
        "Узел ограничил частоту запросов: дождитесь снятия ограничения и отправьте повторно; "
        "при частых случаях снизьте limits.rate_per_second.",
        "The peer limited the request rate: wait for it to lift and resend; if frequent, lower limits.rate_per_second.",
    ),
    "cause.action.permanent": (
        "Ошибка в документе или правах: исправьте в МИС и отправьте новый документ; повтор без "
        "исправления бесполезен. Отметьте решённым или отмените.",
        "The document or the rights are wrong: fix it in the MIS and submit again; resending "
        "unchanged will not help. Mark resolved or cancel.",
    ),
    "cause.action.already-there": (
        "Узел уже имеет документ: шлюз сверяет сам, повторно не отправлять.",
        "The peer already has the document: the gateway reconciles by itself; do not resend.",
    ),
    "cause.action.gateway": ("См. пояснение слева.", "See the explanation on the left."),
    "cause.action.unknown": (
        "Код не описан в таблице узла: посмотрите хронологию документа и ответ узла.",
        "The code is not in the peer's table: read the document's timeline and the peer's answer.",
    ),
    "code.OPERATOR_CANCELLED": ("Отменён оператором; не будет отправлен.", "Cancelled by an operator; never sent."),
    "code.NO_ROUTE": ("Нет маршрута для вида и региона документа.", "No route for the document's kind and region."),
    "code.NOT_FOUND_AT_PEER": (
        "Сверка: узел не нашёл документ, шлюз отправит его снова.",
        "Reconciliation: the peer does not have it; the gateway sends it again.",
    ),
    "code.RECONCILIATION_EXHAUSTED": (
        "Сверка исчерпала попытки, ответ узла неизвестен: проверьте на стороне узла.",
        "Reconciliation gave up; the peer's answer is unknown: check at the peer.",
    ),
    "code.LOOKUP_FAILED": ("Узел не ответил на запрос сверки.", "The peer did not answer the reconciliation lookup."),
    "code.NETWORK_ERROR": ("Нет связи с узлом (сеть, DNS, TLS).", "No connection to the peer (network, DNS, TLS)."),
    "code.UNKNOWN": ("Узел ответил ошибкой без кода.", "The peer answered with an error without a code."),
    # bulk
    "bulk.will.resend": ("{n} документов будут отправлены повторно", "{n} documents will be resent"),
    "bulk.will.resolve": ("{n} документов будут отмечены решёнными", "{n} documents will be marked resolved"),
    "bulk.will.cancel": ("{n} документов будут отменены", "{n} documents will be cancelled"),
    "bulk.selected": ("выбрано", "selected"),
    "bulk.not_applicable": ("действие не применимо к", "not applicable to"),
    "bulk.truncated": (
        "Выборка слишком велика: действие выполняется не более чем для 10 000 документов — уточните фильтр.",
        "The selection is too large: at most 10,000 documents per action — narrow the filter.",
    ),
    "bulk.confirm": ("Выполнить", "Carry out"),
    "bulk.back": ("Вернуться к списку", "Back to the list"),
    # unattributed peer messages
    "nav.unattributed": ("Без адресата", "Unattributed"),
    "u.title": ("Сообщения узлов без документа", "Peer messages matching no submission"),
    "u.one": ("Сообщение узла без документа", "Peer message matching no submission"),
    "u.hint": (
        "Ответы, уведомления и обратные вызовы узлов, не относящиеся ни к одной отправке шлюза. "
        "Хранятся целиком; оператор может привязать сообщение к документу.",
        "Answers, notices and callbacks from peers that answer nothing the gateway sent. Kept "
        "whole; an operator may attach one to a submission.",
    ),
    "u.kind": ("Состояние", "Status"),
    "u.unattributed": ("без документа", "unattributed"),
    "u.attached": ("привязано оператором", "attached by an operator"),
    "u.recorded": ("Получено", "Recorded"),
    "u.message_id": ("ID сообщения узла", "Peer message id"),
    "u.relates_to": ("В ответ на", "Relates to"),
    "u.size": ("Байт", "Bytes"),
    "u.refusals": ("Отклонённые вызовы узлов (аутентификация)", "Refused peer calls (authentication)"),
    "u.attach_to": ("Документ (id или localUid)", "Submission (id or localUid)"),
    "u.attach": ("Привязать к документу", "Attach to the submission"),
    "u.need_both": ("Укажите документ и комментарий.", "Name the submission and give a comment."),
    "u.no_submission": (
        "Документ не найден (или localUid не однозначен — укажите id).",
        "No such submission (or the localUid is ambiguous — give the id).",
    ),
    "flash.attached": ("Сообщение узла привязано к документу.", "The peer message is attached."),
    # errors
    "err.forbidden": ("Недостаточно прав.", "Not allowed."),
    "err.csrf": ("Форма устарела: обновите страницу.", "The form expired: reload the page."),
    "err.not_found": ("Не найдено.", "Not found."),
}

CATALOGUE: Final[Mapping[Language, Mapping[str, str]]] = MappingProxyType(
    {
        "ru": MappingProxyType({k: v[0] for k, v in _ENTRIES.items()}),
        "en": MappingProxyType({k: v[1] for k, v in _ENTRIES.items()}),
    }
)


def translate(language: Language, key: str) -> str:
    """The text for ``key`` in ``language``; the key itself when the catalogue lacks it."""
    return CATALOGUE[language].get(key, key)
