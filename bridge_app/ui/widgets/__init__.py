"""Small widgets shared by screens (drawn with Kivy graphics, no extra dependencies)."""

from bridge_app.ui.widgets._ripple import install as make_ripples_on_first_touch
from bridge_app.ui.widgets.busy import BusyIndicator
from bridge_app.ui.widgets.cards import CopyBlock, InfoChip, ToolCardView
from bridge_app.ui.widgets.chart import BarChart, SparkChart
from bridge_app.ui.widgets.editor import CodeEditor, LineNumbers
from bridge_app.ui.widgets.iam_form import IamForm, describe_test
from bridge_app.ui.widgets.plain_dialog import PlainDialog
from bridge_app.ui.widgets.rows import TextRow
from bridge_app.ui.widgets.status import StateChip, StatusBanner

__all__ = [
    "BarChart",
    "BusyIndicator",
    "CodeEditor",
    "CopyBlock",
    "IamForm",
    "InfoChip",
    "LineNumbers",
    "PlainDialog",
    "SparkChart",
    "StateChip",
    "StatusBanner",
    "TextRow",
    "ToolCardView",
    "describe_test",
    "make_ripples_on_first_touch",
]
