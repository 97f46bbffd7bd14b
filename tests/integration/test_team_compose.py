"""`team export`'s docker-compose.yaml, checked by a compose tool: `docker-compose config`
(Debian's package, which needs no Docker daemon for this) reads it with the .env an IT admin
fills in from .env.example, resolves every variable, and every ${VAR} the file uses is
named in .env.example."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote_plus, urlsplit

import pytest
import yaml

from bridge_app.config import LITELLM_VERSION
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services

pytestmark = pytest.mark.integration

ADMIN_PW = "Admin-Password-42!"
_USED = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")  # $$NAME is the container's
_NAMED = re.compile(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=")


def _compose_tool() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):  # Compose v2 as a docker plugin (Windows runners)
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if sys.platform == "win32":
        pytest.skip("no docker-compose on this Windows machine (Linux CI installs it)")
    pytest.fail("docker-compose is not installed: run scripts/setup.sh")


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path / "home")})
    built = build_services(paths, redactor=Redactor())
    built.auth.create_first_admin("root", ADMIN_PW)
    session = built.auth.login("root", ADMIN_PW)
    built.env.set(session, "KEY_A", "sk-upstream-a-0123456789", scope="shared")
    try:
        yield built
    finally:
        built.close()


def _config(tool: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    # Only what the tool needs to run: no variable of the deployment leaks in from here.
    keep = ("PATH", "HOME", "SYSTEMROOT", "USERPROFILE", "TEMP", "TMP")
    env = {k: v for k, v in os.environ.items() if k.upper() in keep}
    return subprocess.run(
        [*tool, "-f", "docker-compose.yaml", "config"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_exported_compose_file_passes_docker_compose_config_with_the_env_it_names(
    services: Services, tmp_path: Path
) -> None:
    tool = _compose_tool()
    services.remote.add_deployment(
        "smart", "openai/up-model", author="t", api_base="http://127.0.0.1:9/v1",
        key_envs=["KEY_A"], deployment_id="primary",
    )  # fmt: skip
    out = tmp_path / "team"
    services.remote.export_team(out)
    compose_text = (out / "docker-compose.yaml").read_text(encoding="utf-8")
    example = (out / ".env.example").read_text(encoding="utf-8").splitlines()

    used = set(_USED.findall(compose_text))
    named = {m.group(1) for line in example if (m := _NAMED.match(line))}
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "LITELLM_IMAGE"} <= used
    assert used <= named, f"used by the compose file, not in .env.example: {used - named}"
    config_refs = set(
        re.findall(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)", (out / "config.yaml").read_text())
    )
    assert {"KEY_A", "LITELLM_MASTER_KEY"} <= config_refs
    # REDIS_HOST/PORT are set by the compose file itself; the rest come from .env.
    assert config_refs - {"REDIS_HOST", "REDIS_PORT"} <= named

    # The admin's .env: every uncommented name of .env.example, filled in.
    filled = [m.group(1) for line in example if (m := re.match(r"^([A-Za-z_]\w*)=$", line))]
    (out / ".env").write_text("".join(f"{n}=value-{n.lower()}\n" for n in filled))
    done = _config(tool, out)
    assert done.returncode == 0, done.stderr
    assert "is not set" not in done.stderr, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert set(resolved["services"]) == {"litellm", "redis", "postgres"}
    litellm = resolved["services"]["litellm"]
    assert litellm["image"] == f"ghcr.io/berriai/litellm-database:main-v{LITELLM_VERSION}"
    environment = litellm["environment"]
    assert "DATABASE_URL" not in environment  # LiteLLM builds it, escaping each part:
    assert environment["DATABASE_PASSWORD"] == "value-postgres_password"
    assert (environment["DATABASE_HOST"], environment["DATABASE_USERNAME"]) == (
        "postgres:5432",
        "litellm",
    )
    assert environment["KEY_A"] == "value-key_a"  # from env_file: .env
    assert environment["LITELLM_MASTER_KEY"] == "value-litellm_master_key"
    redis = resolved["services"]["redis"]
    assert redis["environment"]["REDIS_PASSWORD"] == "value-redis_password"
    assert "value-redis_password" not in " ".join(redis["command"])  # never on a command line
    assert "--num_workers" in litellm["command"]
    assert "/health/readiness" in " ".join(litellm["healthcheck"]["test"])
    assert resolved["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == (
        "value-postgres_password"
    )

    # The same check refuses a variable the admin left out (issue 26, item 10) ...
    (out / ".env").write_text("".join(f"{n}=value\n" for n in filled if n != "POSTGRES_PASSWORD"))
    missing = _config(tool, out)
    assert missing.returncode != 0
    assert "set POSTGRES_PASSWORD in .env (see .env.example)" in missing.stderr
    # ... and .env.example copied unchanged, every value blank: nothing starts half-set.
    (out / ".env").write_text((out / ".env.example").read_text())
    blank = _config(tool, out)
    assert blank.returncode != 0 and "in .env (see .env.example)" in blank.stderr

    # A password with the characters a URL reserves reaches Postgres and LiteLLM intact:
    # LiteLLM's own builder turns the compose file's parts into a URL that parses back.
    tricky = "p@ss:w/rd%1?&x=y"
    (out / ".env").write_text(
        "".join(f"{n}={tricky if n == 'POSTGRES_PASSWORD' else 'value'}\n" for n in filled)
    )
    done = _config(tool, out)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    assert resolved["postgres"]["environment"]["POSTGRES_PASSWORD"] == tricky
    from litellm.proxy.utils import construct_database_url_from_env_vars

    parts = {k: v for k, v in resolved["litellm"]["environment"].items() if "DATABASE" in k}
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DATABASE_URL", "DATABASE_SCHEMA"):
            patch.delenv(name, raising=False)
        for name, value in parts.items():
            patch.setenv(name, str(value))
        url = construct_database_url_from_env_vars()
    assert url is not None
    parsed = urlsplit(url)
    assert (parsed.hostname, parsed.port, parsed.path) == ("postgres", 5432, "/litellm")
    assert unquote_plus(parsed.password or "") == tricky and parsed.username == "litellm"


def test_a_private_ca_travels_with_the_export_and_is_trusted_there(
    services: Services, tmp_path: Path
) -> None:
    """The desktop trusts the internal endpoint through the shared SSL_CERT_FILE entry; the
    export carries that CA (with the public CAs) and points the proxy's container at it."""
    import ssl
    import threading

    import certifi
    import httpx

    from tests.integration._litellm_cli import make_private_ca

    tool = _compose_tool()
    ca, cert, key = make_private_ca(tmp_path)
    admin = services.auth.login("root", ADMIN_PW)
    services.env.set(admin, "SSL_CERT_FILE", str(ca), scope="shared")
    services.remote.add_deployment(
        "internal", "openai/up-model", author="t", api_base="https://llm.corp.example/v1",
        key_envs=["KEY_A"], deployment_id="internal-1",
    )  # fmt: skip
    out = tmp_path / "team"
    export = services.remote.export_team(out)
    bundle = out / "ca-bundle.pem"
    assert bundle in export.files
    text = bundle.read_text(encoding="utf-8")
    assert ca.read_text(encoding="utf-8").strip() in text
    assert Path(certifi.where()).read_text(encoding="utf-8").strip()[:2000] in text
    assert "SSL_CERT_FILE=" not in (out / ".env.example").read_text(encoding="utf-8")
    assert "company CA" in (out / "README.md").read_text(encoding="utf-8")

    example = (out / ".env.example").read_text(encoding="utf-8").splitlines()
    filled = [m.group(1) for line in example if (m := re.match(r"^([A-Za-z_]\w*)=$", line))]
    (out / ".env").write_text("".join(f"{n}=value\n" for n in filled))
    done = _config(tool, out)
    assert done.returncode == 0, done.stderr
    litellm = yaml.safe_load(done.stdout)["services"]["litellm"]
    assert litellm["environment"]["SSL_CERT_FILE"] == "/app/ca-bundle.pem"
    # Compose v1 prints "source:target:mode", v2 a mapping.
    mounts = {
        Path(v["source"] if isinstance(v, dict) else v.split(":")[0]).name: (
            v["target"] if isinstance(v, dict) else v.split(":")[1]
        )
        for v in litellm["volumes"]
    }
    assert mounts["ca-bundle.pem"] == "/app/ca-bundle.pem"

    # And the bundle does trust an endpoint whose certificate that CA signed.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/"
        trusted = ssl.create_default_context(cafile=str(bundle))
        assert httpx.get(url, verify=trusted, timeout=10, trust_env=False).text == "hello"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(url, verify=ssl.create_default_context(cafile=certifi.where()), timeout=10)
    finally:
        server.shutdown()


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass
