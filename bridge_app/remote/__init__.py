"""Beyond one machine: remote LiteLLM gateways (test, models, use one as a local model),
logical models as LiteLLM router settings (groups, priority, fallbacks, retries, cooldown,
key rotation) with each deployment's live state, and the team deployment export."""

from bridge_app.remote._gateways import Gateway, key_env_name, normalize_url
from bridge_app.remote._live import AnsweredRequest, DeploymentState
from bridge_app.remote._probe import ProbeResult, RemoteError, RemoteModel
from bridge_app.remote._routing import STRATEGIES, Deployment, ModelGroup, RouterSettings
from bridge_app.remote._service import DEFAULT_INJECTION, RemoteService, RoutingView
from bridge_app.remote._team import TeamExport

__all__ = [
    "DEFAULT_INJECTION",
    "STRATEGIES",
    "AnsweredRequest",
    "Deployment",
    "DeploymentState",
    "Gateway",
    "ModelGroup",
    "ProbeResult",
    "RemoteError",
    "RemoteModel",
    "RemoteService",
    "RouterSettings",
    "RoutingView",
    "TeamExport",
    "key_env_name",
    "normalize_url",
]
