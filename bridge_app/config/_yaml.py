"""Reading config YAML defensively: size, encoding, tabs, syntax, alias bombs and nesting
depth each become a Problem with a line number instead of an exception or a hang."""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from bridge_app.config._problems import Problem

MAX_BYTES = 1024 * 1024
MAX_EXPANDED_NODES = 200_000  # a real config has a few hundred; a "billion laughs" has 10**9
MAX_DEPTH = 40


@dataclass
class LoadedYaml:
    """The round-trip document (CommentedMap etc., with line/column info) or None, plus
    what stopped it from loading."""

    data: Any = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def loaded(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long value on save
    yaml.allow_duplicate_keys = False
    yaml.brace_single_entry_mapping_in_flow_sequence = True  # keep [{a: b}] as written
    return yaml


_KEY_ONLY_RE = re.compile(r"^( *)[^\s#-][^#]*:\s*(#.*)?$")


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation the file already uses, so a form edit
    re-emits it in the same style; LiteLLM's documented style when nothing tells."""
    mapping: int | None = None
    offset: int | None = None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for line, following in itertools.pairwise(lines):
        match = _KEY_ONLY_RE.match(line)
        if not match:
            continue
        parent = len(match.group(1))
        child = len(following) - len(following.lstrip(" "))
        if child < parent:
            continue
        if following.lstrip(" ").startswith("- "):
            offset = child - parent if offset is None else offset
        elif child > parent:
            mapping = child - parent if mapping is None else mapping
        if mapping is not None and offset is not None:
            break
    mapping = mapping or 2
    offset = 2 if offset is None else offset
    return mapping, max(offset + 2, mapping), offset


def decode_config_bytes(raw: bytes) -> tuple[str | None, list[Problem]]:
    """UTF-8 text of a config file, or the reason it cannot be one."""
    if len(raw) > MAX_BYTES:
        return None, [_too_big(len(raw))]
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [
            Problem(
                "error",
                "encoding",
                f"The file is not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset "
                f"{exc.start} cannot be decoded.",
                line=line,
                column=column,
                hint="Save the file as UTF-8 (most editors offer this under 'Save as' or "
                "'Encoding').",
            )
        ]
    return text, []


def load_text(text: str) -> LoadedYaml:
    result = LoadedYaml()
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_BYTES:
        result.problems.append(_too_big(size))
        return result
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        result.problems.append(
            Problem("error", "binary", "The file contains a NUL byte: it is not text.", line=line)
        )
        return result
    result.problems.extend(_tab_indents(text))
    if result.problems:
        return result
    yaml = round_trip_yaml()
    yaml.Constructor = _GuardedConstructor
    try:
        if _nesting_bound(text) > _SAFE_NESTING:
            deep = _too_deep_events(yaml, text)
            if deep is not None:
                result.problems.append(deep)
                return result
        tags = _tag_problems(yaml, text)
        if tags:
            result.problems.extend(tags)
            return result
        result.data = yaml.load(io.StringIO(text))
    except _GraphError as exc:
        result.problems.append(exc.problem)
    except RecursionError:
        result.problems.append(_too_deep(0))
    except MarkedYAMLError as exc:
        result.problems.append(_syntax_problem(exc))
    except YAMLError as exc:
        result.problems.append(Problem("error", "syntax", f"The YAML cannot be read: {exc}."))
    return result


def _too_big(size: int) -> Problem:
    return Problem(
        "error",
        "too-large",
        f"The file is {size:,} bytes; a config may be at most {MAX_BYTES:,} bytes.",
        hint="A LiteLLM config is normally a few kilobytes: is this the right file?",
    )


def _too_deep(line: int) -> Problem:
    return Problem(
        "error",
        "too-deep",
        f"The YAML is nested more than {MAX_DEPTH} levels deep.",
        line=line,
        hint="A LiteLLM config needs a handful of levels; flatten the structure.",
    )


# The composer recurses a few frames per level; below this the stack is never at risk and
# the (memoised) graph check measures the real depth.
_SAFE_NESTING = 120


def _nesting_bound(text: str) -> int:
    """A cheap upper bound of the nesting depth, so the extra event pass that guards the
    recursive composer only runs for suspicious input."""
    indent = dashes = flow = deepest_flow = 0
    for line in text.splitlines():
        body = line.lstrip(" ")
        indent = max(indent, len(line) - len(body))
        dashes = max(dashes, body.count("-"))
    for char in text:
        if char in "[{":
            flow += 1
            deepest_flow = max(deepest_flow, flow)
        elif char in "]}":
            flow = max(flow - 1, 0)
    return 2 * indent + dashes + deepest_flow + 2


class _GuardedConstructor(RoundTripConstructor):
    """Measures the composed graph (aliases expanded) before building any object."""

    def construct_document(self, node: Any) -> Any:
        problems = _check_graph(node)
        if problems:
            raise _GraphError(problems[0])
        return super().construct_document(node)


def _too_deep_events(yaml: YAML, text: str) -> Problem | None:
    """Nesting depth from the parser's event stream (iterative), before the recursive
    composer could exhaust the stack on ``[[[[...`` input."""
    depth = 0
    for event in yaml.parse(io.StringIO(text)):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                return _too_deep(mark.line + 1 if mark is not None else 0)
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return None


_CORE_TAG_PREFIX = "tag:yaml.org,2002:"


def _tag_problems(yaml: YAML, text: str) -> list[Problem]:
    """Every explicit tag (``!!python/object/apply:...``, ``!Foo``, even ``!!str``): a tag
    asks the loader to build an object of its choosing, which is how YAML runs code; a
    LiteLLM config never needs one. Read from the parser's events, before anything is
    constructed."""
    problems: list[Problem] = []
    for event in yaml.parse(io.StringIO(text)):
        tag = getattr(event, "tag", None)
        if tag is None:
            continue
        shown = str(getattr(tag, "value", tag))
        if shown.startswith(_CORE_TAG_PREFIX):
            shown = "!!" + shown[len(_CORE_TAG_PREFIX) :]
        mark = event.start_mark
        problems.append(
            Problem(
                "error",
                "yaml-tag",
                f"The YAML tag {shown} is not allowed: a tag tells the YAML loader which "
                "object to build, which can run code.",
                line=mark.line + 1 if mark is not None else 0,
                column=mark.column + 1 if mark is not None else 0,
                hint="Remove the tag and write the plain value.",
            )
        )
    return problems


def _tab_indents(text: str) -> list[Problem]:
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            problems.append(
                Problem(
                    "error",
                    "tab",
                    "A tab is used for indentation; YAML allows only spaces there.",
                    line=number,
                    column=indent.index("\t") + 1,
                    hint="Replace the tab with spaces (2 per level is usual).",
                )
            )
    return problems


_SYNTAX_HINTS = {
    "mapping values are not allowed here": "a value containing ': ' needs quotes, or a key "
    "is indented wrongly",
    "found character '\\t' that cannot start any token": "use spaces instead of the tab",
    "found duplicate key": "each key may appear once in the same mapping",
    "could not find expected ':'": "a key is missing its ':' or a quote is not closed",
    "found undefined alias": "an *alias refers to an &anchor that is not defined above it",
}


def _syntax_problem(exc: MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = str(exc.problem or exc.context or "invalid YAML").strip()
    hint = next((h for key, h in _SYNTAX_HINTS.items() if key in problem), None)
    code = "duplicate-key" if "duplicate key" in problem else "syntax"
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.problem:
        context = str(exc.context).strip()
        start = exc.context_mark
        if start is not None and mark is not None and start.line != mark.line:
            context += f" that starts on line {start.line + 1}"
        message += f" ({context})"
    if hint is None and "flow" in str(exc.context or ""):
        hint = "a [ or { is not closed, or a comma is missing between items"
    return Problem(
        "error",
        code,
        message + ".",
        line=(mark.line + 1) if mark is not None else 0,
        column=(mark.column + 1) if mark is not None else 0,
        hint=hint,
    )


def _check_graph(root: Node) -> list[Problem]:
    """Size and depth of the document as a consumer would see it, aliases expanded.

    Memoised per node, so a bomb is measured in time linear in the file, not its expansion.
    """
    sizes: dict[int, tuple[int, int]] = {}
    active: set[int] = set()
    problems: list[Problem] = []

    def measure(node: Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key]
        line = node.start_mark.line + 1 if node.start_mark else 0
        if key in active:
            raise _GraphError(
                Problem(
                    "error",
                    "recursive-alias",
                    "An alias refers to the collection that contains it (a loop).",
                    line=line,
                )
            )
        if depth > MAX_DEPTH:
            raise _GraphError(_too_deep(line))
        active.add(key)
        count, deepest = 1, 0
        children: list[Node] = []
        if isinstance(node, MappingNode):
            for k, v in node.value:
                children.extend((k, v))
        elif isinstance(node, SequenceNode):
            children.extend(node.value)
        for child in children:
            child_count, child_depth = measure(child, depth + 1)
            count += child_count
            deepest = max(deepest, child_depth + 1)
            if count > MAX_EXPANDED_NODES:
                raise _GraphError(
                    Problem(
                        "error",
                        "alias-bomb",
                        f"Aliases make this document expand to more than "
                        f"{MAX_EXPANDED_NODES:,} values.",
                        line=line,
                        hint="Remove the repeated *alias references; a config never needs "
                        "this many values.",
                    )
                )
        active.discard(key)
        sizes[key] = (count, deepest)
        return sizes[key]

    try:
        measure(root, 0)
    except _GraphError as exc:
        problems.append(exc.problem)
    return problems


class _GraphError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem
