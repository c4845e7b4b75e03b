"""Every text the FLK writes, in Russian and English (docs/languages.md).

A finding carries its message in both languages (:class:`gateway.common.language.Text`): the
journal keeps both, and each surface shows the one its reader chose — REST by ``Accept-Language``,
the CLI by ``--lang``/the locale, the UI by its language. Codes never change with the language.

- :data:`FLK_TEXTS` — the rules' messages and the checker's skip reasons, keyed by rule;
- :data:`FLK_CODE_TEXTS` — what each :class:`~gateway.flk.codes.FlkCode` means, in both languages.

What the FLK relays rather than writes stays in its author's language inside the text: the
ministry's Schematron assertions (Russian), lxml's XSD errors (English), names from the ministry's
tables (examination groups, certificate titles).
"""

from __future__ import annotations

from typing import Final

from gateway.common.language import Catalogue
from gateway.documents import DocumentErrorCode
from gateway.flk.codes import FlkCode

__all__ = ["DOCUMENT_CODE_TEXTS", "FLK_CODE_TEXTS", "FLK_TEXTS", "SKIP_TEXTS"]

FLK_TEXTS: Final = Catalogue(
    "FLK",
    {
        # signatures-present, invalid-signature
        "signature.label.personal": ("Подпись № {n} (персональная)", "Signature {n} (personal)"),
        "signature.label.organization": ("Подпись № {n} (организации)", "Signature {n} (organisation)"),
        "signature.none": ("Документ не подписан", "The document is not signed"),
        "signature.xmldsig": (
            "подпись XMLDSig не поддерживается, передайте открепленную подпись CMS (CAdES-BES)",
            "XMLDSig signatures are not supported; send a detached CMS signature (CAdES-BES)",
        ),
        "signature.untrusted": (
            "цепочка сертификатов не проверена — не настроены доверенные корневые сертификаты",
            "the certificate chain was not verified: no trusted root certificates are configured",
        ),
        # dates
        "dates.future": (
            "Дата создания документа позже текущей даты",
            "The document's creation date is later than the current date",
        ),
        "dates.before_cert": (
            "сертификат недействителен на дату создания документа (документ создан раньше начала срока действия "
            "сертификата)",
            "the certificate was not valid on the document's creation date (the document was created before "
            "the certificate's validity began)",
        ),
        "dates.after_cert": (
            "сертификат недействителен на дату создания документа (документ создан позже окончания срока "
            "действия сертификата)",
            "the certificate was not valid on the document's creation date (the document was created after the "
            "certificate expired)",
        ),
        # metadata
        "metadata.org_oid": (
            "OID организации в сведениях о документе не совпадает с OID организации в документе",
            "The organisation OID in the submission's metadata differs from the one in the document",
        ),
        "metadata.local_uid": (
            "Локальный идентификатор (localUid) в сведениях о документе не совпадает с идентификатором документа",
            "The local identifier (localUid) in the submission's metadata differs from the document's",
        ),
        "metadata.created": (
            "Дата создания в сведениях о документе не совпадает с датой создания документа",
            "The creation date in the submission's metadata differs from the document's",
        ),
        # kind-validity
        "kind.out_of_period": (
            "Дата создания документа {day} находится вне периода действия вида документов {code} («{title}», "
            "редакция {edition}: {period})",
            "The document's creation date {day} is outside the period of document kind {code} («{title}», "
            "edition {edition}: {period})",
        ),
        "kind.period_from": ("с {day}", "from {day}"),
        "kind.period_to": ("по {day}", "to {day}"),
        "kind.successor": (
            "; документы, созданные после {day}, оформляются видом {code}",
            "; documents created after {day} are of kind {code}",
        ),
        # semd-schema
        "schema.xsd": (
            "Документ не соответствует XSD-схеме вида {kind} (строка {line}): {error}",
            "The document does not match the XSD schema of kind {kind} (line {line}): {error}",
        ),
        "schema.xsd_more": ("…и ещё {n} ошибок XSD-схемы", "…and {n} more XSD schema errors"),
        "schema.schematron": ("{text}", "{text} [the ministry's Schematron rule, in its own wording]"),
        # duplicate, late-arrival
        "duplicate.local_uid": (
            "Дубль документа: документ с указанным идентификатором уже принят (от системы «{source}»)",
            "Duplicate document: a document with this identifier is already accepted (from system «{source}»)",
        ),
        "duplicate.requisites": (
            "Дубль документа: документ этого вида с тем же номером от той же организации уже принят",
            "Duplicate document: a document of this kind with the same number from the same organisation is "
            "already accepted",
        ),
        "duplicate.bytes": (
            "Дубль документа: такой же документ (побайтно) уже принят под другим идентификатором",
            "Duplicate document: the same document (byte for byte) is already accepted under another identifier",
        ),
        "late.decision": (
            "Направление поступило после принятия решения по нему: уже имеются {what}",
            "The referral arrived after a decision on it: there already is {what}",
        ),
        "late.what.result": ("сведения о результатах МСЭ", "an MSE result"),
        "late.what.return": ("уведомление о возврате направления", "a return notice for the referral"),
        # wrong-region
        "region.missing": (
            "Не указан регион медицинской организации",
            "The medical organisation's region is not given",
        ),
        "region.oid": (
            "Регион в OID организации по ФРМО ({oid_region}) не совпадает с регионом её адреса ({org_region})",
            "The region in the organisation's FRMO OID ({oid_region}) differs from the region of its address "
            "({org_region})",
        ),
        "region.bureau": (
            "Направление медицинской организации региона {org_region} адресовано бюро МСЭ другого субъекта РФ "
            "(регион {bureau_region})",
            "The referral of a medical organisation in region {org_region} is addressed to an MSE bureau of "
            "another region (region {bureau_region})",
        ),
        "region.not_served": (
            "Медицинская организация находится в регионе {org_region}, который не обслуживается бюро МСЭ "
            "(обслуживаются: {served})",
            "The medical organisation is in region {org_region}, which the MSE bureau does not serve "
            "(served: {served})",
        ),
        # citizen-data
        "citizen.iin_missing": ("Не указан ИИН гражданина", "The citizen's IIN is not given"),
        "citizen.iin_invalid": (
            "ИИН гражданина некорректен (контрольный разряд или дата)",
            "The citizen's IIN is invalid (check digit or date)",
        ),
        "citizen.iin_mismatch": (
            "ИИН гражданина не соответствует указанным дате рождения или полу",
            "The citizen's IIN does not match the given birth date or sex",
        ),
        "citizen.snils_missing": ("Не указан СНИЛС гражданина", "The citizen's SNILS is not given"),
        "citizen.snils_invalid": (
            "СНИЛС гражданина некорректен (не сходится контрольное число)",
            "The citizen's SNILS is invalid (the check number does not match)",
        ),
        "citizen.id_doc_missing": (
            "Не указан документ, удостоверяющий личность гражданина",
            "The citizen's identity document is not given",
        ),
        "citizen.id_doc_number": (
            "Не указан номер документа, удостоверяющего личность",
            "The identity document's number is not given",
        ),
        "citizen.passport_series": (
            "Необходимо указать серию паспорта гражданина",
            "The citizen's passport series must be given",
        ),
        "citizen.id_doc_date": (
            "Дата выдачи документа, удостоверяющего личность, раньше даты рождения или позже даты документа",
            "The identity document's issue date is before the birth date or after the document's date",
        ),
        "citizen.rep_missing": (
            "Гражданин несовершеннолетний: необходимы сведения о законном представителе",
            "The citizen is a minor: the legal representative must be given",
        ),
        "citizen.rep_name": (
            "Не указаны фамилия или имя законного представителя",
            "The legal representative's surname or given name is missing",
        ),
        "citizen.rep_snils": (
            "СНИЛС законного представителя некорректен",
            "The legal representative's SNILS is invalid",
        ),
        "citizen.rep_iin": ("ИИН законного представителя некорректен", "The legal representative's IIN is invalid"),
        "citizen.rep_document": (
            "Не указан документ, удостоверяющий личность или полномочия законного представителя",
            "No identity or authority document of the legal representative is given",
        ),
        "citizen.metadata": (
            "{what} пациента в сведениях о документе не совпадает с указанным в документе",
            "The patient's {what} in the submission's metadata differs from the document's",
        ),
        "citizen.field.snils": ("СНИЛС", "SNILS"),
        "citizen.field.iin": ("ИИН", "IIN"),
        "citizen.field.family": ("Фамилия", "surname"),
        "citizen.field.given": ("Имя", "given name"),
        "citizen.field.patronymic": ("Отчество", "patronymic"),
        "citizen.field.birth_date": ("Дата рождения", "birth date"),
        "citizen.surname_missing": ("Не указана фамилия гражданина", "The citizen's surname is not given"),
        "citizen.name_missing": ("Не указано имя гражданина", "The citizen's given name is not given"),
        "citizen.born_after": (
            "Дата рождения гражданина позже даты документа",
            "The citizen's birth date is after the document's date",
        ),
        "citizen.too_old": (
            "Дата рождения гражданина неправдоподобна (возраст более {years} лет)",
            "The citizen's birth date is implausible (older than {years} years)",
        ),
        "citizen.address_region_missing": (
            "В адресе гражданина не указан код региона",
            "The citizen's address has no region code",
        ),
        "citizen.address_region_invalid": (
            "Код региона в адресе гражданина не является кодом субъекта РФ",
            "The region code in the citizen's address is not a code of a Russian region",
        ),
        "citizen.address_missing": ("Не указан адрес гражданина", "The citizen's address is not given"),
        # examinations
        "exams.no_diagnosis": ("В документе не указан основной диагноз", "The document gives no main diagnosis"),
        "exams.not_icd10": (
            "Код основного диагноза не является кодом МКБ-10",
            "The main diagnosis code is not an ICD-10 code",
        ),
        "exams.missing": (
            "Для заболевания группы «{group}» ({code}) не представлены результаты обязательных медицинских "
            "обследований: {listed}",
            "For a disease of group «{group}» ({code}) the results of mandatory examinations are missing: {listed}",
        ),
        "exams.unverified": (
            " (строка перечня не сверена с приказом: замечание, не отказ)",
            " (this line of the list is not yet checked against the order: a remark, not a rejection)",
        ),
        "exams.kz_unknown_group": (
            "Нозологическая группа «{group}» не относится к пилотному проекту",
            "Nosology group «{group}» is not part of the pilot project",
        ),
        "exams.kz_not_in_group": (
            "Основной диагноз {code} не относится к нозологической группе «{group}»",
            "The main diagnosis {code} does not belong to nosology group «{group}»",
        ),
        "exams.kz_children_only": (
            "Нозологическая группа «{group}» относится только к детям",
            "Nosology group «{group}» is for children only",
        ),
        "exams.kz_missing": (
            "Для группы «{group}» отсутствуют обязательные обследования: {listed}",
            "Mandatory examinations of group «{group}» are missing: {listed}",
        ),
        # role-policy
        "role.id.snils": ("СНИЛС", "SNILS"),
        "role.id.iin": ("ИИН", "IIN"),
        "role.id.ogrn": ("ОГРН", "OGRN"),
        "role.id.bin": ("БИН", "BIN"),
        "role.cert_lacks_id": ("в сертификате подписанта нет {name}", "the signer's certificate has no {name}"),
        "role.meta_vs_cert": (
            "{name} подписанта в сведениях о подписи не совпадает с {name} в сертификате",
            "the signer's {name} in the signature's metadata differs from the {name} in the certificate",
        ),
        "role.doc_vs_cert": (
            "{name} в сертификате не совпадает с {name} лица, подписывающего документ ({role}), в документе",
            "the {name} in the certificate differs from the {name} of the document's signer ({role}) in the document",
        ),
        "role.title": (
            "должность в сертификате «{title}» не соответствует роли {role}",
            "the title in the certificate «{title}» does not fit role {role}",
        ),
        "role.no_title": ("не указана", "none given"),
        "role.kz_owner_type": (
            "сертификат не является сертификатом нужного типа владельца ({roles}) для роли {role}",
            "the certificate is not of the owner type needed ({roles}) for role {role}",
        ),
        "role.employee_ogrn": (
            "ОГРН организации в сертификате сотрудника не совпадает с ОГРН организации документа",
            "the organisation OGRN in the employee's certificate differs from the document organisation's OGRN",
        ),
        "role.org_cert_lacks": ("в сертификате нет {name}", "the certificate has no {name}"),
        "role.org_mismatch": (
            "{name} в сертификате не совпадает с {name} организации документа",
            "the {name} in the certificate differs from the document organisation's {name}",
        ),
        "role.no_policy": (
            "Для вида документа {kind} не задана ролевая модель подписания",
            "No signing role policy is configured for document kind {kind}",
        ),
        "role.personal_count": (
            "Число персональных подписей ({count}) не соответствует требованиям вида документа {kind}: нужна "
            "подпись {role}{range}",
            "The number of personal signatures ({count}) does not meet document kind {kind}'s requirement: a "
            "signature of {role} is needed{range}",
        ),
        "role.range": (" (от {low} до {high})", " (from {low} to {high})"),
        "role.org_count": (
            "Число подписей организации ({count}) не соответствует требованиям вида документа {kind} (от {low} до "
            "{high})",
            "The number of organisation signatures ({count}) does not meet document kind {kind}'s requirement "
            "(from {low} to {high})",
        ),
        # the checker
        "checker.internal": (
            "Внутренняя ошибка правила {rule}: проверка не выполнена",
            "Internal error in rule {rule}: the check was not done",
        ),
        "submission.not_json": ("Файл не является подачей: {detail}", "Not a submission: {detail}"),
        "submission.not_document": (
            "Файл не является документом известного вида: {detail}",
            "Not a document of a known kind: {detail}",
        ),
        "submission.invalid": (
            "Подача не соответствует схеме: {detail}",
            "The submission does not match the schema: {detail}",
        ),
    },
)

