"""Environment names no environment entry and no LiteLLM config may set.

The proxy runs inside the app's own process, and what the app starts (tool checks,
notifications) inherits its environment. A name on this list would decide which code that
process or its children load, where LiteLLM reads its config from instead of the checked
file, or a value the app owns: setting it would get around the config guard
(``bridge_app.config.guard``), so it is refused wherever a value can enter — an entry
(``env set``, ``env import``) or a config's ``environment_variables`` — and a start that
would still see one (an entry stored by an older version) is refused with the fix.

Names are compared case-insensitively: Windows treats ``Path`` and ``PATH`` as one."""

from __future__ import annotations

_LOADER = "it changes which code a program loads"

#: name -> why it is refused
PROTECTED_NAMES: dict[str, str] = {
    # The app's own values.
    "LITELLM_MASTER_KEY": "the app generates the proxy key and keeps it in its encrypted store",
    "LITELLM_LOCAL_MODEL_COST_MAP": "the app keeps LiteLLM offline",
    "LITELLM_OFFLINE_MODE": "the app keeps LiteLLM offline",
    "DATABASE_URL": "it would make LiteLLM look for a database server the app does not use",
    "STORE_MODEL_IN_DB": "models come from the app's config, not from a database",
    "BRIDGE_HOME": "it chooses the app's own data folder and must be set before the app starts",
    "BRIDGE_KEYRING": "it chooses where the database key lives and must be set before start",
    # Where LiteLLM reads its config from, and what it runs at start.
    "CONFIG_FILE_PATH": "the app points the proxy at the active config itself",
    "WORKER_CONFIG": "it would hand LiteLLM a config the app has not checked",
    "LITELLM_CONFIG_BUCKET_NAME": "it would make LiteLLM read a config the app has not checked",
    "LITELLM_CONFIG_BUCKET_OBJECT_KEY": "it would make LiteLLM read a config the app has not "
    "checked",
    "LITELLM_CONFIG_BUCKET_TYPE": "it would make LiteLLM read a config the app has not checked",
    "LITELLM_WORKER_STARTUP_HOOKS": "LiteLLM imports and runs the modules it names at start",
    # How Python, the dynamic loader, OpenSSL, shells and Node.js find code.
    "PATH": "it decides which programs run",
    "PATHEXT": "it decides which programs run",
    "COMSPEC": "it decides which program runs commands",
    "PYTHONPATH": _LOADER,
    "PYTHONHOME": _LOADER,
    "PYTHONSTARTUP": _LOADER,
    "PYTHONUSERBASE": _LOADER,
    "PYTHONPLATLIBDIR": _LOADER,
    "PYTHONEXECUTABLE": _LOADER,
    "PYTHONPYCACHEPREFIX": _LOADER,
    "PYTHONSAFEPATH": _LOADER,
    "PYTHONINSPECT": "it opens an interactive interpreter",
    "PYTHONBREAKPOINT": "it names a function Python imports and calls",
    "PYTHONWARNINGS": "a warning filter can name a module Python imports",
    "GCONV_PATH": _LOADER,
    "OPENSSL_CONF": "an OpenSSL config can load engines and providers (native code)",
    "OPENSSL_ENGINES": _LOADER,
    "OPENSSL_MODULES": _LOADER,
    "SSLKEYLOGFILE": "it writes the secrets of every TLS connection to a file",
    "BASH_ENV": "shells run the file it names",
    "ENV": "shells run the file it names",
    "NODE_OPTIONS": "Node.js tools would load the code it names",
    "NODE_PATH": _LOADER,
}

#: every name starting with one of these (the dynamic loaders: LD_PRELOAD, LD_AUDIT,
#: LD_LIBRARY_PATH, DYLD_INSERT_LIBRARIES ...)
PROTECTED_PREFIXES: dict[str, str] = {
    "LD_": "the dynamic loader reads it to decide which native code to load",
    "DYLD_": "the dynamic loader reads it to decide which native code to load",
}


def protected_reason(name: str) -> str | None:
    """Why ``name`` may not be set by an entry or a config, or None when it may."""
    upper = name.strip().upper()
    reason = PROTECTED_NAMES.get(upper)
    if reason is not None:
        return reason
    for prefix, why in PROTECTED_PREFIXES.items():
        if upper.startswith(prefix):
            return why
    return None
