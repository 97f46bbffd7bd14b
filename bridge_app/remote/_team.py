"""`team export`: what a team needs to run the desktop's models and routing on a server
with LiteLLM's own proxy, Redis (shared router state: cooldowns, usage counters) and
Postgres (virtual keys and spend). Secrets appear only as ``os.environ/NAME``; the
``.env.example`` names every variable without a value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from bridge_app.config import LITELLM_VERSION, ConfigDocument, env_ref, env_ref_name
from bridge_app.remote._probe import RemoteError
from bridge_app.remote._routing import model_groups
from bridge_app.runtime import atomic_write

#: Providers that exist only inside the desktop app (its offline demo model).
_APP_ONLY_PROVIDERS = ("bridge-demo/",)
#: Variables the server itself needs, with what each is for.
SERVER_VARIABLES = {
    "LITELLM_MASTER_KEY": "admin key of the team proxy (starts with sk-; long and random)",
    "LITELLM_SALT_KEY": "encrypts provider keys stored in Postgres; never change it later",
    "POSTGRES_PASSWORD": "password of the bundled Postgres (virtual keys and spend)",
    "REDIS_PASSWORD": "password of the bundled Redis (shared router state)",
}
FILES = ("config.yaml", "docker-compose.yaml", ".env.example", "README.md")


@dataclass(frozen=True)
class TeamExport:
    directory: Path
    files: tuple[Path, ...]
    variables: tuple[str, ...]
    skipped_models: tuple[str, ...]
    notes: tuple[str, ...]


def _env_refs(value: Any, found: set[str]) -> None:
    if isinstance(value, Mapping):
        for item in value.values():
            _env_refs(item, found)
    elif isinstance(value, list):
        for item in value:
            _env_refs(item, found)
    else:
        name = env_ref_name(value)
        if name:
            found.add(name)


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_has_placeholder(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_placeholder(v) for v in value)
    return isinstance(value, str) and ("{token}" in value or "{project." in value)


def team_config(document: ConfigDocument) -> tuple[str, list[str], list[str], list[str]]:
    """(config text, env names it references, models left out, notes)."""
    notes: list[str] = []
    skipped: list[str] = []
    models = document.get(("model_list",))
    kept = []
    for entry in list(models) if isinstance(models, list) else []:
        params = entry.get("litellm_params") if isinstance(entry, Mapping) else None
        if not isinstance(params, CommentedMap):
            continue
        model = str(params.get("model") or "")
        if model.startswith(_APP_ONLY_PROVIDERS):
            skipped.append(str(entry.get("model_name")))
            continue
        body = params.get("extra_body")
        if isinstance(body, Mapping) and _has_placeholder(body):
            # The desktop apps add the internal token and project to every request they
            # send to the gateway, and LiteLLM passes such body fields on to the upstream.
            fixed = CommentedMap((k, v) for k, v in body.items() if not _has_placeholder(v))
            if fixed:
                params["extra_body"] = fixed
            else:
                del params["extra_body"]
            notes.append(
                f"{entry.get('model_name')}: the internal token and project fields are "
                "no longer filled in by the server; the desktop apps in remote mode send them"
            )
        if params.get("ssl_verify") and isinstance(params["ssl_verify"], str):
            params["ssl_verify"] = env_ref("SSL_CERT_FILE")
        kept.append(entry)
    if not kept:
        raise RemoteError(
            "The active config has no model a team server could serve.",
            hint="Add a model that reaches a real provider or internal endpoint first.",
        )
    document.set(("model_list",), kept)
    document.set(("general_settings", "master_key"), env_ref("LITELLM_MASTER_KEY"))
    # Shared router state: cooldowns and usage counters seen by every proxy replica.
    document.set(("router_settings", "redis_host"), env_ref("REDIS_HOST"))
    document.set(("router_settings", "redis_port"), env_ref("REDIS_PORT"))
    document.set(("router_settings", "redis_password"), env_ref("REDIS_PASSWORD"))
    found: set[str] = set()
    _env_refs(document.data, found)
    for group in model_groups(document):
        if len(group.deployments) > 1:
            notes.append(
                f"{group.name}: {len(group.deployments)} deployments share router state "
                "through Redis"
            )
    return document.to_text(), sorted(found), skipped, notes


def _literal_secrets(text: str) -> list[str]:
    """Values that look like credentials (a last check before writing anything)."""
    from bridge_app.config import validate_text

    result = validate_text(text, known_env=None)
    return [p.message for p in result.problems if p.fix is not None and p.fix.kind == "move_to_env"]


COMPOSE = """\
# LiteLLM Bridge team deployment: LiteLLM's own proxy, Redis and Postgres.
# Start: cp .env.example .env, fill in every value, then `docker compose up -d`.
services:
  litellm:
    image: ${{LITELLM_IMAGE:-ghcr.io/berriai/litellm-database:main-v{version}}}
    command: ["--config", "/app/config.yaml", "--port", "4000"]
    ports:
      - "4000:4000"
    volumes:
      - ./config.yaml:/app/config.yaml:ro
    env_file: .env
    environment:
      DATABASE_URL: postgresql://litellm:${{POSTGRES_PASSWORD}}@postgres:5432/litellm
      REDIS_HOST: redis
      REDIS_PORT: "6379"
      LITELLM_LOCAL_MODEL_COST_MAP: "True"
      STORE_MODEL_IN_DB: "False"
    depends_on:
      postgres:
        condition: service_healthy
      redis:
        condition: service_healthy
    restart: unless-stopped
    healthcheck:
      test: ["CMD-SHELL", "python -c \\"import urllib.request; urllib.request.urlopen('http://127.0.0.1:4000/health/liveliness')\\""]
      interval: 30s
      timeout: 10s
      retries: 3
  redis:
    image: redis:7-alpine
    command: ["redis-server", "--requirepass", "${{REDIS_PASSWORD}}", "--appendonly", "yes"]
    volumes:
      - redis-data:/data
    healthcheck:
      test: ["CMD-SHELL", "redis-cli -a \\"$$REDIS_PASSWORD\\" ping | grep PONG"]
      interval: 10s
      timeout: 5s
      retries: 5
    environment:
      REDIS_PASSWORD: ${{REDIS_PASSWORD}}
    restart: unless-stopped
  postgres:
    image: postgres:16-alpine
    environment:
      POSTGRES_DB: litellm
      POSTGRES_USER: litellm
      POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD}}
    volumes:
      - postgres-data:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U litellm -d litellm"]
      interval: 10s
      timeout: 5s
      retries: 5
    restart: unless-stopped
