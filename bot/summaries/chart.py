"""The weekly chart: monthly recurring revenue (a line) and orders confirmed (bars) over the last
weeks, as a PNG drawn with Pillow.

Pillow draws it in a few milliseconds; matplotlib took about a third of a second of CPU per chart,
which is half an hour for the 5,500 partners of a big distributor's Monday morning."""

from __future__ import annotations

import functools
import io
import math
from decimal import Decimal

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 800, 360
LEFT, RIGHT, TOP, BOTTOM = 90, 70, 44, 52  # margins around the plot area
BACKGROUND, INK, GRID = "#ffffff", "#333333", "#e6e6e6"
LINE, BARS = "#1d3557", "#a8dadc"
TICKS = 4  # grid lines above zero


@functools.cache
def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's built-in font at a size (scalable where FreeType is there)."""
    return ImageFont.load_default(size)


def nice_top(value: Decimal | int) -> Decimal:
    """A round axis maximum at or above value: 1, 2, 2.5 or 5 times a power of ten."""
    value = Decimal(value)
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def weekly_chart(history: list[tuple[str, Decimal, int]], *, title: str) -> bytes:
    """Draws revenue (line, left axis) and orders confirmed (bars, right axis) per week."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height
    revenue_top = nice_top(max((value for _, value, _ in history), default=Decimal(1)))
    # Whole orders on every grid line: the top is a multiple of the number of lines.
    most = max([*(count for _, _, count in history), 1]) * Decimal("1.3")
    orders_top = Decimal(TICKS * math.ceil(most / TICKS))

    def revenue_y(value: Decimal) -> float:
        # Only the drawing is in floats; every figure in the text stays Decimal.
        return bottom - float(value / revenue_top) * plot_height

    draw.text((WIDTH / 2, 8), title, fill=INK, font=font(16), anchor="ma")
    for tick in range(TICKS + 1):
        y = bottom - plot_height * tick / TICKS
        draw.line([(LEFT, y), (LEFT + plot_width, y)], fill=GRID)
        money = revenue_top * tick / TICKS
        draw.text((LEFT - 8, y), f"${money:,.0f}", fill=INK, font=font(12), anchor="rm")
        orders = orders_top * tick / TICKS
        draw.text(
            (LEFT + plot_width + 8, y), f"{orders:,.0f}", fill=INK, font=font(12), anchor="lm"
        )

    slot = plot_width / max(len(history), 1)
    points = []
    for index, (label, value, count) in enumerate(history):
        middle = LEFT + slot * (index + 0.5)
        height = float(Decimal(count) / orders_top) * plot_height
        if count:
            draw.rectangle([(middle - slot * 0.3, bottom - height), (middle + slot * 0.3, bottom)],
                           fill=BARS)  # fmt: skip
        draw.text((middle, bottom + 8), label, fill=INK, font=font(12), anchor="ma")
        points.append((middle, revenue_y(value)))
    if len(points) > 1:
        draw.line(points, fill=LINE, width=3, joint="curve")
    for x, y in points:
        draw.ellipse([(x - 4, y - 4), (x + 4, y + 4)], fill=LINE)

    legend_y = HEIGHT - 18
    draw.line([(LEFT, legend_y), (LEFT + 24, legend_y)], fill=LINE, width=3)
    draw.text((LEFT + 30, legend_y), "monthly recurring revenue", fill=INK, font=font(12),
              anchor="lm")  # fmt: skip
    draw.rectangle([(LEFT + 240, legend_y - 6), (LEFT + 264, legend_y + 6)], fill=BARS)
    draw.text((LEFT + 270, legend_y), "orders confirmed (right axis)", fill=INK, font=font(12),
              anchor="lm")  # fmt: skip
    draw.rectangle([(LEFT, TOP), (LEFT + plot_width, bottom)], outline=INK)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=3)
    return buffer.getvalue()
