"""What the front ends (cli/, ui/) use of the domain packages, re-exported so that they
import only the application core's package (an import-linter contract checks it)."""

from bridge_app.audit import (
    AuditEvent,
    ExportResult,
    VerifyResult,
)
from bridge_app.auth import (
    AccountLockedError,
    NoAdminError,
    ResetResult,
    Session,
    UserInfo,
)
from bridge_app.clients import (
    SHELLS,
    TOOLS,
    ChangeResult,
    ToolCard,
    ToolSettings,
    ToolsService,
)
from bridge_app.config import (
    ApplyResult,
    ConfigApplyError,
    ConfigInvalidError,
    ConfigService,
    ConfigVersion,
    Problem,
    Template,
    ValidationResult,
)
from bridge_app.devtools import (
    FakeIam,
    FakeInternalUpstream,
)
from bridge_app.envvars import (
    APP_PROVIDED,
    EnvEntry,
    EnvService,
    ImportPreview,
    ImportResult,
)
from bridge_app.integrity import (
    check_integrity,
    prepare_gui_environment,
    run_self_test,
)
from bridge_app.proxy import (
    PROXY_LOG_NAME,
    STATUS_FILE,
    LogLine,
    ProxyState,
    ProxyStatus,
    ProxySupervisor,
    exposed_addresses,
    is_loopback_host,
    read_status,
    url_for,
)
from bridge_app.tokens import (
    IamSettings,
    Project,
    TokenService,
    TokenStatus,
)

__all__ = [
    "APP_PROVIDED",
    "PROXY_LOG_NAME",
    "SHELLS",
    "STATUS_FILE",
    "TOOLS",
    "AccountLockedError",
    "ApplyResult",
    "AuditEvent",
    "ChangeResult",
    "ConfigApplyError",
    "ConfigInvalidError",
    "ConfigService",
    "ConfigVersion",
    "EnvEntry",
    "EnvService",
    "ExportResult",
    "FakeIam",
    "FakeInternalUpstream",
    "IamSettings",
    "ImportPreview",
    "ImportResult",
    "LogLine",
    "NoAdminError",
    "Problem",
    "Project",
    "ProxyState",
    "ProxyStatus",
    "ProxySupervisor",
    "ResetResult",
    "Session",
    "Template",
    "TokenService",
    "TokenStatus",
    "ToolCard",
    "ToolSettings",
    "ToolsService",
    "UserInfo",
    "ValidationResult",
    "VerifyResult",
    "check_integrity",
    "exposed_addresses",
    "is_loopback_host",
    "prepare_gui_environment",
    "read_status",
    "run_self_test",
    "url_for",
]
