"""The request counters against every order in which LiteLLM's hooks and events and the
route gate can report one request (the integration test tests_counts.py sends real ones):
each retry and fallback is one upstream call of its deployment, settled as failed or
answered; each request is one client request, with the status the client got; the
bridge's refusals are neither errors nor a deployment's fault; usage rows are one per
client request."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge_app.proxy._metrics import NO_MODEL, ProxyMetrics, RequestSample

DEPLOYMENTS = ("a-1", "a-2", "b-1")


@dataclass(frozen=True)
class Plan:
    """One client request: the calls the router makes (deployment, answered?), in order;
    how it ends; and when the gate reports the answer relative to the success event."""

    calls: tuple[tuple[str, bool], ...]
    refusal: str | None  # None, "admission" (before routing) or "deployment" (at a call)
    gate_first: bool  # the gate finishes before the success event is logged (streams)
    stream_breaks: bool  # a 200 stream that broke: a failure after the answer began


calls = st.lists(
    st.tuples(st.sampled_from(DEPLOYMENTS), st.booleans()), min_size=0, max_size=5
).map(tuple)
plans = st.builds(
    Plan,
    calls=calls,
    refusal=st.sampled_from([None, None, None, "admission", "deployment"]),
    gate_first=st.booleans(),
    stream_breaks=st.booleans(),
)


REFUSAL = "No project is selected"


def _sample(
    call_id: str, status: int, deployment: str | None, error: str | None = None
) -> RequestSample:
    return RequestSample(
        1.0, "m", "/v1/chat/completions", status, 5.0,
        deployment=deployment, call_id=call_id, error=error or (None if status < 400 else "503"),
    )  # fmt: skip


def play(metrics: ProxyMetrics, call_id: str, plan: Plan) -> tuple[str, Counter[str], Counter[str]]:
    """Feed one request's events as LiteLLM and the gate produce them; returns what the
    client got ("ok", "error", "refused") and what each upstream saw (calls, failures)."""
    seen, failed = Counter[str](), Counter[str]()
    if plan.refusal == "admission":
        metrics.refuse(call_id, _sample(call_id, 403, None, REFUSAL))
        metrics.client_done(call_id, 403, endpoint="/v1/chat/completions")
        return "refused", seen, failed
    logged_failure = False
    # The router stops at the first call that answers.
    tried: list[tuple[str, bool]] = []
    for deployment, answers in plan.calls:
        tried.append((deployment, answers))
        if answers:
            break
    answered = bool(tried) and tried[-1][1]
    for deployment, answers in tried:
        metrics.attempt(call_id, deployment, layer="acompletion")
        seen[deployment] += 1
        if not answers:
            failed[deployment] += 1
            if not logged_failure:  # once per logging object: later retries are silent
                metrics.record(_sample(call_id, 503, deployment))
                logged_failure = True
    if plan.refusal == "deployment" and not answered:
        # The next call is refused by a request hook before it leaves: no upstream sees it
        # (LiteLLM's failure event names the deployment the router had chosen).
        chosen = tried[-1][0] if tried else DEPLOYMENTS[0]
        metrics.refuse(call_id, _sample(call_id, 403, None, REFUSAL))
        metrics.record(_sample(call_id, 403, chosen, REFUSAL))
        metrics.client_done(call_id, 403, endpoint="/v1/chat/completions")
        return "refused", seen, failed
    if not answered:
        if not tried:  # no call at all: LiteLLM rejected the request (an unknown model)
            metrics.client_done(call_id, 400, endpoint="/v1/chat/completions")
            return "error", seen, failed
        metrics.client_done(call_id, 503, endpoint="/v1/chat/completions")
        return "error", seen, failed
    last = tried[-1][0]
    if plan.stream_breaks:
        metrics.client_done(call_id, 200, endpoint="/v1/chat/completions")
        metrics.record(_sample(call_id, 500, last))
        failed[last] += 1
        return "error", seen, failed
    if plan.gate_first:
        metrics.client_done(call_id, 200, endpoint="/v1/chat/completions")
        metrics.record(_sample(call_id, 200, last))
    else:
        metrics.record(_sample(call_id, 200, last))
        metrics.client_done(call_id, 200, endpoint="/v1/chat/completions")
    return "ok", seen, failed


@settings(max_examples=300, deadline=None)
@given(batch=st.lists(plans, min_size=1, max_size=12))
def test_the_counts_are_what_the_clients_and_the_upstreams_saw(batch: list[Plan]) -> None:
    rows: list[RequestSample] = []
    metrics = ProxyMetrics(sink=rows.append)
    clients, upstream_calls, upstream_failed = Counter[str](), Counter[str](), Counter[str]()
    for index, plan in enumerate(batch):
        outcome, seen, failed = play(metrics, f"bridge-{index}", plan)
        clients[outcome] += 1
        upstream_calls.update(seen)
        upstream_failed.update(failed)
    snap = metrics.snapshot()
    assert snap["requests"] == len(batch)
    assert snap["errors"] == clients["error"]
    assert snap["refused"] == clients["refused"]
    for deployment in DEPLOYMENTS:
        shown = snap["deployments"].get(deployment, {"requests": 0, "errors": 0})
        assert (shown["requests"], shown["errors"]) == (
            upstream_calls[deployment],
            upstream_failed[deployment],
        ), (deployment, batch)
        assert shown.get("last_error") != REFUSAL  # the bridge's refusal is not its failure
    # Usage rows: one per client request, with the status the client got.
    assert len(rows) == len(batch)
    assert sum(1 for r in rows if r.refused) == clients["refused"]
    assert sum(1 for r in rows if r.status >= 400 and not r.refused) == clients["error"]


def test_a_request_with_no_model_call_still_counts_for_the_client() -> None:
    metrics = ProxyMetrics()
    metrics.client_done("bridge-x", 400, endpoint="/v1/chat/completions")
    snap = metrics.snapshot()
    assert (snap["requests"], snap["errors"]) == (1, 1)
    assert snap["per_model"][NO_MODEL]["errors"] == 1