# The checker's reasons for skipping a rule (the report's ``skipped``).
SKIP_TEXTS: Final = Catalogue(
    "FLK skip reasons",
    {
        "disabled": ("правило отключено в конфигурации", "the rule is disabled in the configuration"),
        "no_package": ("нет пакета XSD/схематрона для вида {kind}", "no XSD/Schematron package for kind {kind}"),
        "no_package_hint": (
            " (в поставке нет; пакет министерства можно указать в validation.semd_packages_dir)",
            " (none shipped; the ministry's package can be given in validation.semd_packages_dir)",
        ),
        "package_broken": (
            "пакет проверки вида {kind} не загружается: {error}",
            "the validation package of kind {kind} does not load: {error}",
        ),
        "package_error": ("{error}", "{error}"),
        "not_xml": ("документ не является корректным XML", "the document is not well-formed XML"),
        "not_parsed": ("документ не разобран", "the document was not parsed"),
        "no_exams_table": (
            "перечень обследований (required_exams_ru.tsv) не настроен",
            "the examinations list (required_exams_ru.tsv) is not configured",
        ),
        "no_nosologies": (
            "таблица нозологий (kz_nosologies.tsv) не настроена",
            "the nosology table (kz_nosologies.tsv) is not configured",
        ),
        "no_journal": ("нет доступа к журналу (пробная проверка)", "no access to the journal (a dry run)"),
        "no_patient_id": ("не указан СНИЛС/ИИН пациента", "the patient's SNILS/IIN is not given"),
    },
)

