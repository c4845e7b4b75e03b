"""Realistic, fictional sample documents of every kind, for the samples generator, the sandbox and
tests. All names, numbers and identifiers are invented; SNILS, OGRN, IIN and BIN carry valid check
digits so that format-logical control treats them like real ones.

``sample_document(kind, seed=n)`` is deterministic: the same seed gives the same document.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Final

from gateway.documents._xml import MSK
from gateway.documents.codes import KINDS
from gateway.documents.model import (
    Address,
    AuthorityDocument,
    Coded,
    Diagnoses,
    Diagnosis,
    DiagnosisRole,
    DocumentKind,
    ExamForm,
    Examination,
    IdentityDocument,
    InsurancePolicy,
    Kz031Details,
    LegalRepresentative,
    Organisation,
    ParsedDocument,
    Patient,
    Practitioner,
    ReferralDetails,
    ResultDetails,
    ReturnDetails,
    Sex,
    SignerRole,
    VitalSign,
    WorkInfo,
)

__all__ = ["iin_checksum_ok", "make_iin", "make_ogrn", "make_snils", "sample_document"]

_MALE: Final = [
    ("Иванов", "Пётр", "Сергеевич"),
    ("Смирнов", "Алексей", "Викторович"),
    ("Кузнецов", "Игорь", "Олегович"),
]
_FEMALE: Final = [
    ("Петрова", "Анна", "Николаевна"),
    ("Соколова", "Мария", "Игоревна"),
    ("Волкова", "Елена", "Павловна"),
]
_MOSCOW: Final = Coded("77", "г. Москва")
_ALMATY: Final = Coded("75", "г. Алматы")
_KZ_TZ: Final = timezone(timedelta(hours=5))


def make_snils(rng: random.Random) -> str:
    """A SNILS ``XXX-XXX-XXX YY`` with a correct control number (Pension Fund algorithm)."""
    digits = [rng.randint(0, 9) for _ in range(9)]
    if digits[:3] == [0, 0, 0]:
        digits[0] = 1
    total = sum(d * (9 - i) for i, d in enumerate(digits))
    control = total % 101 if total > 100 else total
    control = 0 if control in (100, 101) else control
    s = "".join(map(str, digits))
    return f"{s[0:3]}-{s[3:6]}-{s[6:9]} {control:02d}"


def make_ogrn(rng: random.Random) -> str:
    """A 13-digit OGRN of a legal entity with a correct check digit."""
    body = "1" + "".join(str(rng.randint(0, 9)) for _ in range(11))
    return body + str(int(body) % 11 % 10)


def _kz_control(digits: list[int]) -> int | None:
    weights1 = list(range(1, 12))
    weights2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
    control = sum(d * w for d, w in zip(digits, weights1, strict=True)) % 11
    if control == 10:
        control = sum(d * w for d, w in zip(digits, weights2, strict=True)) % 11
    return None if control == 10 else control


def iin_checksum_ok(value: str) -> bool:
    """True when a 12-digit IIN/BIN has a correct control digit."""
    if len(value) != 12 or not value.isdigit():
        return False
    return _kz_control([int(c) for c in value[:11]]) == int(value[11])


def make_iin(rng: random.Random, birth: date | None = None, *, male: bool = True, entity: bool = False) -> str:
    """An IIN (or, with ``entity=True``, a BIN) with a correct control digit."""
    while True:
        if entity:
            head = [rng.randint(0, 9) for _ in range(4)] + [4, rng.randint(0, 3)]
        else:
            assert birth is not None
            century = (3 if male else 4) if birth.year < 2000 else (5 if male else 6)
            head = [int(c) for c in birth.strftime("%y%m%d")] + [century]
        digits = head + [rng.randint(0, 9) for _ in range(11 - len(head))]
        control = _kz_control(digits)
        if control is not None:
            return "".join(map(str, digits)) + str(control)


def _person(rng: random.Random, female: bool) -> tuple[str, str, str]:
    return rng.choice(_FEMALE if female else _MALE)


def _ru_org(rng: random.Random, name: str, number: int) -> Organisation:
    return Organisation(
        oid=f"1.2.643.5.1.13.13.12.2.77.{number}",
        name=name,
        address=Address(
            region=_MOSCOW,
            text=f"г. Москва, ул. Садовая-Черногрязская, д. {rng.randint(1, 40)}",
            postal_code="105064",
            fias_aoguid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            fias_houseguid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        ),
        phone=f"+7495{rng.randint(1000000, 9999999)}",
        ogrn=make_ogrn(rng),
    )


def _practitioner(rng: random.Random, role: SignerRole, position: Coded, local_id: str) -> Practitioner:
    family, given, patronymic = _person(rng, rng.random() < 0.5)
    return Practitioner(
        local_id=local_id,
        family=family,
        given=given,
        patronymic=patronymic,
        position=position,
        role=role,
        snils=make_snils(rng),
    )


def _ru_patient(rng: random.Random, with_guardian: bool, policy_dates: bool = False) -> Patient:
    female = rng.random() < 0.5
    family, given, patronymic = _person(rng, female)
    birth = date(1950 + rng.randint(0, 45), rng.randint(1, 12), rng.randint(1, 28))
    guardian = None
    if with_guardian:
        g_family, g_given, g_patronymic = _person(rng, True)
        guardian = LegalRepresentative(
            family=g_family,
            given=g_given,
            patronymic=g_patronymic,
            snils=make_snils(rng),
            phone=f"+7916{rng.randint(1000000, 9999999)}",
            authority_document=AuthorityDocument(
                type=Coded("1", "Решение суда об установлении опеки"),
                number=f"2-{rng.randint(100, 999)}/2021",
                issuer="Мещанский районный суд г. Москвы",
                issue_date=date(2021, 4, 12),
            ),
        )
    return Patient(
        local_id=str(rng.randint(100000, 999999)),
        family=family,
        given=given,
        patronymic=patronymic,
        birth_date=birth,
        sex=Sex.FEMALE if female else Sex.MALE,
        address=Address(
            region=_MOSCOW,
            text=f"г. Москва, ул. Бакунинская, д. {rng.randint(1, 90)}, кв. {rng.randint(1, 200)}",
            postal_code="105082",
            fias_aoguid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            fias_houseguid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        ),
        identity_document=IdentityDocument(
            type=Coded("1", "Паспорт гражданина Российской Федерации"),
            series=f"45{rng.randint(10, 23):02d}",
            number=f"{rng.randint(100000, 999999)}",
            issuer="ГУ МВД России по г. Москве",
            issuer_code="770-001",
            issue_date=date(2015, 6, 2),
        ),
        snils=make_snils(rng),
        phone=f"+7903{rng.randint(1000000, 9999999)}",
        insurance_policy=InsurancePolicy(
            type=Coded("3", "Полис ОМС единого образца"),
            number=f"77{rng.randint(10**13, 10**14 - 1)}",
            valid_from=date(2012, 5, 14) if policy_dates else None,
            valid_to=date(2099, 12, 31) if policy_dates else None,
        ),
        legal_representative=guardian,
    )


_EXAMS_RU: Final = (
    ("1", "Общий (клинический) анализ крови развернутый", "Гемоглобин 128 г/л, лейкоциты 6,2×10⁹/л, СОЭ 12 мм/ч"),
    ("2", "Электрокардиография", "Ритм синусовый, ЧСС 78 в мин, признаки гипертрофии левого желудочка"),
    ("3", "Эхокардиография", "ФВ 38 %, диффузный гипокинез, дилатация левого желудочка"),
)


def _base(rng: random.Random, kind: DocumentKind, created: datetime) -> dict[str, object]:
    mo = _ru_org(rng, "ГБУЗ «Городская поликлиника № 2 Департамента здравоохранения города Москвы»", 7970)
    return {
        "kind": kind,
        "local_uid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "set_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "version": 1,
        "created": created,
        "organisation": mo,
    }


def sample_document(kind: DocumentKind, *, seed: int = 0) -> ParsedDocument:
    """A complete, realistic document of ``kind`` (deterministic for a given seed)."""
    rng = random.Random(f"{kind.value}:{seed}")
    created = datetime(2024, 3, 11, 10, 15, 0, tzinfo=MSK) + timedelta(days=rng.randint(0, 300))
    if kind in (DocumentKind.REFERRAL, DocumentKind.REFERRAL_ED5):
        return _referral(rng, kind, created)
    if kind in (DocumentKind.MSE_RESULT_ED3, DocumentKind.MSE_RESULT):
        return _result(rng, created, kind)
    if kind in (DocumentKind.RETURN_NOTICE_ED2, DocumentKind.RETURN_NOTICE):
        return _return(rng, created, kind)
    return _kz(rng, created)


def _diagnoses() -> Diagnoses:
    return Diagnoses(
        main=Diagnosis("I25.5", "Ишемическая кардиомиопатия", DiagnosisRole.MAIN),
        others=(
            Diagnosis("I50.0", "Застойная сердечная недостаточность", DiagnosisRole.COMPLICATION),
            Diagnosis("E11.9", "Сахарный диабет 2 типа без осложнений", DiagnosisRole.CONCOMITANT),
        ),
    )


def _referral(rng: random.Random, kind: DocumentKind, created: datetime) -> ParsedDocument:
    base = _base(rng, kind, created)
    mo = base["organisation"]
    assert isinstance(mo, Organisation)
    edition6 = kind is DocumentKind.REFERRAL
    chair = _practitioner(
        rng, SignerRole.VK_CHAIR, Coded("6", "заместитель руководителя (начальника) медицинской организации"), "7001"
    )
    author = _practitioner(rng, SignerRole.AUTHOR, Coded("109", "врач-терапевт участковый"), "7002")
    members = (
        _practitioner(rng, SignerRole.VK_MEMBER, Coded("80", "врач-кардиолог"), "7003"),
        _practitioner(rng, SignerRole.VK_MEMBER, Coded("90", "врач-невролог"), "7004"),
    )
    vk_date = (created - timedelta(days=2)).date()
    bureau = _ru_org(rng, "ФКУ «ГБ МСЭ по г. Москве» Минтруда России, бюро медико-социальной экспертизы № 5", 9105)
    details = ReferralDetails(
        purpose=Coded("1", "Установление группы инвалидности"),
        repeat=Coded("1", "Первично"),
        vk_protocol_number=f"{rng.randint(100, 999)}/{created:%y}",
        vk_protocol_date=vk_date,
        issue_date=created.date(),
        home_exam=False,
        palliative=False,
        flag_7012=False,
        citizenship=Coded("1", "Гражданин Российской Федерации"),
        military_duty=Coded("4", "Не военнообязанный"),
        location=Coded("1", "По месту жительства")
        if edition6
        else Coded("2", "В медицинской организации, оказывающей медицинскую помощь в стационарных условиях"),
        location_org=None if edition6 else mo,
        bureau=bureau,
        vk_members=members,
        observed_since_year="2016",
        disease_history="Ишемическая болезнь сердца с 2016 г., инфаркт миокарда в 2019 г., прогрессирование ХСН.",
        life_history="Рос и развивался соответственно возрасту. Вредные привычки отрицает.",
        health_state="Состояние средней тяжести. Одышка при минимальной нагрузке, отёки голеней.",
        vital_signs=(
            VitalSign("50", "Масса тела", "86", "кг"),
            VitalSign("51", "Длина тела", "176", "см"),
            VitalSign("10", "Индекс массы тела", "27.8", "кг/м2"),
        ),
        body_type=Coded("2", "Нормостеническое"),
        clinical_prognosis=Coded("3", "Сомнительный"),
        rehab_potential=Coded("2", "Низкий"),
        rehab_prognosis=Coded("3", "Сомнительный"),
        rec_surgery="Не нуждается",
        rec_prosthetics="Не нуждается",
        rec_spa="Санаторно-курортное лечение кардиологического профиля",
        rec_other="Диспансерное наблюдение кардиолога",
        rec_medical_rehab="Медицинская реабилитация в амбулаторных условиях (3 этап)",
        consent_date=(created - timedelta(days=1)).date() if edition6 else None,
        notify_by=Coded("1", "По телефону (СМС)") if edition6 else None,
        education=None,
        work=WorkInfo(
            employer="ООО «Стройинвест»",
            employer_address=Address(
                region=_MOSCOW,
                text="г. Москва, ул. Лесная, д. 5",
                postal_code="125047",
                fias_aoguid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            ),
            position="Инженер-сметчик",
            qualification="Инженер II категории",
            experience="22 года",
            conditions="Работа в офисе, нагрузка умеренная",
        ),
    )
    return ParsedDocument(
        kind=kind,
        local_uid=str(base["local_uid"]),
        set_id=str(base["set_id"]),
        version=1,
        created=created,
        title="Направление на медико-социальную экспертизу",
        patient=_ru_patient(rng, with_guardian=rng.random() < 0.3, policy_dates=not edition6),
        organisation=mo,
        author=author,
        legal_authenticator=chair,
        diagnoses=_diagnoses(),
        examinations=tuple(
            Examination(
                code,
                name,
                vk_date - timedelta(days=10 + i),
                result,
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            )
            for i, (code, name, result) in enumerate(_EXAMS_RU)
        ),
        exam_form=ExamForm.BY_DOCUMENTS if edition6 else None,
        details=details,
    )


def _bureau_staff(rng: random.Random) -> tuple[Organisation, Practitioner, Practitioner]:
    bureau = _ru_org(rng, "ФКУ «ГБ МСЭ по г. Москве» Минтруда России, бюро медико-социальной экспертизы № 5", 9105)
    head = _practitioner(
        rng, SignerRole.BUREAU_HEAD, Coded("1", "руководитель бюро медико-социальной экспертизы"), "9001"
    )
    author = _practitioner(rng, SignerRole.AUTHOR, Coded("2", "врач по медико-социальной экспертизе"), "9002")
    return bureau, head, author


def _result(rng: random.Random, created: datetime, kind: DocumentKind) -> ParsedDocument:
    bureau, head, author = _bureau_staff(rng)
    base = _base(rng, kind, created)
    return ParsedDocument(
        kind=kind,
        local_uid=str(base["local_uid"]),
        set_id=str(base["set_id"]),
        version=1,
        created=created,
        title="Сведения о результатах проведенной медико-социальной экспертизы",
        patient=_ru_patient(rng, with_guardian=False),
        organisation=bureau,
        author=author,
        legal_authenticator=head,
        diagnoses=_diagnoses(),
        examinations=(),
        exam_form=ExamForm.BY_DOCUMENTS,
        details=ResultDetails(
            referral_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            protocol_number=f"{rng.randint(1000, 9999)}.5.77/{created:%Y}",
            decision_date=created.date(),
            disability_group=Coded("2", "Вторая группа"),
            disability_cause=Coded("1", "Общее заболевание"),
            disability_until=date(created.year + 1, created.month, 1),
            ipra_number=f"{rng.randint(100, 999)}.5.77/{created:%Y}",
        ),
    )


def _return(rng: random.Random, created: datetime, kind: DocumentKind) -> ParsedDocument:
    bureau, head, author = _bureau_staff(rng)
    base = _base(rng, kind, created)
    return ParsedDocument(
        kind=kind,
        local_uid=str(base["local_uid"]),
        set_id=str(base["set_id"]),
        version=1,
        created=created,
        title=KINDS[kind].title,
        patient=_ru_patient(rng, with_guardian=False),
        organisation=bureau,
        author=author,
        legal_authenticator=head,
        diagnoses=None,
        examinations=(),
        exam_form=None,
        details=ReturnDetails(
            referral_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            referral_date=(created - timedelta(days=3)).date(),
            reasons=(
                Coded("1", "Отсутствуют результаты медицинских обследований, предусмотренных перечнем"),
                Coded("3", "Неполные или недостоверные сведения о гражданине"),
            ),
            comment="Не представлены результаты эхокардиографии; неверно указан номер паспорта.",
        ),
    )


def _kz(rng: random.Random, created: datetime) -> ParsedDocument:
    female = rng.random() < 0.5
    family, given, patronymic = rng.choice(
        [("Ахметова", "Айгерим", "Серикқызы"), ("Нурланова", "Дана", "Ерлановна")]
        if female
        else [("Сейткалиев", "Ержан", "Бауыржанович"), ("Омаров", "Талгат", "Маратович")]
    )
    birth = date(1960 + rng.randint(0, 35), rng.randint(1, 12), rng.randint(1, 28))
    address = Address(
        region=_ALMATY,
        text=f"г. Алматы, пр. Абая, д. {rng.randint(1, 150)}, кв. {rng.randint(1, 90)}",
        postal_code="050000",
    )
    mo = Organisation(
        oid=f"2.25.160474144398688673171543547461197342812.100.{rng.randint(1, 999)}",
        name="ГКП на ПХВ «Городская поликлиника № 5» УОЗ г. Алматы",
        address=Address(region=_ALMATY, text="г. Алматы, ул. Толе би, д. 104", postal_code="050012"),
        phone=f"+7727{rng.randint(1000000, 9999999)}",
        bin=make_iin(rng, entity=True),
    )
    chair = Practitioner(
        local_id="VKK-1",
        family="Жумабеков",
        given="Асхат",
        patronymic="Кайратович",
        position=Coded("VKK_CHAIR", "Председатель врачебно-консультативной комиссии"),
        role=SignerRole.VKK_CHAIR,
        iin=make_iin(rng, date(1975, 5, 20), male=True),
    )
    # The pilot's «limb defects» group (reference kz-nosologies.tsv) and its mandatory examinations.
    exams = (
        (
            "INPATIENT_EXTRACT",
            "Выписка из медицинской карты стационарного пациента",
            "Ампутация левого плеча на уровне средней трети после травмы",
        ),
        (
            "ORTHO_CONCLUSION",
            "Заключение травматолога-ортопеда с локальным статусом",
            "Культя плеча сформирована, уровень ампутации — средняя треть",
        ),
        ("XRAY_LIMB", "Рентгенография поражённой конечности", "Культя плечевой кости, опил ровный"),
        (
            "RADIOLOGIST_CONCLUSION",
            "Заключение рентгенолога с указанием уровня ампутации",
            "Уровень ампутации — средняя треть плеча",
        ),
    )
    return ParsedDocument(
        kind=DocumentKind.KZ_031U,
        local_uid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        set_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        version=1,
        created=created.astimezone(_KZ_TZ),
        title="Заключение на медико-социальную экспертизу (форма 031/у)",
        patient=Patient(
            local_id=str(rng.randint(100000, 999999)),
            family=family,
            given=given,
            patronymic=patronymic,
            birth_date=birth,
            sex=Sex.FEMALE if female else Sex.MALE,
            address=address,
            identity_document=IdentityDocument(
                type=Coded("KZ_ID", "Удостоверение личности гражданина Республики Казахстан"),
                number=f"0{rng.randint(10**7, 10**8 - 1)}",
                issuer="МВД РК",
                issue_date=date(2018, 9, 3),
            ),
            iin=make_iin(rng, birth, male=not female),
            phone=f"+7701{rng.randint(1000000, 9999999)}",
        ),
        organisation=mo,
        author=Practitioner(
            local_id="DOC-17",
            family="Абдрахманова",
            given="Гульнара",
            patronymic="Сериковна",
            position=Coded("GP", "Врач общей практики"),
            role=SignerRole.AUTHOR,
            iin=make_iin(rng, date(1984, 11, 2), male=False),
        ),
        legal_authenticator=chair,
        diagnoses=Diagnoses(
            main=Diagnosis("S48.1", "Травматическая ампутация на уровне между плечевым и локтевым суставами"),
        ),
        examinations=tuple(
            Examination(code, name, (created - timedelta(days=5 + i)).date(), result)
            for i, (code, name, result) in enumerate(exams)
        ),
        exam_form=ExamForm.BY_DOCUMENTS,
        details=Kz031Details(
            nosology_group=Coded(
                "limb_defects",
                "Врождённые и приобретённые необратимые дефекты: отсутствие и (или) ампутация конечности",
            ),
            objective_data=(
                "Состояние удовлетворительное. Отсутствие левой верхней конечности на уровне средней трети плеча."
            ),
            vkk_protocol_number=f"{rng.randint(10, 99)}",
            vkk_protocol_date=(created - timedelta(days=1)).date(),
        ),
    )
