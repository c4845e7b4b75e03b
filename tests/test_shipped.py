"""Shipped files (config/, wsdl/) are found in the working directory first, then the checkout,
then an installed wheel's share directory — and the wheel really carries them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gateway.common.shipped import SHARE_NAME, shipped

ROOT = Path(__file__).resolve().parents[1]


def test_the_working_directory_overrides_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert shipped("config/roles.toml") == ROOT / "config" / "roles.toml"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "roles.toml").write_text("# the operator's own\n")
    monkeypatch.chdir(tmp_path)
    assert shipped("config/roles.toml") == tmp_path / "config" / "roles.toml"


def test_an_installed_share_directory_is_searched_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    share = tmp_path / "prefix" / "share" / SHARE_NAME / "config"
    share.mkdir(parents=True)
    (share / "only-installed.toml").write_text("")
    assert shipped("config/only-installed.toml") is None
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert shipped("config/only-installed.toml") == share / "only-installed.toml"


@pytest.mark.slow
def test_the_wheel_carries_config_and_wsdl(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    share = f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.data/data/share/{SHARE_NAME}"
    wanted = [
        "wsdl/remd/emdr-service.wsdl",
        "wsdl/remd/emdr-callback.wsdl",
        "config/roles.toml",
        "config/routes.toml",
        "config/required_exams_ru.tsv",
        "config/kz_nosologies.tsv",
        "config/faults/egisz-2023.toml",
    ]
    for relative in wanted:
        assert f"{share}/{relative}" in names, relative
    for path in (ROOT / "wsdl" / "remd").iterdir():  # nothing of the contract left behind
        assert f"{share}/wsdl/remd/{path.name}" in names, path.name
