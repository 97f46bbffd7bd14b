"""What an entry that decides the route may hold: checked when the entry is set, so a typo
is refused there, not met as a failed request later."""

from __future__ import annotations

from urllib.parse import urlsplit

#: PROXY_AUTH values; "basic" (the default) sends the credentials of the proxy URL.
PROXY_AUTH_VALUES = ("basic", "negotiate", "ntlm", "kerberos")


def setting_problem(name: str, value: str) -> str | None:
    """What is wrong with ``value`` for the route entry ``name`` (checked when the entry is
    set, so a typo is refused there, not met as a failed request later), or None."""
    value = value.strip()
    allowed: tuple[str, ...]
    if name == "PROXY_AUTH":
        if value.lower() in PROXY_AUTH_VALUES:
            return None
        return f"{value!r} is not one of {', '.join(PROXY_AUTH_VALUES)}"
    if name in ("HTTPS_PROXY", "HTTP_PROXY"):
        url = value if "://" in value else f"http://{value}"
        allowed, what = ("http", "https"), "an http:// proxy address, e.g. http://proxy.corp:8080"
    elif name == "PROXY_PAC_URL":
        if value.lower() == "wpad":
            return None
        url, allowed = value, ("http", "https", "file")
        what = "an http(s):// or file:// URL, or wpad (found by DNS)"
    else:
        return None
    # Said back without what stands before '@' (a user and password).
    scheme_part, _sep, rest = value.rpartition("://") if "://" in value else ("", "", value)
    shown = repr(
        (f"{scheme_part}://" if scheme_part else "")
        + ("****@" + rest.rsplit("@", 1)[1] if "@" in rest else rest)
    )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return f"{shown} is not {what} (its port or address cannot be read)"
    scheme = parts.scheme.lower()
    if scheme.startswith("socks"):
        return f"{shown} is a SOCKS proxy, which the bridge cannot use: give {what}"
    if scheme not in allowed or (scheme != "file" and not parts.hostname):
        return f"{shown} is not {what}"
    return None
