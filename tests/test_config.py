from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from gateway.config import GatewayConfig, load_config
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_the_embedded_sandbox() -> None:
    config = load_config(Path(ROOT / "config" / "gateway.example.toml"), environ={})
    assert config.database_url.startswith("sqlite+aiosqlite:///")
    assert config.server.port == 8080


def _sections(model: type[BaseModel], prefix: str) -> list[tuple[str, type[BaseModel]]]:
    out = []
    for name, field in model.model_fields.items():
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            path = f"{prefix}.{name}" if prefix else name
            out.append((path, sub))
            out.extend(_sections(sub, path))
    return out


def test_example_file_documents_every_key() -> None:
    """Every key of every section appears in the example file, so nothing is undocumented."""
    text = (ROOT / "config" / "gateway.example.toml").read_text()
    blocks = {}
    for chunk in text.split("\n[")[1:]:
        header, _, body = chunk.partition("]")
        blocks[header] = body
    for path, model in _sections(GatewayConfig, ""):
        keys = [
            k
            for k, f in model.model_fields.items()
            if not (isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel))
        ]
        if not keys:
            continue
        assert path in blocks, f"[{path}] missing from the example"
        for key in keys:
            documented = f"\n{key} =" in blocks[path] or f"\n[[{path}.{key}]]" in text
            assert documented, f"{path}.{key} undocumented"


def test_env_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text('[server]\nport = 9000\n[storage]\ndata_dir = "/srv/mse"\n')
    config = load_config(path, environ={"GATEWAY_SERVER__PORT": "9100", "GATEWAY_LOGGING__LEVEL": "debug"})
    assert (config.server.port, config.logging.level, config.storage.data_dir) == (9100, "debug", "/srv/mse")


def test_env_names_a_hyphenated_peer_of_the_file(tmp_path: Path) -> None:
    # a variable name cannot hold "-": GATEWAY_PEERS__GIS_77__URL means [peers.gis-77] when the file has it
    path = tmp_path / "g.toml"
    path.write_text('[peers.gis-77]\nprotocol = "remd"\nurl = "http://a/"\n')
    config = load_config(path, environ={"GATEWAY_PEERS__GIS_77__URL": '"http://b/"'})
    assert set(config.peers) >= {"gis-77"} and "gis_77" not in config.peers
    assert config.peers["gis-77"]["url"] == "http://b/"


@pytest.mark.parametrize(
    ("toml", "env", "names"),
    [
        ("[server]\nprot = 1\n", {}, "server.prot: unknown key"),
        ("[nonsense]\nx = 1\n", {}, "nonsense: unknown key"),
        ('[server]\nport = "8080"\n', {}, "server.port: Input should be a valid integer"),
        ("[server]\nport = 70000\n", {}, "server.port"),
        ("[logging]\nlevel = 'loud'\n", {}, "logging.level"),
        ("", {"GATEWAY_SERVER__PORT": "eighty"}, "server.port (from GATEWAY_SERVER__PORT)"),
        ("", {"GATEWAY_STORAGE__AUTO_MIGRATE": "maybe"}, "storage.auto_migrate (from GATEWAY_STORAGE__AUTO_MIGRATE)"),
        ("", {"GATEWAY_SERVER__NOPE": "1"}, "server.nope (from GATEWAY_SERVER__NOPE): unknown key"),
    ],
)
def test_invalid_configuration_names_the_key(tmp_path: Path, toml: str, env: dict[str, str], names: str) -> None:
    path = tmp_path / "g.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=env)
    assert names in info.value.message


def test_unrelated_gateway_variables_are_ignored() -> None:
    config = load_config(environ={"GATEWAY_TEST_PG_DSN": "postgresql://x"})
    assert config.server.port == 8080


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\nport=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, environ={})


def test_cli_overrides_are_validated() -> None:
    config = load_config(environ={})
    assert config.with_overrides(server={"port": 0, "host": None}).server.port == 0
    with pytest.raises(ConfigError, match=r"server\.port"):
        config.with_overrides(server={"port": -1})
