from __future__ import annotations

import re

from bridge_app.runtime import PROXY_ENTRY_NAMES, BridgeError, protected_reason, setting_problem

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME = 128
MAX_VALUE = 32 * 1024

# Set in the proxy's environment by the app itself at every start, so a config may always
# refer to them.
APP_PROVIDED = frozenset({"LITELLM_MASTER_KEY"})

# Corporate network settings: ordinary entries, but the proxy's calls, the app's own IAM
# calls and the remote gateways honour them alike (see network_settings() and
# bridge_app/runtime/_network.py for the route they decide).
NETWORK_NAMES = (
    *PROXY_ENTRY_NAMES,
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
)


class EnvError(BridgeError):
    pass


def check_name(name: str) -> str:
    """The name as stored, or an EnvError saying what is wrong with it."""
    name = name.strip()
    if not name:
        raise EnvError("A variable name cannot be empty.")
    if len(name) > MAX_NAME:
        raise EnvError(f"The variable name is longer than {MAX_NAME} characters.")
    if not NAME_RE.match(name):
        raise EnvError(
            f"{name!r} is not a valid variable name.",
            hint="Use letters, digits and underscores, not starting with a digit "
            "(for example OPENAI_API_KEY).",
        )
    reason = protected_reason(name)
    if reason is not None:
        raise EnvError(
            f"{name} cannot be an environment entry: {reason}.",
            hint="LiteLLM Bridge refuses the names that decide which code runs or that it "
            "sets itself (docs/architecture.md, 'What LiteLLM runs').",
        )
    return name


def check_value(name: str, value: str) -> str:
    if "\x00" in value:
        raise EnvError(f"The value of {name} contains a NUL character, which no program accepts.")
    if len(value.encode("utf-8")) > MAX_VALUE:
        raise EnvError(f"The value of {name} is larger than {MAX_VALUE // 1024} KiB.")
    problem = setting_problem(name, value)
    if problem is not None:
        raise EnvError(
            f"{name}: {problem}.",
            hint="The corporate proxy settings are described in docs/network.md.",
        )
    return value
