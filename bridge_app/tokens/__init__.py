"""The internal token: IAM connector, token lifecycle, projects, and what the proxy hook
injects into every request."""

from bridge_app.placeholders import placeholders_in
from bridge_app.tokens._device import DevicePrompt
from bridge_app.tokens._errors import IamError
from bridge_app.tokens._grant import TokenGrant
from bridge_app.tokens._iam import IamClient
from bridge_app.tokens._iam_settings import (
    MAX_SETTINGS_BYTES,
    SHAPE_TITLES,
    SHAPES,
    VALID_KEYS,
    IamSettings,
    IamSettingsError,
    example_data,
    example_settings,
    parse_iam_settings,
    parse_iam_settings_text,
)
from bridge_app.tokens._inject import (
    InjectionContext,
    Project,
    TokenUnavailable,
    merge_body,
    render,
)
from bridge_app.tokens._injector import TokenInjector, injection_templates
from bridge_app.tokens._keeper import TokenKeeper
from bridge_app.tokens._projects import ProjectError, ProjectStore
from bridge_app.tokens._refresh import (
    BACKOFF_FIRST_S,
    BACKOFF_MAX_S,
    MARGIN_MAX_S,
    MARGIN_MIN_S,
    MARGIN_SHARE,
    max_iam_calls,
    refresh_margin,
)
from bridge_app.tokens._service import TokenService
from bridge_app.tokens._status import TokenState, TokenStatus

__all__ = [
    "BACKOFF_FIRST_S",
    "BACKOFF_MAX_S",
    "MARGIN_MAX_S",
    "MARGIN_MIN_S",
    "MARGIN_SHARE",
    "MAX_SETTINGS_BYTES",
    "SHAPES",
    "SHAPE_TITLES",
    "VALID_KEYS",
    "DevicePrompt",
    "IamClient",
    "IamError",
    "IamSettings",
    "IamSettingsError",
    "InjectionContext",
    "Project",
    "ProjectError",
    "ProjectStore",
    "TokenGrant",
    "TokenInjector",
    "TokenKeeper",
    "TokenService",
    "TokenState",
    "TokenStatus",
    "TokenUnavailable",
    "example_data",
    "example_settings",
    "injection_templates",
    "max_iam_calls",
    "merge_body",
    "parse_iam_settings",
    "parse_iam_settings_text",
    "placeholders_in",
    "refresh_margin",
    "render",
]
