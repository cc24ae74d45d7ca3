"""The weekly chart: monthly recurring revenue and orders confirmed over the last weeks, as a
PNG drawn with matplotlib (no display needed)."""

from __future__ import annotations

import io
from decimal import Decimal


def weekly_chart(history: list[tuple[str, Decimal, int]], *, title: str) -> bytes:
    """Draws revenue (line, left axis) and orders confirmed (bars, right axis) per week."""
    # Imported here: matplotlib costs ~40 MB, and only a process that draws should pay it.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [label for label, _, _ in history]
    # Only the drawing is in floats; every figure in the text stays Decimal.
    heights = [float(value) for _, value, _ in history]
    confirmed = [count for _, _, count in history]
    figure = Figure(figsize=(8, 3.6), dpi=100)  # drawn in memory (Agg); no screen on a server
    revenue_axis = figure.add_subplot()
    orders_axis = revenue_axis.twinx()
    positions = list(range(len(labels)))
    orders_axis.bar(positions, confirmed, color="#a8dadc", label="orders confirmed", zorder=1)
    revenue_axis.set_xticks(positions, labels)
    revenue_axis.plot(
        positions,
        heights,
        color="#1d3557",
        marker="o",
        linewidth=2,
        label="monthly recurring revenue",
        zorder=2,
    )
    revenue_axis.set_zorder(orders_axis.get_zorder() + 1)
    revenue_axis.patch.set_visible(False)
    revenue_axis.set_ylabel("monthly recurring revenue ($)")
    orders_axis.set_ylabel("orders confirmed")
    orders_axis.set_ylim(0, max([*confirmed, 1]) * 1.3)
    orders_axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    revenue_axis.yaxis.set_major_formatter(lambda value, _pos: f"${value:,.0f}")
    revenue_axis.set_title(title)
    handles = revenue_axis.get_legend_handles_labels()[0]
    handles += orders_axis.get_legend_handles_labels()[0]
    revenue_axis.legend(handles=handles, loc="upper left", fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
