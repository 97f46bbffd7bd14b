# ruff: noqa: S105  (labels that mention passwords and tokens, not secrets)
"""Every user-visible word of the window, in one place so it can be translated."""

from __future__ import annotations

APP_TITLE = "LiteLLM Bridge"

# shell
LOADING = "Opening the encrypted store…"
LOADING_WARM = "Preparing the proxy in the background…"
LOAD_FAILED = "The app could not open its data"

# navigation: (screen name, icon, label, admin only)
NAV_ITEMS: tuple[tuple[str, str, str, bool], ...] = (
    ("dashboard", "view-dashboard", "Dashboard", False),
    ("config", "file-cog", "Config", False),
    ("environment", "variable", "Environment", False),
    ("tokens", "key-chain", "Token & projects", False),
    ("tools", "console", "Tools", False),
    ("remote", "lan-connect", "Remote & models", False),
    ("logs", "text-box-search", "Logs", False),
    ("usage", "chart-bar", "Usage", False),
    ("policy", "domain", "Policy", False),
    ("users", "account-group", "Users", True),
    ("audit", "shield-check", "Audit", True),
    ("settings", "cog", "Settings", False),
    ("diagnostics", "stethoscope", "Diagnostics", False),
)
LOGOUT = "Log out"
LOCK = "Lock"

# login / lock
LOGIN_TITLE = "Log in"
USERNAME = "Username"
PASSWORD = "Password"
NEW_PASSWORD = "New password"
REPEAT_PASSWORD = "Repeat the new password"
LOGIN = "Log in"
MUST_CHANGE = "Your password must be changed before you continue."
CHANGE_PASSWORD = "Change password"
PASSWORDS_DIFFER = "The two new passwords differ."
LOCKED_TITLE = "Locked"
LOCKED_TEXT = "The session locked after being idle. The proxy keeps running."
UNLOCK = "Unlock"
LOCKED_FOR = "Locked for {seconds} s more"

# wizard
WIZARD_TITLE = "Welcome to LiteLLM Bridge"
WIZARD_STEPS = ("Admin account", "Template", "Environment", "Internal token", "Start", "Tools")
NEXT = "Next"
BACK = "Back"
SKIP = "Skip"
FINISH = "Open the dashboard"
DISPLAY_NAME = "Display name (optional)"
WIZARD_ADMIN_TEXT = "Create the first admin account. It manages users and the config."
WIZARD_TEMPLATE_TEXT = "Choose the LiteLLM config to start from (you can edit it later)."
WIZARD_PICK_TEMPLATE = "Choose a template first: tap one of the list."
WIZARD_ENV_TEXT = "The template needs these values. They are stored encrypted."
WIZARD_ENV_NONE = "This template needs no environment values."
WIZARD_TOKEN_TEXT = "Log in to the internal IAM to get a token (optional: you can skip)."
WIZARD_IAM_TEXT = (
    "This template sends your internal token with every request. Set up how the app "
    "reaches your company's IAM (Test login shows its answer and stores nothing), then "
    "log in with your employee ID: Next saves the settings and gets your token."
)
WIZARD_IAM_TEXT_BROWSER = (
    "This template sends your internal token with every request. Your company signs you "
    "in on its own page: give its issuer and the app's client, then Next saves the settings "
    "and opens the sign-in in your browser."
)
WIZARD_NO_IAM_TEXT = (
    "This template does not send an internal token: skip this step (an admin can set up "
    "the IAM later under Token & projects)."
)
WIZARD_IAM_SAVED_NO_TOKEN = "IAM settings saved. Get your token later under Token & projects."
WIZARD_TOKEN_RECEIVED = "IAM settings saved and your internal token received."
TOKEN_RECEIVED = "Token received."
SIGN_IN_BROWSER = "Sign in with your company"
SIGN_IN_WAITING = (
    "Your browser opened the company's sign-in page: sign in there. Waiting for it "
    "(5 minutes at most)…"
)
SIGNED_IN = "Signed in: token received."
SIGN_IN_EXPLAINED = (
    "Your company signs you in on its own page in the browser: no password is typed here."
)
WIZARD_START_TEXT = "Start the proxy. The first start takes a few seconds."
WIZARD_TOOLS_TEXT = "Point your CLI tools at the proxy:"
EMPLOYEE_ID = "Employee ID"
REMEMBER = "Remember the password (refresh automatically)"

