"""The managed policy enforced by the real proxy (`serve` in its own process): forbidden
models get 403, limits 429 with Retry-After (a used-up daily quota: told not to retry),
on every wire format, streaming or not; the counters survive a restart; a changed
machine-wide policy reaches the running proxy; the usage export counts what was sent; and
the audit log shows all of it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.integration._serve import Serve, as_admin, cli, create_admin, wait_until
from tests.integration._upstream import free_port
from tests.integration._wire import KINDS, answer_text, build

pytestmark = pytest.mark.integration

LIMITED = """\
models: {allow: ["demo"]}
limits:
  per_user: {requests_per_minute: 2}
"""


def _client(port: int) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, trust_env=False)


def _machine_policy(tmp_path: Path, text: str) -> tuple[Path, Path, dict[str, str]]:
    """A data folder with an admin, and a machine policy file the commands are pointed at."""
    home = tmp_path / "home"
    policy = tmp_path / "etc" / "policy.yaml"
    policy.parent.mkdir()
    policy.write_text(text, encoding="utf-8")
    create_admin(home)
    return home, policy, {"BRIDGE_POLICY_FILE": str(policy)}


def test_models_and_limits_on_every_wire_format_across_a_restart(tmp_path: Path) -> None:
    home, policy, extra = _machine_policy(tmp_path, LIMITED)
    port = free_port()
    serve = Serve(home, port, **extra)
    sent_ok = 0
    try:
        key = cli(home, "proxy-key").stdout.strip()
        with _client(port) as c:
            for kind in KINDS:
                for stream in (False, True):
                    r = c.send(build(c, kind, key, model="gpt-4o", stream=stream))
                    assert r.status_code == 403, (kind, stream, r.text)
                    assert "model gpt-4o is not allowed by your company's policy" in r.text
            for _ in range(2):
                r = c.send(build(c, "chat", key, text="within the limit"))
                assert r.status_code == 200, r.text
                assert "within the limit" in answer_text("chat", r, stream=False)
                sent_ok += 1
            for kind in KINDS:
                for stream in (False, True):
                    r = c.send(build(c, kind, key, stream=stream))
                    assert r.status_code == 429, (kind, stream, r.text)
                    assert "requests_per_minute = 2" in r.text
                    assert 1 <= int(r.headers["retry-after"]) <= 60
        status = cli(home, "status", **extra)
        assert "Quota reached: user" in status.stdout
        assert "2 of 2 requests per minute (100 %)" in status.stdout
    finally:
        serve.stop()

    serve = Serve(home, port, **extra)
    try:
        with _client(port) as c:
            again = c.send(build(c, "anthropic", key))
            assert again.status_code == 429, again.text  # the counters came back from the store
            assert "retry-after" in again.headers

            # IT ships a new policy: the running proxy follows it without a restart.
            policy.write_text('models: {allow: ["demo"]}\n', encoding="utf-8")

            def passes() -> bool:
                return c.send(build(c, "chat", key)).status_code == 200

            assert wait_until(passes, timeout=20)
            sent_ok += 1
            # Claude Code with the main key: its usage row names the tool (User-Agent).
            as_claude = build(c, "anthropic", key)
            as_claude.headers["user-agent"] = "claude-cli/2.0.14 (external, cli)"
            assert c.send(as_claude).status_code == 200
            sent_ok += 1
            shown = cli(home, "policy", "show", **extra)
            assert f"Policy in force: machine file {policy}" in shown.stdout
            assert "requests_per_minute" not in shown.stdout

            # A daily quota used up (issue 26, item 9): the message says when, as a person
            # reads it, and the client is told not to retry (x-should-retry: false, no
            # Retry-After): told "in a minute", the real CLIs retried silently for minutes.
            policy.write_text(
                'models: {allow: ["demo"]}\nlimits:\n  per_user: {requests_per_day: 1}\n',
                encoding="utf-8",
            )

            answered: list[int] = []

            def refused() -> httpx.Response | None:
                r = c.send(build(c, "chat", key))
                answered.append(r.status_code)  # 200 until the new policy is read
                return r if r.status_code == 429 else None

            daily = wait_until(refused, timeout=20)
            assert daily is not None
            assert "requests_per_day = 1" in daily.text
            assert "It allows requests again tomorrow at " in daily.text, daily.text
            assert "Retry after 8" not in daily.text  # no "86219 s"
            assert daily.headers["x-should-retry"] == "false"
            assert "retry-after" not in daily.headers
            # Codex CLI and Gemini CLI retry any 429: they get the same refusal as 403, on
            # their own wire formats (main key: told apart by their User-Agent).
            for kind, agent in (
                ("responses", "codex_exec/0.169.0"),
                ("gemini", "GeminiCLI/0.61.0"),
            ):
                for stream in (False, True):
                    request = build(c, kind, key, stream=stream)
                    request.headers["user-agent"] = agent
                    r = c.send(request)
                    answered.append(r.status_code)
                    assert r.status_code == 403, (kind, stream, r.status_code, r.text)
                    assert "It allows requests again tomorrow at " in r.text, r.text
                    assert r.headers["x-should-retry"] == "false"
            sent_ok += answered.count(200)
    finally:
        serve.stop()

    listed = as_admin(home, "usage", "--by", "model")
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith("demo ") for line in listed.stdout.splitlines()), listed.stdout
    out = tmp_path / "usage.json"
    exported = as_admin(home, "usage", "export", "--format", "json", str(out), "--by", "model")
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    demo = next(g for g in doc["groups"] if g["key"] == "demo")
    # The limits' 429s are the bridge's refusals: counted apart, never as errors.
    assert demo["errors"] == 0 and demo["refused"] > 0, demo
    assert demo["requests"] - demo["refused"] == sent_ok
    assert demo["tokens_in"] > 0 and demo["tokens_out"] > 0
    by_tool = as_admin(home, "usage", "--by", "tool")
    assert by_tool.returncode == 0, by_tool.stderr
    tools = {line.split()[0]: line.split()[1] for line in by_tool.stdout.splitlines()[1:-1]}
    assert tools.get("claude-code") == "1", by_tool.stdout
    assert "(main" in by_tool.stdout  # the httpx requests: the main key, no known tool

    audit = as_admin(home, "audit", "list", "--action", "policy")
    assert audit.returncode == 0, audit.stderr
    assert "policy.change" in audit.stdout and str(policy) in audit.stdout
    assert "policy.request_refused" in audit.stdout and "model gpt-4o" in audit.stdout
    assert "policy.quota" in audit.stdout and "100 % of requests_per_minute" in audit.stdout


def test_status_shows_the_quota_of_the_person_serve_serves(tmp_path: Path) -> None:
    """Issue 26, item 5: `status` counted the OS account of the terminal it ran in, so the
    person a `serve --as` served never saw their quota warning there."""
    home, _policy, extra = _machine_policy(tmp_path, LIMITED)
    dana_pw = "Staple-Horse-Battery-42!"
    made = cli(
        home, "user", "create", "dana", "--as", "root", "--password-stdin",
        stdin=f"Admin-Password-42!\n{dana_pw}\n", **extra,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    port = free_port()
    serve = Serve(home, port, "--as", "dana", "--password-stdin", stdin=f"{dana_pw}\n", **extra)
    try:
        key = cli(home, "proxy-key").stdout.strip()
        with _client(port) as c:
            for _ in range(2):
                assert c.send(build(c, "chat", key)).status_code == 200
        status = cli(home, "status", **extra)  # this terminal's OS account is not dana
        assert "Quota reached: user dana: 2 of 2 requests per minute (100 %)" in status.stdout, (
            status.stdout
        )
    finally:
        serve.stop()
    stopped = cli(home, "status", **extra)  # nobody is served: this account's own quota
    assert "user dana" not in stopped.stdout