volumes:
  redis-data:
  postgres-data:
"""


def _env_example(config_vars: list[str]) -> str:
    lines = [
        "# Every variable the team deployment reads; fill in the values in a copy named .env",
        "# (never commit it). Provider keys and endpoints referenced by config.yaml:",
    ]
    server_only = set(SERVER_VARIABLES) | {"REDIS_HOST", "REDIS_PORT"}
    for name in config_vars:
        if name not in server_only:
            lines.append(f"{name}=")
    lines.append("")
    lines.append("# The server itself:")
    for name, why in SERVER_VARIABLES.items():
        lines.append(f"# {why}")
        lines.append(f"{name}=")
    lines.append("# optional: another LiteLLM image than the tested one")
    lines.append("# LITELLM_IMAGE=")
    return "\n".join(lines) + "\n"


def _readme(notes: list[str], skipped: list[str]) -> str:
    extra = "".join(f"- {n}\n" for n in notes)
    skipped_text = (
        f"\nLeft out (they exist only inside the desktop app): {', '.join(skipped)}.\n"
        if skipped
        else ""
    )
    return f"""# Team LiteLLM gateway

Exported by LiteLLM Bridge: the same models, routing (model groups, priorities,
fallbacks, retries, cooldown) and proxy settings as the desktop app, for LiteLLM's own
proxy {LITELLM_VERSION} with Redis (router state shared by every replica: cooldowns and
usage counters) and Postgres (virtual keys, budgets and spend).

1. `cp .env.example .env` and fill in every value (provider keys, internal endpoints,
   `LITELLM_MASTER_KEY`, `LITELLM_SALT_KEY`, `POSTGRES_PASSWORD`, `REDIS_PASSWORD`).
2. `docker compose up -d`, then check `curl http://SERVER:4000/health/liveliness`.
3. Create a virtual key per person or team in LiteLLM's admin UI (`/ui`) or with
   `POST /key/generate` using the master key.
4. Put TLS in front of port 4000 (your reverse proxy), with the company CA if private.

## Pointing the desktop apps at it (remote mode)

On each desktop, an admin adds the gateway and uses its models; the employees' tools
keep talking to their local app, which forwards to the gateway with the internal token
and project of whoever is signed in:

```sh
printf '%s\\n' "$ADMIN_PASSWORD" "$VIRTUAL_KEY" | litellm-bridge remote add team \\
    https://SERVER:4000 --key-stdin --as ADMIN --password-stdin  # [--ca-file company-ca.pem]
litellm-bridge remote test team
litellm-bridge remote models team
litellm-bridge remote use team MODEL
```

Notes from the export:
{extra or "- none"}
{skipped_text}"""


def export_team(
    document: ConfigDocument, directory: Path, *, overwrite: bool = False
) -> TeamExport:
    directory = directory.expanduser()
    existing = [directory / f for f in FILES if (directory / f).exists()]
    if existing and not overwrite:
        raise RemoteError(
            f"{existing[0]} already exists; nothing was written.",
            hint="Choose an empty folder, or add --force to replace the exported files.",
        )
    text, variables, skipped, notes = team_config(document)
    leaks = _literal_secrets(text)
    if leaks:
        raise RemoteError(
            "The active config holds a literal secret; it must not leave in an export.",
            hint=leaks[0]
            + " Move it into the environment store first (the Config screen offers the fix).",
        )
    directory.mkdir(parents=True, exist_ok=True)
    contents = {
        "config.yaml": text,
        "docker-compose.yaml": COMPOSE.format(version=LITELLM_VERSION),
        ".env.example": _env_example(variables),
        "README.md": _readme(notes, skipped),
    }
    written = []
    for name, content in contents.items():
        atomic_write(directory / name, content.encode("utf-8"), mode=0o644)
        written.append(directory / name)
    return TeamExport(
        directory=directory,
        files=tuple(written),
        variables=tuple(sorted(set(variables) | set(SERVER_VARIABLES))),
        skipped_models=tuple(skipped),
        notes=tuple(notes),
    )
