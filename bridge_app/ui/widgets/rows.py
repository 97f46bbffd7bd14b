"""Rows of a list that show their text in full (kv/widgets.kv lays them out)."""

from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivymd.uix.boxlayout import MDBoxLayout

#: A row is a touch target: never lower than this.
MIN_ROW_HEIGHT = 56
_BLANK = {"headline": "", "supporting": "", "tertiary": "", "error": False, "action": None}


class TextRow(RecycleDataViewBehavior, ButtonBehavior, MDBoxLayout):
    """One row of a list: every line wraps to the row's width and the row is as tall as
    its lines, so nothing a person must read is cut with "…". Long lists hold these in a
    ``TextList`` (a RecycleView) whose data sets the properties below."""

    headline = StringProperty("")
    supporting = StringProperty("")
    tertiary = StringProperty("")
    error = BooleanProperty(False)
    action = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(minimum_height=self._fit)

    def refresh_view_attrs(self, rv: Any, index: int, data: dict[str, Any]) -> None:
        """A recycled row measures its new lines at once: the RecycleView reads the row's
        height right after this, and a height left over from the previous data would make
        it move rows back and forth."""
        # Views are shared between every RecycleView of the app: a key a list leaves out
        # must not keep the text of the row this view showed last.
        super().refresh_view_attrs(rv, index, {**_BLANK, **data})
        for label in self.children:
            label.texture_update()
        self.do_layout()
        self._fit()

    def _fit(self, *_args: Any) -> None:
        wanted = max(float(self.minimum_height), dp(MIN_ROW_HEIGHT))
        if getattr(self, "height", None) != wanted:
            self.height = wanted

    def on_release(self) -> None:
        if self.action is not None:
            self.action()
