"""`team export`: what a team needs to run the desktop's models and routing on a server
with LiteLLM's own proxy, Redis (shared router state: cooldowns, usage counters) and
Postgres (virtual keys and spend). Secrets appear only as ``os.environ/NAME``; the
``.env.example`` names every variable without a value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml.comments import CommentedMap

from bridge_app.config import LITELLM_VERSION, ConfigDocument, env_ref, env_ref_name
from bridge_app.remote._probe import RemoteError
from bridge_app.remote._routing import model_groups
from bridge_app.remote._team_ca import CA_BUNDLE, CA_IN_CONTAINER, company_ca
from bridge_app.runtime import atomic_write

#: Providers that exist only inside the desktop app (its offline demo model).
_APP_ONLY_PROVIDERS = ("bridge-demo/",)
#: Variables the server itself needs, with what each is for.
SERVER_VARIABLES = {
    "LITELLM_MASTER_KEY": "admin key of the team proxy (starts with sk-; long and random)",
    "LITELLM_SALT_KEY": "encrypts provider keys stored in Postgres; never change it later",
    "POSTGRES_PASSWORD": "password of the bundled Postgres (virtual keys and spend); letters, "
    "digits, '-' and '_' only: it is part of the database URL",
    "REDIS_PASSWORD": "password of the bundled Redis (shared router state)",
}
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Set by the compose file itself: never asked for in .env.
_SERVER_ONLY = frozenset(SERVER_VARIABLES) | {"REDIS_HOST", "REDIS_PORT"}
FILES = ("config.yaml", "docker-compose.yaml", ".env.example", "README.md", "ca-bundle.pem")


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
        base = str(params.get("api_base") or "")
        if urlsplit(base).hostname in _LOOPBACK:
            notes.append(
                f"{entry.get('model_name')}: api_base {base} is a loopback address: inside "
                "the container it is the container itself. Change it in config.yaml to an "
                "address the server reaches"
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
    # LiteLLM's production settings: spend writes batched, a bounded database pool.
    for key, value in (("proxy_batch_write_at", 60), ("database_connection_pool_limit", 10)):
        if document.get(("general_settings", key)) is None:
            document.set(("general_settings", key), value)
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
    return _HEADER + _without_leading_comments(document.to_text()), sorted(found), skipped, notes


_HEADER = (
    f"# Team LiteLLM gateway, exported by LiteLLM Bridge for LiteLLM {LITELLM_VERSION}.\n"
    "# Secrets are environment references (os.environ/...): the values go into .env.\n"
)


def _without_leading_comments(text: str) -> str:
    """The desktop config's opening comment describes the desktop (e.g. the demo)."""
    lines = text.splitlines(keepends=True)
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")):
        lines.pop(0)
    return "".join(lines)


def _literal_secrets(text: str) -> list[str]:
    """Values that look like credentials (a last check before writing anything)."""
    from bridge_app.config import validate_text

    result = validate_text(text, known_env=None)
    return [p.message for p in result.problems if p.fix is not None and p.fix.kind == "move_to_env"]


def _required(name: str) -> str:
    """A compose reference that refuses an unset or empty value, naming where to set it."""
    return f"${{{{{name}:?set {name} in .env (see .env.example)}}}}"


