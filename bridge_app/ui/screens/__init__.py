"""One module per screen; its layout lives in kv/<same name>.kv."""

#: Rules shared by screens (kv/widgets.kv), loaded before any screen's file.
SHARED_KV = ("widgets",)

#: Every KV file the app loads (one per screen module).
SCREEN_KV = (
    "loading",
    "login",
    "lock",
    "wizard",
    "main",
    "dashboard",
    "config",
    "environment",
    "tokens",
    "tools",
    "remote",
    "logs",
    "usage",
    "policy",
    "users",
    "audit",
    "settings",
    "updates",
    "diagnostics",
)