# dashboard
START = "Start"
STOP = "Stop"
STARTING = "Starting…"
STOPPING = "Stopping…"
NO_ERRORS = "No errors."
DEPLOYMENTS_TITLE = "Deployments"
DEPLOYMENTS_STOPPED = "The proxy is stopped: start it to see each deployment's state."
DEPLOYMENTS_READING = "Reading each deployment's state…"
DEPLOYMENTS_NONE = "The active config has no model."
ERROR_HINT_401 = (
    "401: the upstream refused the credentials: the internal token has probably expired "
    "(log in again under Token & projects) or the API key is wrong."
)
ERROR_HINT_403 = (
    "403: the upstream knows who you are but refuses this request: check that your project "
    "or account may use this model."
)
ERROR_HINT_429 = (
    "429: too many requests or the quota is used up: wait a moment, or ask for a higher limit."
)
ERROR_HINT_TLS = (
    "TLS: the endpoint's certificate is not trusted: the company CA belongs in this "
    "machine's trust store (ask IT), or set SSL_CERT_FILE (Environment) to the CA file."
)
NETWORK_PANEL = "Network"
NETWORK_PANEL_DETAIL = (
    "Each endpoint of the active config: the route (direct, or which proxy and why) and "
    "TLS through it. Proxies and PAC files: docs/network.md."
)
ERROR_HINT_PROXY_AUTH = (
    "407: the company proxy wants credentials it did not get or refused: an admin sets "
    "PROXY_USERNAME and PROXY_PASSWORD (Environment); Diagnostics checks the route."
)
ERROR_HINT_REFUSED = (
    "Connection refused: the endpoint is unreachable: check the network, the endpoint "
    "address and the proxy settings (HTTPS_PROXY)."
)
ERROR_HINT_PORT = "Another program uses this port: choose another one under Settings."
ERROR_HINT_OTHER = "See the Logs screen for details."

# config
VALIDATE = "Validate"
APPLY = "Apply"
TEMPLATES = "Templates"
HISTORY = "History"
VALID = "No problems found."
APPLYING = "Applying…"

# environment
ADD = "Add"
EDIT = "Edit"
DELETE = "Delete"
REVEAL = "Reveal"
COPY = "Copy"
IMPORT = "Import .env"
EXPORT = "Export"
FORWARDING = "Forwarding"
SAVE_AND_SEND = "Save and send"
SEND_NOW = "Send now"
NAME = "Name"
VALUE = "Value"
SHARED = "Shared with every user (admin)"
EXPORT_WARNING = (
    "The export file will contain the values in plain text. Keep it safe and delete it when done."
)
COPIED = "Copied. The clipboard is cleared in 30 s."
CONFIRM_PASSWORD = "Enter your password to reveal the value for 10 s."

# tokens
GET_TOKEN = "Get token"
PROJECTS = "Projects"
PROJECT_ID = "Project ID"
PROJECT_NAME = "Project name"
USE = "Use"
REMOVE = "Remove"
FORGET_PASSWORD = "Forget password"
PASSWORD_FORGOTTEN = (
    "The remembered employee password is forgotten: the token is no longer refreshed with it."
)
IAM_SETTINGS = "IAM settings (admins)"
IAM_HELP = (
    "How the app gets internal tokens. Choose the shape, fill in what your IAM team gave "
    "you; Test login shows the IAM's answer (tokens masked) and stores nothing."
)
IAM_EXAMPLE = "Load example"
IAM_TEST = "Test login"
IAM_SAVE = "Save IAM settings"
IAM_SAVED = "IAM settings saved."
IAM_VERIFY_TLS = "Verify the IAM's TLS certificate"
IAM_URL_BY_SHAPE = {"oidc": "Issuer URL (its /.well-known/openid-configuration)"}
IAM_HINTS = {
    "url": "Token endpoint URL",
    "client_id": "OAuth client ID (OAuth shapes)",
    "client_secret": "OAuth client secret (empty: keep the stored one)",
    "client_auth": "Client auth: client_secret_basic | client_secret_post | none",
    "scope": "OAuth scope (optional)",
    "token_source": "Token for the upstream: access_token | id_token (browser sign-in)",
    "body_format": "Body format: json | form (custom)",
    "employee_id_field": "Employee ID field (custom)",
    "password_field": "Password field (custom)",
    "static_fields": "Extra login fields, JSON object (custom)",
    "token_path": "Token path in the answer, e.g. data.access_token (custom)",
    "expiry_kind": "Expiry: expires_in | absolute | jwt (custom)",
    "expiry_path": "Expiry path in the answer (custom)",
    "ca_bundle": "Company CA bundle (PEM file, optional)",
    "timeout_s": "Timeout in seconds",
}

# logs
PAUSE = "Pause"
RESUME = "Resume"
SEARCH = "Search"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# users / audit
CREATE_USER = "Create user"
ROLE = "Role"
DISABLE = "Disable"
ENABLE = "Enable"
RESET = "Reset password"
MAKE_ADMIN = "Make admin"
MAKE_USER = "Make user"
VERIFY = "Verify chain"
ADMIN_ONLY = "This screen is for admins."

# settings
SETTINGS_SAVED = "Settings saved."
PORT = "Proxy port"
AUTOSTART = "Start the proxy when the app opens"
START_AT_LOGIN = "Open the app when I log in to this computer"
START_AT_LOGIN_MANAGED = " (set by your company's policy)"
IDLE_LOCK = "Lock after idle minutes (0 = never)"
DARK_THEME = "Dark theme"
ONSCREEN_KEYBOARD = "On-screen keyboard (kiosk)"
CLOSE_TO_TRAY = "Closing the window keeps the proxy running in the tray"
SAVE = "Save"
CANCEL = "Cancel"
OK = "OK"
QUIT_TITLE = "Quit LiteLLM Bridge?"
QUIT_TEXT = "Kiosk mode: an admin password is needed to quit."
QUIT_DESKTOP_TEXT = "The proxy stops too: tools pointed at it lose their connection."
QUIT = "Quit"
QUIT_KIOSK = "Quit kiosk"

