"""Registry identifiers the documents speak: NSI code systems, OIDs and templateIds.

Code *systems* (OIDs) are what the official schematron checks, so they are exact. Versions and the
names written into ``codeSystemName`` are the ones public MIS templates use where we could see them,
otherwise the registry's title; the schematron only requires them to be non-empty. Individual codes
used in generated samples are illustrative (the NSI tables themselves are not shipped): see
docs/documents.md, «Коды и справочники», for which ones are confirmed and which are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.documents.model import DocumentKind

__all__ = [
    "CS",
    "HL7_TYPE_ID_EXTENSION",
    "HL7_TYPE_ID_ROOT",
    "KINDS",
    "PROJECT_OID",
    "SNILS_OID",
    "CodeSystem",
    "KindInfo",
]


# A UUID-derived OID (ITU-T X.667 arc 2.25) owned by this project, for the code lists it has to
# define itself (the reconstructed kinds 35/108 and the Kazakh 031/у). Never a ministry arc.
PROJECT_OID: Final = "2.25.160474144398688673171543547461197342812"


@dataclass(frozen=True, slots=True)
class CodeSystem:
    oid: str
    name: str
    version: str


class CS:
    """Code systems (NSI) used by the builders and parsers."""

    DOC_TYPE = CodeSystem("1.2.643.5.1.13.13.11.1522", "Виды медицинской документации", "4.46")
    SEMD_KIND = CodeSystem(
        "1.2.643.5.1.13.13.11.1520", "Электронные медицинские документы", "4.65"
    )  # project reconstruction of 35/108 codes its ClinicalDocument/code by the SEMD kind itself
    CONFIDENTIALITY = CodeSystem(
        "1.2.643.5.1.13.13.99.2.285", "Уровень конфиденциальности медицинского документа", "1.2"
    )
    IDENTITY_DOC = CodeSystem("1.2.643.5.1.13.13.99.2.48", "Документы, удостоверяющие личность", "6.1")
    AUTHORITY_DOC = CodeSystem(
        "1.2.643.5.1.13.13.99.2.313", "Документы, удостоверяющие полномочия законного представителя", "1.2"
    )
    INSURANCE = CodeSystem("1.2.643.5.1.13.13.11.1035", "Виды полиса обязательного медицинского страхования", "1.1")
    PAYMENT_SOURCE = CodeSystem("1.2.643.5.1.13.13.11.1039", "Источники оплаты медицинской помощи", "2.2")
    BASIS_DOC_TYPE = CodeSystem("1.2.643.5.1.13.13.99.2.724", "Типы документов оснований", "1.1")
    GENDER = CodeSystem("1.2.643.5.1.13.13.11.1040", "Пол пациента", "2.1")
    ADDRESS_TYPE = CodeSystem("1.2.643.5.1.13.13.11.1504", "Тип адреса пациента", "1.3")
    REGION_RU = CodeSystem("1.2.643.5.1.13.13.99.2.206", "Субъекты Российской Федерации", "6.5")
    RESIDENT = CodeSystem("1.2.643.5.1.13.13.11.1042", "Признак жителя города или села", "1.1")
    POSITION = CodeSystem(
        "1.2.643.5.1.13.13.11.1002",
        "Должности работников организаций медицинского и фармацевтического профиля",
        "8.6",
    )
    SERVICE_EVENT = CodeSystem("1.2.643.5.1.13.13.99.2.726", "Типы документированных событий", "3.38")
    SECTION = CodeSystem("1.2.643.5.1.13.13.99.2.197", "Секции CDA документов", "1.63")
    FIELD = CodeSystem("1.2.643.5.1.13.13.99.2.166", "Кодируемые поля CDA документов", "1.166")
    MSE_PURPOSE = CodeSystem("1.2.643.5.1.13.13.99.2.147", "Цели направления на медико-социальную экспертизу", "1.3")
    REPEAT = CodeSystem("1.2.643.5.1.13.13.11.1007", "Порядок случаев госпитализации или обращения", "2.1")
    CITIZENSHIP = CodeSystem("1.2.643.5.1.13.13.99.2.315", "Категории гражданства", "1.1")
    MILITARY = CodeSystem("1.2.643.5.1.13.13.99.2.314", "Отношение к воинской обязанности", "1.1")
    LOCATION = CodeSystem("1.2.643.5.1.13.13.99.2.856", "Местонахождение гражданина при направлении на МСЭ", "1.1")
    DIAGNOSIS_GROUND = CodeSystem("1.2.643.5.1.13.13.11.1076", "Степень обоснованности диагноза", "1.3")
    DIAGNOSIS_ROLE = CodeSystem("1.2.643.5.1.13.13.11.1077", "Виды нозологических единиц диагноза", "1.3")
    ICD10 = CodeSystem(
        "1.2.643.5.1.13.13.11.1005",
        "Международная статистическая классификация болезней и проблем, связанных со здоровьем, 10-го пересмотра",
        "2.23",
    )
    VITAL = CodeSystem("1.2.643.5.1.13.13.99.2.262", "Витальные параметры", "1.6")
    BODY_TYPE = CodeSystem("1.2.643.5.1.13.13.11.1492", "Типы телосложения", "1.1")
    PROGNOSIS = CodeSystem(
        "1.2.643.5.1.13.13.99.2.148",
        "Оценка клинического прогноза, реабилитационного потенциала и реабилитационного прогноза",
        "1.1",
    )
    MSE_EXAMINATION = CodeSystem(
        "1.2.643.5.1.13.13.99.2.857",
        "Медицинские обследования, необходимые для получения клинико-функциональных данных "
        "в зависимости от заболевания в целях проведения медико-социальной экспертизы",
        "1.3",
    )
    EXAM_FORM = CodeSystem("1.2.643.5.1.13.13.99.2.970", "Формы проведения медико-социальной экспертизы", "1.1")
    NOTIFY_BY = CodeSystem("1.2.643.5.1.13.13.99.2.991", "Способы информирования гражданина", "1.1")
    DISABILITY_GROUP = CodeSystem("1.2.643.5.1.13.13.11.1053", "Группы инвалидности", "2.2")
    DISABILITY_CAUSE = CodeSystem("1.2.643.5.1.13.13.11.1474", "Причины инвалидности", "1.2")
    RETURN_REASON = CodeSystem(f"{PROJECT_OID}.1", "Причины возврата направления на МСЭ (справочник проекта)", "1.0")
    PROJECT_SECTION = CodeSystem(
        f"{PROJECT_OID}.4", "Секции реконструированных СЭМД 35/108 (справочник проекта)", "1.0"
    )
    PROJECT_FIELD = CodeSystem(f"{PROJECT_OID}.5", "Поля реконструированных СЭМД 35/108 (справочник проекта)", "1.0")
    KZ_NOSOLOGY = CodeSystem(f"{PROJECT_OID}.2", "Нозологические группы пилота МСЭ РК (справочник проекта)", "1.0")
    KZ_EXAMINATION = CodeSystem(f"{PROJECT_OID}.3", "Обследования для заключения 031/у (справочник проекта)", "1.0")


SNILS_OID: Final = "1.2.643.100.3"
HL7_TYPE_ID_ROOT: Final = "2.16.840.1.113883.1.3"
HL7_TYPE_ID_EXTENSION: Final = "POCD_MT000040"


@dataclass(frozen=True, slots=True)
class KindInfo:
    """How a kind is identified: its NSI 1520 OID, its CDA templateId (or XML root) and title."""

    kind: DocumentKind
    nsi_oid: str | None
    template_id: str | None
    title: str
    official: bool  # False: the structure is this project's reconstruction (no public schematron)


KINDS: Final[dict[DocumentKind, KindInfo]] = {
    DocumentKind.REFERRAL: KindInfo(
        DocumentKind.REFERRAL,
        "1.2.643.5.1.13.13.15.4.6",
        "1.2.643.5.1.13.13.14.34.9.6",
        "Направление на медико-социальную экспертизу",
        True,
    ),
    DocumentKind.REFERRAL_ED5: KindInfo(
        DocumentKind.REFERRAL_ED5,
        "1.2.643.5.1.13.13.15.4.5",
        "1.2.643.5.1.13.13.14.34.9.5",
        "Направление на медико-социальную экспертизу",
        True,
    ),
    # No public guide/schematron at hand (35, 108, 187, 130): the templateId is the kind's NSI 1520
    # OID by project convention (docs/documents.md), so detection is unambiguous and documented.
    DocumentKind.MSE_RESULT: KindInfo(
        DocumentKind.MSE_RESULT,
        "1.2.643.5.1.13.13.15.5.2",
        "1.2.643.5.1.13.13.15.5.2",
        "Сведения о результатах проведенной медико-социальной экспертизы",
        False,
    ),
    DocumentKind.RETURN_NOTICE: KindInfo(
        DocumentKind.RETURN_NOTICE,
        "1.2.643.5.1.13.13.15.7.1",
        "1.2.643.5.1.13.13.15.7.1",
        "Уведомление о причинах возврата направления на медико-социальную экспертизу",
        False,
    ),
    DocumentKind.MSE_RESULT_ED3: KindInfo(
        DocumentKind.MSE_RESULT_ED3,
        "1.2.643.5.1.13.13.15.5.3",
        "1.2.643.5.1.13.13.15.5.3",
        "Сведения о результатах проведенной медико-социальной экспертизы",
        False,
    ),
    DocumentKind.RETURN_NOTICE_ED2: KindInfo(
        DocumentKind.RETURN_NOTICE_ED2,
        "1.2.643.5.1.13.13.15.7.2",
        "1.2.643.5.1.13.13.15.7.2",
        "Уведомление о причинах возврата направления на медико-социальную экспертизу в медицинскую организацию",
        False,
    ),
    DocumentKind.KZ_031U: KindInfo(
        DocumentKind.KZ_031U,
        None,
        None,
        "Заключение на медико-социальную экспертизу (форма 031/у)",
        False,
    ),
}
