"""Check that a tool works through the proxy, and say in plain words what happened: run
the installed tool itself non-interactively with a tiny prompt, or (not installed) send
one tiny request the way it would (its wire format, its key header)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bridge_app.clients._model import Target, ToolSpec, VerifyResult, Wire
from bridge_app.runtime import Redactor, run_captured

PROMPT = "Reply with one word: ping"


def _request(wire: Wire, target: Target) -> tuple[str, dict[str, str], dict[str, Any]]:
    base = target.proxy_url
    if wire == "anthropic":
        return (
            f"{base}/v1/messages",
            {"Authorization": f"Bearer {target.key}", "anthropic-version": "2023-06-01"},
            {
                "model": target.model,
                "max_tokens": 32,
                "messages": [{"role": "user", "content": PROMPT}],
            },
        )
    if wire == "responses":
        return (
            f"{base}/v1/responses",
            {"Authorization": f"Bearer {target.key}"},
            {"model": target.model, "input": PROMPT, "max_output_tokens": 32},
        )
    if wire == "gemini":
        return (
            f"{base}/v1beta/models/{quote(target.model, safe='')}:generateContent",
            {"x-goog-api-key": target.key},
            {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]},
        )
    return (
        f"{base}/v1/chat/completions",
        {"Authorization": f"Bearer {target.key}"},
        {
            "model": target.model,
            "max_tokens": 32,
            "messages": [{"role": "user", "content": PROMPT}],
        },
    )


def _reply(wire: Wire, body: Any) -> str:
    try:
        if wire == "anthropic":
            return "".join(p.get("text", "") for p in body["content"])
        if wire == "responses":
            parts = [
                c.get("text", "")
                for item in body.get("output", [])
                for c in item.get("content") or []
                if isinstance(c, dict)
            ]
            return "".join(parts)
        if wire == "gemini":
            return "".join(p.get("text", "") for p in body["candidates"][0]["content"]["parts"])
        return str(body["choices"][0]["message"]["content"] or "")
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except json.JSONDecodeError:
        return response.text.strip()[:300] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:500]
    if isinstance(error, str):
        return error[:500]
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])[:500]
    return json.dumps(body)[:300]


def verify(
    tool: str, wire: Wire, target: Target, *, redactor: Redactor, timeout: float = 30.0
) -> VerifyResult:
    url, headers, body = _request(wire, target)

    def result(ok: bool, status: int | None, reason: str, reply: str = "") -> VerifyResult:
        return VerifyResult(
            tool=tool,
            ok=ok,
            wire=wire,
            url=url,
            model=target.model,
            status=status,
            reason=redactor.redact(reason),
            reply=reply,
        )

    try:
        # trust_env=False: the proxy is on loopback; a corporate HTTP(S)_PROXY or the
        # Windows system proxy must neither see the key nor answer in the proxy's place.
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            response = client.post(url, headers=headers, json=body)
    except httpx.ConnectError:
        return result(
            False,
            None,
            f"The proxy is not running at {target.proxy_url} (connection refused). "
            "Start it, then verify again.",
        )
    except httpx.TimeoutException:
        return result(False, None, f"The proxy did not answer within {timeout:.0f} s.")
    except httpx.HTTPError as exc:
        return result(False, None, f"Could not reach the proxy: {exc}.")
    status = response.status_code
    if status == 200:
        try:
            reply = _reply(wire, response.json())
        except json.JSONDecodeError:
            reply = ""
        if not reply:
            return result(
                False, status, "The proxy answered, but not in the format the tool reads."
            )
        return result(True, status, f"{target.model} answered through the proxy.", reply)
    message = _error_message(response)
    if status == 401 and "api key" in message.lower():
        return result(False, status, f"The proxy refused the key (401): {message}")
    lowered = message.lower()
    if status in (400, 404) and "model" in lowered and ("not" in lowered or "invalid" in lowered):
        return result(
            False, status, f"The model {target.model!r} is not available in the proxy: {message}"
        )
    return result(False, status, f"The proxy answered {status}: {message}")


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_headless(
    spec: ToolSpec,
    binary: str,
    target: Target,
    *,
    redactor: Redactor,
    env: Mapping[str, str] | None,
    home: Path | None,
    timeout: float,
) -> VerifyResult:
    """Run the tool as the user would from their work folder, with nothing but its own
    configuration (no variable of ours), and judge by its exit status and answer."""
    args = [binary, *(a.replace("{prompt}", PROMPT) for a in spec.headless)]
    run_env = dict(os.environ if env is None else env)
    if home is not None and env is None:
        run_env.update(HOME=str(home), USERPROFILE=str(home))
    folder = Path(target.folder) if target.folder else Path(run_env.get("HOME", "."))
    command = " ".join([Path(binary).name, *spec.headless]).replace("{prompt}", repr(PROMPT))

    def result(ok: bool, reason: str, reply: str = "") -> VerifyResult:
        return VerifyResult(
            tool=spec.id,
            ok=ok,
            wire=spec.wire,
            url=target.proxy_url,
            model=target.model,
            status=None,
            reason=redactor.redact(reason),
            reply=redactor.redact(reply),
            ran_tool=True,
        )

    try:
        # The whole tree is killed after the timeout: an npm shim (cmd.exe on Windows)
        # starts node, which may start more, and any of them can hold the pipes open.
        done = run_captured(
            args, timeout=timeout, env=run_env, cwd=folder if folder.is_dir() else None
        )
    except OSError as exc:
        return result(False, f"`{command}` could not start: {exc.strerror or exc}.")
    if done.timed_out:
        return result(False, f"`{command}` did not finish within {timeout:.0f} s.")
    # OpenCode colours its answer even with NO_COLOR: what is shown is the text.
    out = _ANSI.sub("", done.stdout or "").strip()
    if done.returncode != 0:
        said = " ".join((done.stderr or done.stdout or "").split())[-400:]
        return result(False, f"`{command}` failed (exit {done.returncode}): {said or 'no output'}")
    if not out:
        return result(False, f"`{command}` exited without an answer.")
    return result(True, f"{spec.name} answered through the proxy ({target.model}).", out[:500])
