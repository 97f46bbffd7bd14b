"""LiteLLM's proxy app under a uvicorn.Server in one named thread (imports LiteLLM).

LiteLLM keeps its proxy state in module globals, so there is one server at a time per
process (_litellm_globals resets them before a start). This module wraps the app's
lifespan so that startup errors are captured (uvicorn only logs them and ends the thread
with sys.exit) and an abandoned server cannot tear down its successor.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from bridge_app.proxy._ending import deliver_finished_requests, drop_connections
from bridge_app.proxy._gate import InFlightLimit, RouteGate
from bridge_app.proxy._keys import KeyRegistry
from bridge_app.proxy._listener import Listener

# Before any module that imports LiteLLM (_usage_estimate): it sets the environment
# LiteLLM reads while it imports, then imports it.
from bridge_app.proxy._litellm_globals import (
    ps,
    remember_litellm_settings,
    remove_admin_ui,
    reset_proxy_globals,
)
from bridge_app.proxy._metrics import ProxyMetrics
from bridge_app.proxy._otel_guard import install as install_otel_guard
from bridge_app.proxy._usage_estimate import install as install_usage_estimate
from bridge_app.runtime import Redactor, thread_cpu_time, thread_wait_time

__all__ = [
    "ServerThread",
    "open_connections",
    "rehearse",
    "remember_litellm_settings",
    "remove_admin_ui",
    "reset_proxy_globals",
]

log = logging.getLogger("bridge_app.proxy.server")

_current = threading.local()  # the ServerThread whose loop is running the lifespan
_abandoned: list[Any] = []  # lifespans of abandoned servers, kept so nothing finalizes them


class _BridgeLifespan:
    """Wraps LiteLLM's lifespan for one server (class-based: no generator to finalize)."""

    def __init__(self, inner: Callable[[Any], Any], app: Any) -> None:
        self._cm = inner(app)
        self._server: ServerThread | None = getattr(_current, "server", None)

    async def __aenter__(self) -> Any:
        server = self._server
        try:
            state = await self._cm.__aenter__()
        except BaseException as exc:
            if server is not None:
                server.startup_error = exc
            raise
        # LiteLLM 1.109 freezes every object alive at start (gc.freeze: for forked workers
        # sharing pages). In this process the proxy restarts beside the window: what a
        # frozen start holds would never be collected, so give it back to the collector.
        gc.unfreeze()
        if server is not None and server.after_startup is not None:
            server.after_startup()  # before uvicorn accepts the first connection
        return state

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        server = self._server
        if server is not None and server.abandoned:
            _abandoned.append(self._cm)  # LiteLLM's shutdown would hit the next server
            return None
        await deliver_finished_requests()
        return bool(await self._cm.__aexit__(*exc_info))


def _install_lifespan_wrapper() -> None:
    router = ps.app.router
    if getattr(router, "_bridge_wrapped", False):
        return
    inner = router.lifespan_context
    router.lifespan_context = lambda app: _BridgeLifespan(inner, app)
    router._bridge_wrapped = True  # type: ignore[attr-defined]
    # LiteLLM prints a refused master key's explanation from an atexit hook; keep it
    # for the error message instead (the module looks the name up at call time).
    ps.announce_on_stderr_at_exit = _record_refusal  # type: ignore[attr-defined,assignment]


def _record_refusal(text: str) -> None:
    server = getattr(_current, "server", None)
    if server is not None:
        server.refusal = text


_install_lifespan_wrapper()
# Prompt tokens of streams without usage: an O(1) estimate instead of tiktoken over the
# whole prompt, several times per request (see _usage_estimate).
install_usage_estimate()
# Without OpenTelemetry's SDK, LiteLLM's auth re-runs a failing import on every request
# (see _otel_guard).
install_otel_guard()


def open_connections(server: uvicorn.Server | None) -> int:
    if server is None:
        return 0
    return len(server.server_state.connections)


_EXCLUSIVE_REBIND_WAIT_S = 3.0