# usage and policy
USAGE_TITLE = "Usage"
USAGE_DAYS = "Days"
USAGE_PER_DAY = "Requests per day"
USAGE_PER_MODEL = "Requests per model"
USAGE_NONE = "No usage recorded in this period."
USAGE_ANSWERED_BY = "answered by {key}"  # a table row per deployment, after the models
USAGE_REFUSED_ROW = "refused by the bridge (no deployment asked)"
USAGE_NOT_RECORDED = "(not recorded)"  # rows from before the deployment was kept
DASH_REQUESTS = "{total} in total"  # client requests, whatever their outcome
DASH_REFUSED = ", {refused} refused by the bridge"  # policy, quota, sign-in
USAGE_REFUSED = " · {refused} refused by the bridge"  # policy, quota, sign-in: no upstream asked
USAGE_TOTAL = (
    "{requests} · {errors}{refused} · tokens {tokens_in} in / {tokens_out} out · "
    "{latency:.0f} ms average · estimated cost ${cost:.4f}"
)
USAGE_EXPORT_TO = "Export to (.csv or .json)"
POLICY_TITLE = "Policy in force"
POLICY_FROM = "From:"
POLICY_SIGNED = "signed with the company key"
POLICY_UNSIGNED = "not signed"
POLICY_REFUSED = "Refused, the policy above stays in force:"
MANAGED_BY_COMPANY = "Managed by your company"
NOTHING_LOCKED = "Nothing is locked for you by the policy."
NO_QUOTAS = "No limits or quotas apply."
NO_POLICY_TEXT = "No company policy has been applied on this machine."
QUOTAS = "Your limits and quotas"
SETTINGS_MANAGED = "These settings are managed by your company: only an admin can change them."
# remote gateways and logical models
REMOTE_ADD = "Add gateway"
REMOTE_ADD_DEPLOYMENT = "Add to a model"
REMOTE_ROUTING = "Routing"
REMOTE_GATEWAYS = "Remote LiteLLM gateways (tap one: test, models, remove)"
REMOTE_DEPLOYMENTS = "Logical models: each deployment's state (tap one to remove it)"
REMOTE_RECENT = "Which deployment answered each recent request"
REMOTE_NO_GATEWAYS = "No remote gateway yet: Add gateway (admins)."
REMOTE_TEST = "Test connection"
REMOTE_MODELS = "Models"
REMOTE_REMOVE = "Remove"
REMOTE_USE = "Use here"

# updates
UPDATES_TITLE = "Updates"
UPDATES_OPEN = "Updates…"  # on the Diagnostics screen: where the Updates screen opens
UPDATES_CHECK = "Check for updates"
UPDATES_DOWNLOAD = "Download"
UPDATES_INSTALL = "Install"
UPDATES_ROLLBACK = "Roll back"
UPDATES_SOURCE = "Update source…"
UPDATES_NOT_CHECKED = "Check for updates to see whether a newer version is published."
UPDATES_NO_SOURCE = (
    "No update source is configured: an admin sets one with Update source… "
    "(the URL or folder IT publishes and its root.json)."
)
UPDATES_CHECKING = "Checking the update source…"
UPDATES_VERIFIED = (
    "Version {version} downloaded and verified: its signature, length and SHA-256 match "
    "the signed update metadata."
)
UPDATES_REFUSED = "The update was refused: {reason}"
UPDATES_FAILED = "The update check failed: {reason}"
UPDATES_INSTALLED = (
    "{outcome}. Nothing changes until then: the switch happens at the next start of "
    "LiteLLM Bridge, after a health check, and rolls back by itself if that fails."
)
UPDATES_ADMIN_ONLY = "An admin installs updates and rolls them back."
UPDATES_SERVING_TITLE = "The proxy is serving requests"
UPDATES_SERVING_TEXT = (
    "Installing now does not stop the proxy: the new version is unpacked beside this one and "
    "starts at the next start, after a health check. Install anyway?"
)
UPDATES_INSTALL_ANYWAY = "Install anyway"
UPDATES_ROLLBACK_TITLE = "Roll back to {version}?"
UPDATES_ROLLBACK_TEXT = (
    "{version} starts at the next start. If it cannot read the database (it was upgraded "
    "since), the copy made before the upgrade comes back when LiteLLM Bridge closes, and "
    "the newer one is kept beside it."
)
UPDATES_ROLLED_BACK = "{outcome} Close and start LiteLLM Bridge again to run it."
UPDATES_SOURCE_URL = "Update source (https:// URL or folder)"
UPDATES_SOURCE_ROOT = "Trusted root.json from IT (path)"
UPDATES_MANAGED_OFF = MANAGED_BY_COMPANY + ": updates are turned off on this machine."
UPDATES_MANAGED_PIN = MANAGED_BY_COMPANY + ": only version {version} may be installed."