COMPOSE = """\
# LiteLLM Bridge team deployment: LiteLLM's own proxy, Redis and Postgres.
# Start: cp .env.example .env, fill in every value, then `docker compose up -d`.
# `docker compose config` refuses to go on while a required value is unset or empty.
services:
  litellm:
    image: ${{LITELLM_IMAGE:-ghcr.io/berriai/litellm-database:main-v{version}}}
    # One worker per CPU, as LiteLLM's production guide asks (NUM_WORKERS in .env).
    command:
      ["--config", "/app/config.yaml", "--port", "4000", "--num_workers", "${{NUM_WORKERS:-4}}"]
    ports:
      - "4000:4000"
    volumes:
      - ./config.yaml:/app/config.yaml:ro
    env_file: .env
    environment:
      # LiteLLM builds its database URL from these, escaping each part, so the password
      # may hold any character (a DATABASE_URL made here by substitution could not).
      DATABASE_HOST: postgres:5432
      DATABASE_USERNAME: litellm
      DATABASE_PASSWORD: {postgres_password}
      DATABASE_NAME: litellm
      REDIS_HOST: redis
      REDIS_PORT: "6379"
      LITELLM_LOCAL_MODEL_COST_MAP: "True"
      STORE_MODEL_IN_DB: "False"
{required}
    depends_on:
      postgres:
        condition: service_healthy
      redis:
        condition: service_healthy
    restart: unless-stopped
    healthcheck:
      # Ready means the proxy reaches its database and cache, not only that it runs.
      test: ["CMD-SHELL", "python -c \\"import urllib.request; urllib.request.urlopen('http://127.0.0.1:4000/health/readiness')\\""]
      interval: 30s
      timeout: 10s
      retries: 3
      start_period: 60s
  redis:
    image: redis:7-alpine
    # The password goes into a config file, never onto a command line `ps` shows.
    command:
      - sh
      - -c
      - >-
        printf 'requirepass %s\\nappendonly yes\\n' "$$REDIS_PASSWORD" > /tmp/redis.conf
        && exec redis-server /tmp/redis.conf
    volumes:
      - redis-data:/data
    healthcheck:
      test: ["CMD-SHELL", "REDISCLI_AUTH=\\"$$REDIS_PASSWORD\\" redis-cli ping | grep PONG"]
      interval: 10s
      timeout: 5s
      retries: 5
    environment:
      REDIS_PASSWORD: {redis_password}
    restart: unless-stopped
  postgres:
    image: postgres:16-alpine
    environment:
      POSTGRES_DB: litellm
      POSTGRES_USER: litellm
      POSTGRES_PASSWORD: {postgres_password}
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


def _compose(config_vars: list[str], *, with_ca: bool = False) -> str:
    """The compose file; every value the deployment cannot run without is required."""
    names = ["LITELLM_MASTER_KEY", "LITELLM_SALT_KEY"] + [
        n for n in config_vars if n not in _SERVER_ONLY
    ]
    required = "\n".join(f"      {n}: {_required(n)}" for n in dict.fromkeys(names))
    text = COMPOSE.format(
        version=LITELLM_VERSION,
        required=required.replace("{{", "{").replace("}}", "}"),
        postgres_password=_required("POSTGRES_PASSWORD").replace("{{", "{").replace("}}", "}"),
        redis_password=_required("REDIS_PASSWORD").replace("{{", "{").replace("}}", "}"),
    )
    if with_ca:
        # The company CA travels with the export: the proxy trusts it and the public CAs.
        text = text.replace(
            "      - ./config.yaml:/app/config.yaml:ro\n",
            "      - ./config.yaml:/app/config.yaml:ro\n"
            f"      - ./{CA_BUNDLE}:{CA_IN_CONTAINER}:ro\n",
        ).replace(
            '      STORE_MODEL_IN_DB: "False"\n',
            f'      STORE_MODEL_IN_DB: "False"\n      SSL_CERT_FILE: {CA_IN_CONTAINER}\n',
        )
    return text


def _env_example(config_vars: list[str]) -> str:
    lines = [
        "# Every variable the team deployment reads; fill in the values in a copy named .env",
        "# (never commit it). Provider keys and endpoints referenced by config.yaml:",
    ]
    for name in config_vars:
        if name not in _SERVER_ONLY:
            lines.append(f"{name}=")
    lines.append("")
    lines.append("# The server itself:")
    for name, why in SERVER_VARIABLES.items():
        lines.append(f"# {why}")
        lines.append(f"{name}=")
    lines.append("# optional: proxy workers, one per CPU of the server (default 4)")
    lines.append("# NUM_WORKERS=")
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
    document: ConfigDocument,
    directory: Path,
    *,
    overwrite: bool = False,
    ca_file: str | None = None,
) -> TeamExport:
    """The team deployment's files. ``ca_file``: the company CA bundle the desktop trusts
    (the shared SSL_CERT_FILE entry); its certificates travel as ca-bundle.pem."""
    directory = directory.expanduser()
    existing = [directory / f for f in FILES if (directory / f).exists()]
    if existing and not overwrite:
        raise RemoteError(
            f"{existing[0]} already exists; nothing was written.",
            hint="Choose an empty folder, or add --force to replace the exported files.",
        )
    text, variables, skipped, notes = team_config(document)
    ca_pem, ca_note = company_ca(ca_file)
    if ca_note:
        notes.append(ca_note)
    if ca_pem:
        variables = [v for v in variables if v != "SSL_CERT_FILE"]  # the compose file sets it
        notes.append(
            f"The company CA from {ca_file} is in {CA_BUNDLE}, with the public CAs: the "
            f"proxy trusts both (SSL_CERT_FILE={CA_IN_CONTAINER} in docker-compose.yaml)"
        )
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
        "docker-compose.yaml": _compose(variables, with_ca=ca_pem is not None),
        ".env.example": _env_example(variables),
        "README.md": _readme(notes, skipped),
    }
    if ca_pem is not None:
        import certifi

        public = Path(certifi.where()).read_text(encoding="utf-8")
        contents[CA_BUNDLE] = public.rstrip("\n") + "\n\n# The company's CA\n" + ca_pem
    written = []
    for name, content in contents.items():
        atomic_write(directory / name, content.encode("utf-8"), mode=0o644)
        written.append(directory / name)
    return TeamExport(
        directory=directory,
        files=tuple(written),
        variables=tuple(
            sorted((set(variables) | set(SERVER_VARIABLES)) - {"REDIS_HOST", "REDIS_PORT"})
        ),
        skipped_models=tuple(skipped),
        notes=tuple(notes),
    )