FLK_CODE_TEXTS: Final = Catalogue(
    "FLK codes",
    {
        FlkCode.ATTRIBUTE_MISMATCH: (
            "Метаданные документа не совпадают с его содержимым",
            "The document's metadata differ from its content",
        ),
        FlkCode.DOC_DATE_MISMATCH_CERT_NOT_AFTER: (
            "Документ создан после окончания срока действия сертификата организации",
            "The document was created after the organisation certificate expired",
        ),
        FlkCode.DOC_DATE_MISMATCH_CERT_NOT_BEFORE: (
            "Документ создан до начала срока действия сертификата организации",
            "The document was created before the organisation certificate became valid",
        ),
        FlkCode.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT: (
            "Не удалось построить цепочку сертификатов до аккредитованного УЦ",
            "No certificate chain to an accredited CA could be built",
        ),
        FlkCode.INVALID_CONTENT: ("Документ не соответствует XSD-схеме", "The document does not match the XSD schema"),
        FlkCode.NO_DOCUMENT_KIND_ON_DATE: (
            "Вид документа не действует на дату его создания",
            "The document kind is not in force on the creation date",
        ),
        FlkCode.NO_SIGNATURE: ("Отсутствуют подписи документа", "The document has no signatures"),
        FlkCode.NO_SNILS: ("Не указан СНИЛС гражданина", "The citizen's SNILS is missing"),
        FlkCode.NOT_UNIQUE_PROVIDED_ID: (
            "Документ с этим идентификатором уже принят",
            "A document with this identifier is already accepted",
        ),
        FlkCode.ORG_SIGNATURE_OCCURRENCE_MISMATCH: (
            "Число подписей организации не соответствует виду документа",
            "The number of organisation signatures does not fit the document kind",
        ),
        FlkCode.PATIENT_NAME_NOT_FOUND: ("Не указано имя гражданина", "The citizen's given name is missing"),
        FlkCode.PATIENT_SURNAME_NOT_FOUND: ("Не указана фамилия гражданина", "The citizen's surname is missing"),
        FlkCode.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT: (
            "Сертификат подписанта недействителен на дату создания документа",
            "The signer's certificate is not valid on the document's creation date",
        ),
        FlkCode.POSITION_TO_ROLE_MISMATCH: (
            "Должность подписанта не соответствует роли",
            "The signer's title does not fit the role",
        ),
        FlkCode.ROLE_OCCURRENCE_MISMATCH: (
            "Число персональных подписей не соответствует виду документа",
            "The number of personal signatures does not fit the document kind",
        ),
        FlkCode.SERIES_REQUIRED: ("Не указана серия паспорта", "The passport series is missing"),
        FlkCode.SIGNER_ORG_MISMATCH: (
            "Организация подписанта не совпадает с организацией документа",
            "The signer's organisation differs from the document's",
        ),
        FlkCode.VALUE_MISMATCH_METADATA_AND_CERTIFICATE: (
            "Сведения о подписанте не совпадают с сертификатом",
            "The signer's details differ from the certificate",
        ),
        FlkCode.WRONG_CREATION_DATE: ("Неверная дата создания документа", "Wrong document creation date"),
        FlkCode.WRONG_SIGNATURE_FORMAT: ("Неподдерживаемый формат ЭП", "Unsupported signature format"),
        FlkCode.XML_VALIDATION_ERROR: (
            "Документ не прошёл проверку схематроном",
            "The document failed a Schematron rule",
        ),
        FlkCode.DUPLICATE_DOCUMENT: (
            "Такой же документ (побайтно) уже принят",
            "The same document (byte for byte) is already accepted",
        ),
        FlkCode.DUPLICATE_REQUISITES: (
            "Документ с теми же реквизитами уже принят",
            "A document with the same requisites is already accepted",
        ),
        FlkCode.LATE_ARRIVAL: (
            "Решение по направлению уже принято",
            "A decision on this referral already exists",
        ),
        FlkCode.WRONG_REGION: (
            "Медицинская организация не из региона бюро МСЭ",
            "The medical organisation is not in the MSE bureau's region",
        ),
        FlkCode.PATIENT_METADATA_MISMATCH: (
            "Сведения о пациенте не совпадают с документом",
            "The patient metadata differ from the document",
        ),
        FlkCode.PATIENT_SNILS_INVALID: ("СНИЛС гражданина некорректен", "The citizen's SNILS is invalid"),
        FlkCode.PATIENT_IIN_MISSING: ("Не указан ИИН гражданина", "The citizen's IIN is missing"),
        FlkCode.PATIENT_IIN_INVALID: ("ИИН гражданина некорректен", "The citizen's IIN is invalid"),
        FlkCode.PATIENT_IIN_MISMATCH: (
            "ИИН не соответствует дате рождения или полу",
            "The IIN does not match the birth date or sex",
        ),
        FlkCode.BIRTH_DATE_IMPLAUSIBLE: ("Неправдоподобная дата рождения", "Implausible birth date"),
        FlkCode.ADDRESS_INVALID: ("Адрес гражданина некорректен", "The citizen's address is invalid"),
        FlkCode.IDENTITY_DOCUMENT_MISSING: (
            "Не указан документ, удостоверяющий личность",
            "The identity document is missing",
        ),
        FlkCode.IDENTITY_DOCUMENT_INVALID: (
            "Документ, удостоверяющий личность, некорректен",
            "The identity document is invalid",
        ),
        FlkCode.REPRESENTATIVE_MISSING: (
            "Нет сведений о законном представителе",
            "The legal representative is missing",
        ),
        FlkCode.REPRESENTATIVE_INVALID: (
            "Сведения о законном представителе некорректны",
            "The legal representative's details are invalid",
        ),
        FlkCode.REQUIRED_EXAMS_MISSING: (
            "Не представлены обязательные обследования",
            "Mandatory examinations are missing",
        ),
        FlkCode.DIAGNOSIS_INVALID: ("Основной диагноз некорректен", "The main diagnosis is invalid"),
        FlkCode.KZ_NOSOLOGY_MISMATCH: (
            "Нозологическая группа не соответствует диагнозу или возрасту",
            "The nosology group does not fit the diagnosis or age",
        ),
        FlkCode.KZ_EXAMS_MISSING: (
            "Нет обязательных обследований нозологической группы",
            "Mandatory examinations of the nosology group are missing",
        ),
        FlkCode.SUBMISSION_INVALID: (
            "Подача не соответствует схеме",
            "The submission does not match the schema",
        ),
        FlkCode.INTERNAL_ERROR: (
            "Внутренняя ошибка правила: подача задержана",
            "Internal error in a rule: the submission is held",
        ),
    },
)

# The document parser's codes (rule ``document``). The parser words its messages in Russian and names
# the field and value; the English text is the code's meaning plus the field.
DOCUMENT_CODE_TEXTS: Final = Catalogue(
    "document codes",
    {
        DocumentErrorCode.XML_MALFORMED: ("Документ не является корректным XML", "The document is not well-formed XML"),
        DocumentErrorCode.XML_FORBIDDEN: (
            "Документ содержит запрещённую конструкцию XML (DTD, сущности)",
            "The document holds a forbidden XML construct (DTD, entities)",
        ),
        DocumentErrorCode.UNKNOWN_KIND: ("Неизвестный вид документа", "Unknown document kind"),
        DocumentErrorCode.KIND_MISMATCH: (
            "Документ не того вида, что указан в подаче",
            "The document is not of the kind the submission declares",
        ),
        DocumentErrorCode.MISSING_FIELD: (
            "В документе отсутствует обязательное поле",
            "A required field is missing from the document",
        ),
        DocumentErrorCode.INVALID_VALUE: ("Некорректное значение в документе", "An invalid value in the document"),
    },
)
