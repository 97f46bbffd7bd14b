"""Shared by the section checks and the value checks: where a problem is and how it is
recorded; plus the checks that apply to every value (env references, pasted secrets,
placeholders)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bridge_app import placeholders
from bridge_app.config._problems import Fix, KeyPath, Problem, Severity
from bridge_app.config._refs import ENV_NAME_RE, env_ref_name, env_slug, is_literal_secret
from bridge_app.config._schema import suggest

#: where the proxy fills placeholders in per request (bridge_app/tokens/_injector.py)
_BODY_KEYS = frozenset({"extra_body", "extra_headers"})


def position(container: Any, key: Any, *, value: bool = False) -> tuple[int, int]:
    lc = getattr(container, "lc", None)
    if lc is None:
        return 0, 0
    try:
        if isinstance(container, list):
            line, col = lc.item(key)
        else:
            line, col = lc.value(key) if value else lc.key(key)
        return int(line) + 1, int(col) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        line = getattr(lc, "line", None)  # merged (<<) keys have no position of their own
        return (int(line) + 1, int(getattr(lc, "col", 0) or 0) + 1) if line is not None else (0, 0)


class ValueChecks:
    def __init__(self, known_env: set[str] | None) -> None:
        self.known_env = known_env
        self.problems: list[Problem] = []
        self.model_names: set[str] = set()
        self.proposed_env: set[str] = set()
        self.env_defined: set[str] = set()
        self.names_by_index: dict[int, str] = {}

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        container: Any,
        key: Any,
        path: KeyPath,
        *,
        at_value: bool = False,
        hint: str | None = None,
        fix: Fix | None = None,
    ) -> None:
        line, column = position(container, key, value=at_value) if container is not None else (0, 0)
        self.problems.append(Problem(severity, code, message, line, column, path, hint, fix))

    # -- whole document ----------------------------------------------------------------
    def _env_section(self, data: dict[Any, Any]) -> set[str]:
        block = data.get("environment_variables")
        defined: set[str] = set()
        if not isinstance(block, dict):
            return defined
        for name, value in block.items():
            path: KeyPath = ("environment_variables", str(name))
            if not isinstance(name, str) or not ENV_NAME_RE.match(name):
                self.add(
                    "error",
                    "bad-env-name",
                    f"{name!r} is not a valid environment variable name (letters, digits, _).",
                    block,
                    name,
                    path,
                )
                continue
            defined.add(name)
            if is_literal_secret(name, value):
                self.secret(block, name, path, proposed=name)
        return defined

    # -- every value -------------------------------------------------------------------

    def walk(self, node: Any, path: KeyPath, *, in_body: bool) -> None:
        items: Iterable[tuple[Any, Any]]
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            return
        for key, value in items:
            child: KeyPath = (*path, key if isinstance(key, (str, int)) else str(key))
            if isinstance(value, str):
                self.string(node, key, value, child, in_body=in_body)
            else:
                self.walk(value, child, in_body=in_body or key in _BODY_KEYS)

    def string(self, container: Any, key: Any, value: str, path: KeyPath, *, in_body: bool) -> None:
        name = env_ref_name(value)
        if name is not None:
            self.env_ref(container, key, name, path)
            return
        if path[:1] != ("environment_variables",) and is_literal_secret(key, value):
            self.secret(container, key, path, proposed=self.propose_env_name(path))
            return
        fields = placeholders.names_in(value)
        if not fields:
            return
        if in_body:
            for field in fields:
                if not placeholders.is_valid(field):
                    guess = placeholders.repaired(field) or suggest(
                        field, list(placeholders.FIELDS), cutoff=0.6
                    )
                    tip = f" Did you mean {{{guess}}}?" if guess else ""
                    self.add(
                        "error",
                        "bad-placeholder",
                        f"{{{field}}} is not a placeholder the app fills in.{tip}",
                        container,
                        key,
                        path,
                        at_value=not isinstance(container, list),
                        hint="Use {token}, {project.id}, {project.name} or {project.<field>}.",
                    )
        elif all(placeholders.is_valid(f) for f in fields):
            self.add(
                "warning",
                "placeholder-outside-body",
                "Placeholders like {token} are filled in only inside litellm_params.extra_body "
                "and extra_headers; "
                "here the text is sent as written.",
                container,
                key,
                path,
                at_value=not isinstance(container, list),
            )

    def env_ref(self, container: Any, key: Any, name: str, path: KeyPath) -> None:
        if not ENV_NAME_RE.match(name):
            self.add(
                "error",
                "bad-env-ref",
                f"os.environ/{name} does not name a valid environment variable.",
                container,
                key,
                path,
                at_value=not isinstance(container, list),
                hint="Use letters, digits and _ only, e.g. os.environ/OPENAI_API_KEY.",
            )
        elif self.known_env is not None and name not in self.known_env | self.env_defined:
            self.add(
                "error",
                "missing-env",
                f"os.environ/{name} refers to {name}, which is not set in the app's environment.",
                container,
                key,
                path,
                at_value=not isinstance(container, list),
                hint=f"Add {name} in the Environment screen (values are stored encrypted).",
            )

    def secret(self, container: Any, key: Any, path: KeyPath, *, proposed: str) -> None:
        self.proposed_env.add(proposed)
        self.add(
            "error",
            "literal-secret",
            f"{key} holds a secret value written into the config; configs on disk must only "
            "refer to secrets.",
            container,
            key,
            path,
            at_value=not isinstance(container, list),
            hint=f"Move it into the environment store as {proposed} and remove it from "
            "environment_variables."
            if path[:1] == ("environment_variables",)
            else f"Move it into the environment store as {proposed} and write "
            f"os.environ/{proposed} here.",
            fix=Fix("move_to_env", path, env_name=proposed),
        )

    def propose_env_name(self, path: KeyPath) -> str:
        taken = self.proposed_env | (self.known_env or set()) | self.env_defined
        return propose_env_name(self.names_by_index, path, taken=taken)


def propose_env_name(
    model_names: dict[int, str], path: KeyPath, *, taken: Iterable[str] = ()
) -> str:
    """A readable environment variable name for a secret found at ``path``."""
    if path == ("general_settings", "master_key"):
        base = "LITELLM_MASTER_KEY"
    elif len(path) >= 4 and path[0] == "model_list" and isinstance(path[1], int):
        owner = model_names.get(path[1]) or f"MODEL_{path[1] + 1}"
        base = env_slug(f"{owner}_{path[-1]}")
    else:
        base = env_slug("_".join(str(p) for p in path[-2:] if isinstance(p, str)))
    base = base or "SECRET_VALUE"
    taken_set = set(taken)
    candidate, counter = base, 2
    while candidate in taken_set:
        candidate, counter = f"{base}_{counter}", counter + 1
    return candidate
