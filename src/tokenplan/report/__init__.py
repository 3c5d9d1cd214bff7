"""Plots and reports. Matplotlib (the ``plot`` extra) is imported only inside the plotting functions."""

from __future__ import annotations

from tokenplan.report.fit_plots import plot_fit
from tokenplan.report.repeat_plot import plot_repeat

__all__ = ["plot_fit", "plot_repeat"]
