"""Usernames: what people type is kept for display, a normalised form is the identity."""

from __future__ import annotations

import unicodedata

from bridge_app.auth._errors import UsernameError

MAX_USERNAME_LENGTH = 64
# Control, format (zero-width, bidi overrides), surrogate, private-use and unassigned code
# points, plus line/paragraph separators: all invisible or ambiguous in a list of names.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def normalize_username(name: str) -> str:
    """NFKC then casefold (then NFKC again, as casefolding can denormalise): "Alice",
    "ALICE" and full-width "ａｌｉｃｅ" all become "alice"."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def validate_username(raw: str) -> tuple[str, str]:
    """Return (normalised identity, display form) or raise UsernameError in plain words."""
    if not isinstance(raw, str):
        raise UsernameError("A username must be text.")
    display = raw.strip()
    if not display:
        raise UsernameError("The username is empty.")
    for ch in display:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise UsernameError(
                f"The username contains an invisible or control character (U+{ord(ch):04X})."
            )
    normalized = normalize_username(display)
    if len(display) > MAX_USERNAME_LENGTH or len(normalized) > MAX_USERNAME_LENGTH:
        raise UsernameError(
            f"The username is too long ({len(display)} characters; at most {MAX_USERNAME_LENGTH})."
        )
    if any(ch.isspace() for ch in normalized):
        raise UsernameError("The username must not contain spaces.")
    return normalized, display


def validate_display_name(raw: str | None, fallback: str) -> str:
    """The name shown in the app: free text (spaces allowed), same limits otherwise."""
    display = (raw or "").strip()
    if not display:
        return fallback
    for ch in display:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise UsernameError(
                f"The display name contains an invisible or control character (U+{ord(ch):04X})."
            )
    if len(display) > MAX_USERNAME_LENGTH:
        raise UsernameError(
            f"The display name is too long ({len(display)} characters; at most "
            f"{MAX_USERNAME_LENGTH})."
        )
    return display
