"""Local stand-ins for the company's IAM and internal LLM endpoint: real HTTP servers on
loopback, used by the tests and by `litellm-bridge dev fake-internal` for demos."""

from bridge_app.devtools._fake_iam import FakeIam
from bridge_app.devtools._fake_upstream import FakeInternalUpstream
from bridge_app.devtools._http import LoopbackServer

__all__ = ["FakeIam", "FakeInternalUpstream", "LoopbackServer"]
