"""Small widgets shared by screens (drawn with Kivy graphics, no extra dependencies)."""

from bridge_app.ui.widgets.busy import BusyIndicator
from bridge_app.ui.widgets.chart import SparkChart

__all__ = ["BusyIndicator", "SparkChart"]
