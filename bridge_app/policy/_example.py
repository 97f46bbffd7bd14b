"""The complete, commented policy that `litellm-bridge policy example` prints."""

EXAMPLE_POLICY = """\
# LiteLLM Bridge managed policy.
# Ship it to /etc/litellm-bridge/policy.yaml (Linux) or
# %ProgramData%\\\\LiteLLM Bridge\\\\policy.yaml (Windows), or apply it on one machine with
#   litellm-bridge policy apply policy.yaml --as ADMIN
# Check it first: litellm-bridge policy check policy.yaml
# Once a company key is enrolled (litellm-bridge policy trust company.pub), a policy is only
# accepted with a valid Ed25519 signature beside it (policy.yaml.sig).

models:
  # Glob patterns of the model names (the config's model_name) anybody may use;
  # any other model gets HTTP 403 "model X is not allowed by your company's policy".
  allow: ["internal-*", "demo"]

roles:
  # Narrower lists per role ("user" or "admin"): a model must pass both lists.
  user: {models: {allow: ["internal-chat", "demo"]}}

limits:
  # Per person (the account the proxy serves; the OS account when nobody is logged in).
  # Over a limit a request gets HTTP 429 with Retry-After and the name of the limit.
  per_user:
    requests_per_minute: 60
    tokens_per_minute: 200000
    requests_per_day: 3000
    tokens_per_day: 3000000
    budget_usd_per_month: 100      # estimated from LiteLLM's bundled cost map
    concurrent_requests: 4         # in flight at once; the 5th gets 429, Retry-After: 1
  # Per tool: claude-code, gemini-cli, codex-cli, opencode, qwen-code, aider, openai-sdk,
  # anthropic-sdk (`litellm-bridge tools list` shows them).
  per_tool:
    claude-code: {requests_per_minute: 30, concurrent_requests: 2}
  # Every request of this machine, whoever sends it (also concurrent_requests).
  machine: {requests_per_minute: 120}
  # Optional: counters shared by every machine that uses this Redis. While it cannot be
  # reached, each bridge keeps counting locally (with a warning).
  # shared: redis://127.0.0.1:6379/0

# Who may change the LiteLLM config, shared environment entries and app settings here:
#   off        everybody as usual
#   admin_only only local admins; users see "managed by your company"
#   locked     nobody changes the config locally (IT ships it); admins keep the rest
config_lock: admin_only

network:
  allow_non_loopback: false          # the proxy only listens on 127.0.0.1
  allowed_upstream_hosts: ["*.corp.example", "127.0.0.1", "localhost"]

ui:
  idle_lock_minutes: 10              # 0: never lock
  kiosk: false
  # start_at_login: true             # the window opens at every login (false: never);
                                     # unset: each person decides (Settings)

# Usage rows older than this are pruned.
usage_retention_days: 90

# Signed updates (`litellm-bridge update`): off altogether, or only one version allowed.
updates:
  enabled: true
  # pin_version: "0.2.0"

# Every audit event also goes to the company's collectors (docs/fleet.md). Unset: an
# admin of the machine may choose; an empty list: nowhere, and nobody may choose.
# audit:
#   forward:
#     - syslog+tls://collector.corp.example:6514
#     - https://siem.corp.example/ingest/bridge
#     - eventlog:                    # Windows only: the Windows Event Log
"""