class ServerThread:
    """One uvicorn.Server on a socket we bind ourselves, in the thread ``litellm-proxy``.

    Binding first makes "port in use" a synchronous error and lets a stuck server's port
    be freed by closing the socket.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        after_startup: Callable[[], None] | None = None,
        keys: KeyRegistry | None = None,
        metrics: ProxyMetrics | None = None,
        listener: Listener | None = None,
        in_flight: InFlightLimit | None = None,
    ) -> None:
        self.host = host
        self.port = listener.port if listener is not None else port
        self.after_startup = after_startup
        self.startup_error: BaseException | None = None
        self.refusal: str | None = None
        self.crash: BaseException | None = None
        self.abandoned = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self._answered_at = time.monotonic()  # the last heartbeat the loop ran
        self._answered_cpu = 0.0  # the loop thread's CPU seconds at that heartbeat
        self._answered_process_cpu = 0.0  # and the whole process's
        self._answered_wait = 0.0  # the loop thread's time waiting for a CPU
        # A duplicate of the supervisor's listening socket: whatever this server does to
        # its descriptor (close it, or have it taken away when abandoned), the port stays.
        self.sock = listener.dup() if listener is not None else self._bind()
        # Every request meets the route gate before LiteLLM; without keys nothing but the
        # health probes answers (a warm-up rehearsal).
        gate = RouteGate(
            ps.app,
            keys=keys or KeyRegistry(redactor=Redactor()),
            metrics=metrics,
            in_flight=in_flight,
        )
        config = uvicorn.Config(
            gate,
            log_config=None,  # never dictConfig() the app's logging
            access_log=True,
            lifespan="on",
            timeout_graceful_shutdown=2,
            ws="none",
            server_header=False,
        )
        self.gate = gate
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="litellm-proxy", daemon=True)

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # Windows: an exclusive port stays taken while a connection the previous server
        # accepted is still open, so a restart on the same port waits briefly for it.
        deadline = time.monotonic() + (_EXCLUSIVE_REBIND_WAIT_S if sys.platform == "win32" else 0)
        while True:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                if sys.platform == "win32":
                    # Without it another local program can bind the same address (Windows
                    # lets a more specific or SO_REUSEADDR bind share the port) and receive
                    # the keys the tools send. SO_REUSEADDR there would allow exactly that.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
                else:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, self.port))
                break
            except OSError as exc:
                sock.close()
                if exc.errno != errno.EADDRINUSE or time.monotonic() >= deadline:
                    raise
            time.sleep(0.2)
        if self.port == 0:
            self.port = sock.getsockname()[1]
        return sock

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        _current.server = self

        async def main() -> None:
            self._answer_beat()
            self.loop = asyncio.get_running_loop()
            try:
                await self.server.serve(sockets=[self.sock])
            finally:
                drop_connections(self.server, in_loop=True)

        runner = asyncio.Runner(loop_factory=self._loop_factory())
        try:
            runner.run(main())
        except SystemExit as exc:  # uvicorn ends a failed lifespan startup with sys.exit(3)
            self.crash = self.startup_error or exc
        except BaseException as exc:
            self.crash = exc
            if not self.abandoned:  # an abandoned server's socket was closed under it
                log.error("the proxy server stopped with an error: %r", exc)
        finally:
            _current.server = None
            drop_connections(self.server, in_loop=False)  # a loop that died on the way
            if self.abandoned:
                # Closing the runner would cancel LiteLLM's lifespan and run its shutdown,
                # which resets module globals the next server is using: leave it be.
                _abandoned.append(runner)
            else:
                runner.close()

    def _loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        if sys.platform == "win32":
            # Every server gets a duplicate of the supervisor's one listening socket. The
            # proactor loop ties a socket to its I/O completion port until its last handle
            # closes, so the next server's accept failed with WinError 87 and no restart
            # ever served again. A selector loop ties nothing to the socket; uvicorn makes
            # the same choice when it shares its socket with worker processes.
            return asyncio.SelectorEventLoop
        # The loop uvicorn itself would pick (uvloop where installed, like the `litellm`
        # CLI): on the plain asyncio loop each request took ~40 ms longer here.
        return self.server.config.get_loop_factory()

    @property
    def started(self) -> bool:
        return bool(self.server.started)

    def alive(self) -> bool:
        return self.thread.is_alive()

    def beat(self) -> None:
        """Ask the event loop to note the time; ``silence_s`` says how long it has not."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._answer_beat)

    def _answer_beat(self) -> None:
        self._answered_at = time.monotonic()
        self._answered_cpu = time.thread_time()
        self._answered_process_cpu = time.process_time()
        self._answered_wait = thread_wait_time(threading.current_thread()) or 0.0

    def busy_share(self) -> float | None:
        """The share of the time since the loop last answered that its thread spent on the
        CPU: about 0 for a loop blocked in a call or deadlocked, high for one that computes
        or imports. None where the OS cannot tell (then a silent loop counts as hung)."""
        cpu = thread_cpu_time(self.thread)
        if cpu is None:
            return None
        elapsed = time.monotonic() - self._answered_at
        return (cpu - self._answered_cpu) / elapsed if elapsed > 0 else None

    def starved(self) -> bool:
        """Whether a silent loop is waiting rather than stuck: its thread spent a quarter of
        the silence runnable but without a CPU (an overloaded machine), or the rest of this
        process kept computing meanwhile (other threads hold the interpreter lock).
        Replacing such a loop would only cut off every stream it serves."""
        elapsed = time.monotonic() - self._answered_at
        if elapsed <= 0:
            return False
        waited = thread_wait_time(self.thread)
        if waited is not None and (waited - self._answered_wait) / elapsed >= 0.25:
            return True
        return (time.process_time() - self._answered_process_cpu) / elapsed >= 0.25

    def silence_s(self) -> float:
        """Seconds since the event loop last ran a heartbeat (sent every watchdog tick)."""
        return time.monotonic() - self._answered_at

    def ping(self, timeout: float) -> float | None:
        """Seconds for a round trip through the event loop; None if it did not answer."""
        loop = self.loop
        if loop is None or loop.is_closed() or not self.alive():
            return None

        async def _noop() -> None:
            return None

        t0 = time.perf_counter()
        try:
            future = asyncio.run_coroutine_threadsafe(_noop(), loop)
        except RuntimeError:
            return None
        try:
            future.result(timeout)
        except Exception:
            future.cancel()
            return None
        return time.perf_counter() - t0

    def drain(self, timeout: float) -> None:
        """Stop accepting (the supervisor's listener takes new connections from the shared
        port), and close the open keep-alive connections as their responses end, until
        none is open (or ``timeout``). A connection closed while idle could meet a request
        the client was sending on it at that moment: a reset, a failed request."""
        self.gate.draining = True
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(self._stop_accepting)
        deadline = time.monotonic() + timeout
        while open_connections(self.server) and time.monotonic() < deadline:
            time.sleep(0.02)

    def _stop_accepting(self) -> None:
        # Closes this server's duplicate of the listening socket only; the port stays.
        for listening in getattr(self.server, "servers", None) or []:
            listening.close()

    def stop(self, *, graceful: float, forced: float) -> bool:
        """Graceful, then forced, then abandoned. True when the thread really ended."""
        self.server.should_exit = True
        self.thread.join(graceful)
        if self.thread.is_alive():
            log.warning("the proxy did not stop within %.1f s; forcing it", graceful)
            self.server.force_exit = True  # skip the waits for open connections
            self.thread.join(forced)
        if self.thread.is_alive() and self.loop is not None and not self.loop.is_closed():

            def _cancel_all() -> None:
                for task in asyncio.all_tasks():
                    task.cancel()

            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(_cancel_all)
            self.thread.join(forced)
        ended = not self.thread.is_alive()
        if not ended:
            self.abandon()
        with contextlib.suppress(OSError):
            self.sock.close()
        return ended

    def abandon(self) -> None:
        """Give up on a server whose loop does not answer: free its port, keep its hands
        off the next server, and let it end on its own if it ever wakes up."""
        log.error("abandoning a proxy server thread that does not respond")
        self.abandoned = True
        self.server.should_exit = True
        self.server.force_exit = True
        self._release_port()

    def _release_port(self) -> None:
        # uvloop serves on our socket's file descriptor itself and holds a reference, so
        # close() would not release it. Put a fresh unbound socket on that descriptor
        # number instead: this server's hold on the listening socket ends at once (the
        # supervisor's listener keeps the port), and when the stuck loop wakes up and
        # closes "its" descriptor it closes the stand-in, never one the next server uses.
        fd = self.sock.fileno()
        if os.name == "nt" or fd < 0:  # no uvloop there; asyncio's own close() frees it
            with contextlib.suppress(OSError):
                self.sock.close()
            return
        stand_in = socket.socket(self.sock.family, socket.SOCK_STREAM)
        try:
            os.dup2(stand_in.fileno(), fd)
        except OSError:
            log.exception("could not free the port of an abandoned proxy server")
        finally:
            stand_in.close()


def rehearse(config: str, master_key_env: str, master_key: str, timeout: float = 30.0) -> None:
    """One start and stop on a throwaway loopback port with the given config.

    LiteLLM imports and builds much of itself lazily during the first proxy start (about
    a second); doing that during warm-up makes the user's Start quick. Failures do not
    matter here: the real start reports them.
    """
    from bridge_app.proxy._readiness import wait_ready

    previous = {name: os.environ.get(name) for name in (master_key_env, "CONFIG_FILE_PATH")}
    os.environ[master_key_env] = master_key
    os.environ["CONFIG_FILE_PATH"] = config
    reset_proxy_globals()
    server = ServerThread(host="127.0.0.1", port=0)
    log.info("warm-up: one throwaway start on 127.0.0.1:%d so that Start is quick", server.port)
    try:
        server.start()
        deadline = time.perf_counter() + timeout
        while not server.started and server.alive() and time.perf_counter() < deadline:
            time.sleep(0.01)
        if server.started:
            wait_ready(f"http://127.0.0.1:{server.port}", deadline=deadline)
    except Exception as exc:
        log.debug("warm-up rehearsal failed: %r", exc)
    finally:
        server.stop(graceful=2.0, forced=1.0)
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
