"""One bridge for the conformance suite: the app's services on a fresh data folder, an
employee signed in at a real (fake) IAM, a project selected, and the embedded proxy
routing three model groups to the scripted agent model, each in its own wire format:

- ``agent-chat``       a chat-completions-only endpoint (the internal-enterprise template);
- ``agent-anthropic``  an endpoint that speaks Anthropic's ``/v1/messages`` natively;
- ``agent-responses``  an endpoint that speaks OpenAI's Responses API natively.

Every deployment carries the internal token and project the way the template does
(``extra_body`` placeholders), so every test can check they reached the endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge_app.auth import Session
from bridge_app.devtools import FakeIam
from bridge_app.proxy import ProxySupervisor
from bridge_app.runtime import AppPaths
from bridge_app.services import Services, build_services
from bridge_app.tokens import IamSettings, Project
from tests.conformance._agent_model import AgentModel, Seen

EMPLOYEE, EMPLOYEE_PW = "E200", "employee-pw-200"
ADMIN_PW = "Admin-Password-42!"

INJECTED = (
    '      extra_body:\n        internal_token: "{token}"\n        project_id: "{project.id}"\n'
)
#: LiteLLM's anthropic provider sends only Anthropic's own body fields on the native
#: /v1/messages path: an Anthropic-style endpoint takes the token as a header.
INJECTED_HEADERS = (
    "      extra_headers:\n"
    '        x-internal-token: "{token}"\n'
    '        x-project-id: "{project.id}"\n'
)


def conformance_config(model: AgentModel) -> str:
    return (
        "model_list:\n"
        "  - model_name: agent-chat\n"
        "    litellm_params:\n"
        "      model: hosted_vllm/agent-model\n"
        f"      api_base: {model.base('chat')}\n"
        "      use_chat_completions_api: true\n"
        f"{INJECTED}"
        "  - model_name: agent-anthropic\n"
        "    litellm_params:\n"
        "      model: anthropic/agent-model\n"
        f"      api_base: {model.base('anthropic')}\n"
        "      api_key: not-a-real-key\n"
        f"{INJECTED_HEADERS}"
        "  - model_name: agent-responses\n"
        "    litellm_params:\n"
        "      model: openai/agent-model\n"
        f"      api_base: {model.base('responses')}\n"
        "      api_key: not-a-real-key\n"
        f"{INJECTED}"
        "litellm_settings:\n"
        "  drop_params: true\n"
        "  use_chat_completions_url_for_anthropic_messages: true\n"
        "router_settings:\n"
        "  num_retries: 0\n"
        "  disable_cooldowns: true\n"
        "general_settings:\n"
        "  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )


@dataclass
class Bridge:
    services: Services
    session: Session
    model: AgentModel
    supervisor: ProxySupervisor
    key: str

    @property
    def url(self) -> str:
        return self.supervisor.url

    @property
    def token(self) -> str:
        return self.services.tokens.current().token or ""

    def reached(self, marker: str) -> Seen:
        """The request with ``marker`` as the endpoint got it, checked for the token and
        project the bridge must have added."""
        seen = self.model.last(marker)
        if seen.dialect == "anthropic":
            assert seen.headers.get("x-internal-token") == self.token, (seen.path, seen.headers)
            assert seen.headers.get("x-project-id") == "P-7", (seen.path, seen.headers)
            assert "internal_token" not in seen.body and "extra_body" not in seen.body
        else:
            assert seen.body.get("internal_token") == self.token, (seen.path, seen.body.keys())
            assert seen.body.get("project_id") == "P-7", (seen.path, seen.body.keys())
        return seen


@contextmanager
def signed_in(
    services: Services, *, port: int = 0
) -> Iterator[tuple[Session, AgentModel, ProxySupervisor]]:
    """On fresh ``services``: an admin, the scripted model behind the three model groups,
    an employee signed in at a fake IAM with project P-7 active, the proxy started on
    ``port``. Everything is stopped (and ``services`` closed) on the way out."""
    iam = FakeIam({EMPLOYEE: EMPLOYEE_PW}).start()
    model = AgentModel().start()
    try:
        services.auth.create_first_admin("root", ADMIN_PW)
        session = services.auth.login("root", ADMIN_PW)
        active: Path = services.paths.proxy_config_dir / "config.yaml"
        active.parent.mkdir(parents=True, exist_ok=True)
        active.write_text(conformance_config(model), encoding="utf-8")
        services.tokens.set_iam_settings(
            session, IamSettings(url=iam.token_url, token_path="data.access_token")
        )
        services.tokens.projects.save(session, Project("P-7", "Orion", {}))
        services.tokens.activate(session)
        services.tokens.login(session, EMPLOYEE, EMPLOYEE_PW)
        supervisor = services.proxy.supervisor(port=port)
        supervisor.start()
        yield session, model, supervisor
    finally:
        services.close()
        model.stop()
        iam.stop()


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    home = tmp_path_factory.mktemp("conformance") / "bridge-home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIDGE_HOME", str(home))
        paths = AppPaths.from_environment()
        paths.ensure()
        services = build_services(paths)
        with signed_in(services) as (session, model, supervisor):
            yield Bridge(services, session, model, supervisor, services.proxy.master_key())
