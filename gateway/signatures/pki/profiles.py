"""Certificate profiles of the test PKI: who signs what in the MSE flows.

Russian profiles follow the qualified-certificate form (Order of FSB No. 795: CN, SN, G, T, O,
SNILS, INN, OGRN/INNLE, C, ST, L); Kazakh ones follow NCA's layout (serialNumber=IIN…, OU=BIN…,
holder role in Extended Key Usage). Everything a profile fills in by default is obviously fake test
data; the CLI overrides any field.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from gateway.documents import identifiers as ids
from gateway.signatures import oids

__all__ = ["PROFILES", "Profile", "SubjectFields"]


@dataclass(slots=True)
class SubjectFields:
    """Subject attributes of a certificate to issue; None means "not in the certificate"."""

    cn: str | None = None
    surname: str | None = None
    given_name: str | None = None
    title: str | None = None
    organization: str | None = None
    organizational_unit: str | None = None
    country: str | None = None
    state: str | None = None
    locality: str | None = None
    street: str | None = None
    email: str | None = None
    snils: str | None = None
    inn: str | None = None
    inn_le: str | None = None
    ogrn: str | None = None
    ogrnip: str | None = None
    iin: str | None = None
    bin: str | None = None

    def attributes(self) -> list[tuple[str, str]]:
        """(OID, value) in the order the subject is written (country first, as CAs do)."""
        pairs: list[tuple[str, str | None]] = [
            ("2.5.4.6", self.country),
            ("2.5.4.8", self.state),
            ("2.5.4.7", self.locality),
            ("2.5.4.9", self.street),
            ("2.5.4.10", self.organization),
            ("2.5.4.11", self.organizational_unit if self.bin is None else f"BIN{self.bin}"),
            ("2.5.4.12", self.title),
            ("2.5.4.3", self.cn),
            ("2.5.4.4", self.surname),
            ("2.5.4.42", self.given_name),
            ("2.5.4.5", None if self.iin is None else f"IIN{self.iin}"),
            ("1.2.840.113549.1.9.1", self.email),
            (oids.RU_SNILS, self.snils),
            (oids.RU_INN, self.inn),
            (oids.RU_INNLE, self.inn_le),
            (oids.RU_OGRN, self.ogrn),
            (oids.RU_OGRNIP, self.ogrnip),
        ]
        return [(oid, value) for oid, value in pairs if value]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    country: str  # "RU" | "KZ"
    person: bool
    defaults: dict[str, str] = field(default_factory=dict)
    extended_key_usage: tuple[str, ...] = ()
    # which identifiers get random values when not given
    random_ids: tuple[str, ...] = ()

    def subject(self, overrides: dict[str, str | None]) -> SubjectFields:
        """Defaults, then random identifiers, then the caller's overrides (None = keep default)."""
        values: dict[str, str | None] = dict(self.defaults)
        rng = random.SystemRandom()
        generators: dict[str, Callable[[], str]] = {
            "snils": lambda: ids.random_snils(rng),
            "inn": lambda: ids.random_inn(rng, length=12),
            "inn_le": lambda: ids.random_inn(rng, length=10),
            "ogrn": lambda: ids.random_ogrn(rng),
            "ogrnip": lambda: ids.random_ogrnip(rng),
            "iin": lambda: ids.random_iin(rng),
            "bin": lambda: ids.random_bin(rng),
        }
        for name in self.random_ids:
            values[name] = generators[name]()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return SubjectFields(**values)


_RU_EKU = (oids.EKU_CLIENT_AUTH, oids.EKU_EMAIL_PROTECTION)
_KZ_SIGN = oids.EKU_EMAIL_PROTECTION
_MO = "ГБУЗ «Тестовая городская поликлиника № 0» (ТЕСТ)"
_MSE = "ФКУ «Тестовое главное бюро МСЭ» Минтруда России (ТЕСТ)"
_RU_PLACE = {"country": "RU", "state": "77 г. Москва", "locality": "Москва"}
_KZ_ORG = "ГКП на ПХВ «Тестовая городская поликлиника № 0» (ТЕСТ)"


def _ru_person(name: str, description: str, title: str, org: str, fio: tuple[str, str, str]) -> Profile:
    surname, given, patronymic = fio
    return Profile(
        name=name,
        description=description,
        country="RU",
        person=True,
        defaults={
            **_RU_PLACE,
            "cn": f"{surname} {given} {patronymic}",
            "surname": surname,
            "given_name": f"{given} {patronymic}",
            "title": title,
            "organization": org,
            "email": "test@example.invalid",
        },
        extended_key_usage=_RU_EKU,
        random_ids=("snils", "inn", "ogrn", "inn_le"),
    )


def _ru_org(name: str, description: str, org: str) -> Profile:
    return Profile(
        name=name,
        description=description,
        country="RU",
        person=False,
        defaults={**_RU_PLACE, "cn": org, "organization": org, "street": "ул. Тестовая, д. 0"},
        extended_key_usage=_RU_EKU,
        random_ids=("ogrn", "inn_le"),
    )


def _kz_person(name: str, description: str, roles: tuple[str, ...], title: str | None, org: bool) -> Profile:
    defaults = {"country": "KZ", "cn": "ТЕСТОВ ТЕСТ", "surname": "ТЕСТОВ", "given_name": "ТЕСТОВИЧ"}
    if title:
        defaults["title"] = title
    if org:
        defaults["organization"] = _KZ_ORG
    return Profile(
        name=name,
        description=description,
        country="KZ",
        person=True,
        defaults=defaults,
        extended_key_usage=(_KZ_SIGN, *roles),
        random_ids=("iin", "bin") if org else ("iin",),
    )


PROFILES: Final[dict[str, Profile]] = {
    p.name: p
    for p in (
        _ru_person(
            "vk-chair",
            "Chair of the MO's medical commission (signs the referral to MSE)",
            "Председатель врачебной комиссии",
            _MO,
            ("Тестов", "Иван", "Петрович"),
        ),
        _ru_person(
            "doctor",
            "Attending doctor of the MO (author of the referral)",
            "Врач-терапевт",
            _MO,
            ("Тестова", "Мария", "Ивановна"),
        ),
        _ru_org("mo-org", "Organisation certificate of the MO (orgSignature)", _MO),
        _ru_person(
            "mse-head",
            "Head of the MSE bureau (signs results of MSE)",
            "Руководитель бюро медико-социальной экспертизы",
            _MSE,
            ("Экспертов", "Сергей", "Николаевич"),
        ),
        _ru_person(
            "mse-official",
            "Authorised official of the MSE bureau",
            "Врач по медико-социальной экспертизе",
            _MSE,
            ("Экспертова", "Анна", "Сергеевна"),
        ),
        _ru_org("mse-org", "Organisation certificate of the MSE bureau", _MSE),
        _kz_person(
            "kz-vkk-chair",
            "Chair of the medical advisory commission (ВКК), employee of a legal entity (signs form 031/у)",
            ("1.2.398.3.3.4.1.2", "1.2.398.3.3.4.1.2.5"),
            "Председатель ВКК",
            org=True,
        ),
        _kz_person(
            "kz-org",
            "First head of a Kazakh legal entity (organisation signature)",
            ("1.2.398.3.3.4.1.2", "1.2.398.3.3.4.1.2.1"),
            "Главный врач",
            org=True,
        ),
        _kz_person("kz-individual", "Kazakh individual", ("1.2.398.3.3.4.1.1",), None, org=False),
    )
}
