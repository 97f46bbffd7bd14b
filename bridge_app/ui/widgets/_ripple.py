"""KivyMD's touch ripple, made when it is first needed rather than for every widget.

KivyMD 2.0's ``M3CommonRipple.__init__`` calls ``init_fbos`` for every button, card, list
item and checkbox: an off-screen framebuffer plus a shader compiled for it. On software
OpenGL (Mesa llvmpipe) that is ~1.2 ms per widget, 88 of them (102 ms) between launch and
the built main screen, and the wizard alone is ~40 % of its build time (measured:
benchmarks/RESULTS.md, "Window launch"). The framebuffer is only drawn by a ripple, which
only a touch starts, and KivyMD's own code already allows it to be missing
(``_update_uniforms`` returns early while ``self.fbo is None``). So the widget starts
without it and the first ``lay_canvas_instructions`` (the first touch) makes it.

``install`` changes the class only for the KivyMD release it was read against
(``KIVYMD_VERSION``, from its installed metadata: the bundle has no KivyMD sources to
read); otherwise it leaves KivyMD as it is and logs why. The GUI test
``test_a_tap_on_a_navigation_button_ripples_and_opens_its_page`` (tests/gui/test_app.py)
pins the code itself (``PINNED_SHA256`` of the four methods) and shows a tap still ripples.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

log = logging.getLogger(__name__)

KIVYMD_VERSION = "2.0.0"
#: sha256 of the source of M3CommonRipple.__init__, init_fbos, lay_canvas_instructions and
#: _update_uniforms in KivyMD 2.0.0 (constraints.txt).
PINNED_SHA256 = "35f8508c11bab5ad4cef9f878a781e6c47b52ef83856ab26076f9eb5b9fc3596"
_METHODS = ("__init__", "init_fbos", "lay_canvas_instructions", "_update_uniforms")


_originals: dict[str, Any] = {}  # KivyMD's own methods, once install replaced two of them


def ripple_source_hash() -> str:
    """The hash of KivyMD's ripple code (its own, also after ``install``); needs KivyMD's
    sources, so only the tests call it."""
    from kivymd.uix.behaviors.ripple_behavior import M3CommonRipple

    methods = [_originals.get(m) or getattr(M3CommonRipple, m) for m in _METHODS]
    source = "".join(inspect.getsource(method) for method in methods)
    return hashlib.sha256(source.encode()).hexdigest()


def install() -> bool:
    """True when the ripple's framebuffer is now made on first use."""
    from kivymd.uix.behaviors.ripple_behavior import M3CommonRipple

    if getattr(M3CommonRipple, "_bridge_lazy", False):
        return True
    try:
        found = version("kivymd")
    except PackageNotFoundError:
        found = "unknown"
    if found != KIVYMD_VERSION:
        log.warning(
            "KivyMD %s is not the release this app's ripple change was checked against "
            "(%s): every button keeps its own framebuffer (slower on software OpenGL)",
            found,
            KIVYMD_VERSION,
        )
        return False
    make_fbo = M3CommonRipple.init_fbos
    lay = M3CommonRipple.lay_canvas_instructions
    _originals.update(init_fbos=make_fbo, lay_canvas_instructions=lay)

    def init_fbos(self: Any) -> None:
        # What KivyMD's init_fbos sets besides the framebuffer and its rectangle.
        self._phase = 0.0
        self.ripple_pos = (0, 0)
        self.fbo = None

    def lay_canvas_instructions(self: Any) -> None:
        if self.fbo is None and self.ripple_effect:
            position = self.ripple_pos
            make_fbo(self)
            self.ripple_pos = position  # init_fbos resets it; the touch set it just now
        lay(self)

    M3CommonRipple.init_fbos = init_fbos
    M3CommonRipple.lay_canvas_instructions = lay_canvas_instructions
    M3CommonRipple._bridge_lazy = True
    return True
