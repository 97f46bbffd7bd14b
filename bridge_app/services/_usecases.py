"""The catalogue of use-cases: what the application core offers to every front end.

``@use_case`` marks a method of the core. It checks the role before the body runs (the
same refusal whichever front end called, audited in a transaction of its own), opens the
one database transaction that the change and its audit event share, and moves the counters of
the topics the use-case touches in that same transaction, so every other running instance
sees the change exactly when it commits. Tests enumerate ``USE_CASES`` to prove that each
one is reachable from the CLI and from the GUI.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

from bridge_app.store import Topic

P = ParamSpec("P")
R = TypeVar("R")

Role = Literal["anyone", "user", "admin"]


@dataclass(frozen=True)
class UseCase:
    name: str  # the method of AppCore
    role: Role  # "user": any logged-in person; "admin": admins only
    topics: tuple[Topic, ...]  # change-feed topics it moves
    transactional: bool  # the change and its audit event commit as one


USE_CASES: dict[str, UseCase] = {}


def use_case(
    *, role: Role, topics: tuple[Topic, ...] = (), transactional: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def mark(method: Callable[P, R]) -> Callable[P, R]:
        spec = UseCase(method.__name__, role, topics, transactional)
        USE_CASES[spec.name] = spec

        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            core: Any = args[0]
            if role != "anyone":
                session = args[1] if len(args) > 1 else kwargs.get("session")
                core.authorize(session, spec)
            if not transactional:
                return method(*args, **kwargs)
            db = core.db
            with db.transaction():
                result = method(*args, **kwargs)
                if topics:
                    db.changed(*topics)
            return result

        wrapper.__bridge_use_case__ = spec  # type: ignore[attr-defined]
        return wrapper

    return mark
