"""The internal token: IAM connector, token lifecycle, projects, and what the proxy hook
injects into every request."""

from bridge_app.tokens._iam import IamClient, IamError, IamSettings, TokenGrant
from bridge_app.tokens._inject import (
    InjectionContext,
    Project,
    TokenUnavailable,
    merge_body,
    placeholders_in,
    render,
)
from bridge_app.tokens._injector import TokenInjector, injection_templates
from bridge_app.tokens._keeper import TokenKeeper
from bridge_app.tokens._projects import ProjectError, ProjectStore
from bridge_app.tokens._service import TokenService, TokenState, TokenStatus

__all__ = [
    "IamClient",
    "IamError",
    "IamSettings",
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
    "injection_templates",
    "merge_body",
    "placeholders_in",
    "render",
]
