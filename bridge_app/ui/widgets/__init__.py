"""Small widgets shared by screens (drawn with Kivy graphics, no extra dependencies)."""

from bridge_app.ui.widgets.busy import BusyIndicator
from bridge_app.ui.widgets.chart import BarChart, SparkChart

__all__ = ["BarChart", "BusyIndicator", "SparkChart"]
