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
        "и просроченных открытых. Казахстан: правило 16:00, срок от поступления в ЦБДИ (по его "
        "сообщению, иначе от отправки шлюзом) до решения эксперта.",
        "Share registered by the working-day deadline among registered and overdue open items. "
        "Kazakhstan: the 16:00 rule, from the arrival at ЦБДИ (as it reports, else the gateway's "
        "send) to the expert's decision.",
    ),
    "sla.stage": ("Этап", "Stage"),
    "sla.measured": ("Учтено", "Measured"),
    "sla.within": ("В срок", "Within deadline"),
    "sla.open_overdue": ("Просрочено, не завершено", "Overdue, still open"),
    "sla.overdue": ("Просроченные", "Overdue items"),
    "sla.regions": ("По регионам и этапам пилота", "By region and pilot phase"),
    "sla.phase": ("Этап пилота", "Pilot phase"),
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
