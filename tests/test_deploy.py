"""The deployment kit (deploy/, Dockerfile): the production configuration loads and is refused
by `serve` exactly for what an operator must still fill in; the compose file refers to files that
exist and wires the gateway to PostgreSQL; the image runs `serve` as a non-root user.

Where a Docker engine is available the image is built and started by hand (docs/deployment.md);
there is none on the CI machine, so these checks are static."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from gateway.config import load_config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def test_the_production_configuration_is_valid() -> None:
    config = load_config(DEPLOY / "gateway.toml", environ={})
    assert config.server.public_url.startswith("https://")
    assert config.validation.crl_sources and config.validation.trust_dir
    assert config.peers["remd"]["auth"]["signer_certificates"]


def test_serve_with_it_refuses_what_is_not_filled_in(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_STORAGE__DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(DEPLOY / "gateway.toml"), "serve"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "/etc/mse-gateway" in done.stderr, done.stderr  # the mounted trust/CRL/peer files it needs


def test_compose_wires_postgres_nginx_and_the_secret_volume() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "gateway", "nginx"}
    gateway = services["gateway"]
    assert gateway["environment"]["GATEWAY_STORAGE__DATABASE_URL"].startswith("postgresql://")
    assert any(v.endswith(":/var/lib/mse-gateway") for v in gateway["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and source.endswith((".toml", ".conf")):
                assert (DEPLOY / source).is_file(), source
    assert gateway["command"][-1] == "serve"


def test_the_image_runs_serve_as_a_non_root_user() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text("utf-8").splitlines()]
    assert "USER 10001" in lines
    assert 'ENTRYPOINT ["mse-gateway"]' in lines and 'CMD ["serve"]' in lines
    assert any(line.startswith("HEALTHCHECK") for line in lines)
