"""Masking for the diagnostics archive: every text in it goes through ``Scrubber``."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bridge_app.runtime import BridgeError, Redactor

# `os.environ/NAME` references are the safe way a config names a secret: keep them readable
# while the credential patterns run (which would otherwise mask `api_key: os.environ/X`).
_REF = re.compile(r"\bos\.environ/[A-Za-z_][A-Za-z0-9_]*")
_MIN_LEN = 4


class LeakError(BridgeError):
    pass


class Scrubber:
    """The app's redactor (every secret this process learned, plus credential shapes)
    and the secrets the diagnostics service collected from the stores for this export."""

    def __init__(self, redactor: Redactor, secrets: Iterable[str]) -> None:
        self._redactor = redactor
        self._secrets = sorted({s for s in secrets if s and len(s) >= _MIN_LEN}, key=len)
        redactor.register(*self._secrets)

    def scrub(self, text: str) -> str:
        refs: list[str] = []

        def keep(match: re.Match[str]) -> str:
            refs.append(match.group(0))
            # '&' is outside every credential pattern's value characters.
            return f"&{len(refs) - 1}&"

        protected = _REF.sub(keep, text) if len(_REF.findall(text)) < 1000 else text
        masked = self._redactor.redact(protected)
        for secret in reversed(self._secrets):  # longest first
            masked = masked.replace(secret, "****")
        for index, ref in enumerate(refs):
            masked = masked.replace(f"&{index}&", ref, 1)
        return masked

    def assert_clean(self, name: str, data: bytes) -> None:
        """Refuse to write a file that still holds a known secret (belt and braces)."""
        text = data.decode("utf-8", errors="replace")
        for secret in self._secrets:
            if secret in text:
                raise LeakError(
                    f"The diagnostics file {name} would contain a secret; nothing was written.",
                    hint="Please report this problem to the LiteLLM Bridge maintainers.",
                )
