from __future__ import annotations

import re

from bridge_app.runtime import BridgeError

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME = 128
MAX_VALUE = 32 * 1024

# Names the app sets itself for the embedded proxy; a user value would silently break it.
RESERVED: dict[str, str] = {
    "LITELLM_MASTER_KEY": "the app generates the proxy key and keeps it in its encrypted store",
    "LITELLM_LOCAL_MODEL_COST_MAP": "the app keeps LiteLLM offline",
    "CONFIG_FILE_PATH": "the app points the proxy at the active config itself",
    "DATABASE_URL": "it would make LiteLLM look for a database server the app does not use",
    "STORE_MODEL_IN_DB": "models come from the app's config, not from a database",
    "BRIDGE_HOME": "it chooses the app's own data folder and must be set before the app starts",
    "BRIDGE_KEYRING": "it chooses where the database key lives and must be set before start",
}

# Set in the proxy's environment by the app itself at every start, so a config may always
# refer to them.
APP_PROVIDED = frozenset({"LITELLM_MASTER_KEY"})

# Corporate network settings: ordinary entries, but both the proxy and the app's own IAM
# calls honour them (see network_settings()).
NETWORK_NAMES = (
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
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
    if name.upper() in RESERVED:
        raise EnvError(
            f"{name} is set by LiteLLM Bridge itself: {RESERVED[name.upper()]}.",
        )
    return name


def check_value(name: str, value: str) -> str:
    if "\x00" in value:
        raise EnvError(f"The value of {name} contains a NUL character, which no program accepts.")
    if len(value.encode("utf-8")) > MAX_VALUE:
        raise EnvError(f"The value of {name} is larger than {MAX_VALUE // 1024} KiB.")
    return value
