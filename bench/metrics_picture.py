"""Draws the server's key metrics over a benchmark run, from what Prometheus recorded.

    python3 bench/metrics_picture.py DIR OUT.svg DATE

DIR holds Prometheus's answers to range queries (see bench/metrics-picture.sh), one JSON file per
panel. The picture is plain SVG written here (no plotting library to install): six panels sharing
the time axis, each a line with its scale. Only the standard library is used.
"""

import json
import sys
from pathlib import Path

PANELS = [
    ("connections", "open connections", lambda v: f"{v:,.0f}"),
    ("deliveries", "deliveries per second", lambda v: f"{v / 1000:,.0f} k"),
    ("bytes", "bytes out per second", lambda v: f"{v / 1e6:,.1f} MB"),
    ("stored", "messages stored per second", lambda v: f"{v:,.0f}"),
    ("commit_p99", "commit time, p99", lambda v: f"{v * 1000:,.1f} ms"),
    ("batch", "messages per commit (mean)", lambda v: f"{v:,.1f}"),
]
WIDTH, PANEL_H, LEFT, TOP, GAP = 760, 110, 90, 40, 28


def series(path):
    """The (time, value) points of a range query's first series (NaN and missing dropped)."""
    answer = json.loads(Path(path).read_text())
    result = answer.get("data", {}).get("result", [])
    if not result:
        return []
    points = []
    for t, v in result[0]["values"]:
        try:
            value = float(v)
        except ValueError:
            continue
        if value == value and value not in (float("inf"), float("-inf")):
            points.append((float(t), value))
    return points


def main(directory, out, date):
    data = {name: series(Path(directory) / f"{name}.json") for name, _, _ in PANELS}
    times = [t for points in data.values() for t, _ in points]
    if not times:
        sys.exit("Prometheus recorded nothing: is the server's --metrics-addr scraped?")
    t0, t1 = min(times), max(times)
    span = max(t1 - t0, 1.0)
    plot_w = WIDTH - LEFT - 20
    height = TOP + len(PANELS) * (PANEL_H + GAP) + 20
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">'
        f"The server under scenarios (a) then (e), as Prometheus recorded it ({date})</text>",
    ]
    for index, (name, title, label) in enumerate(PANELS):
        top = TOP + index * (PANEL_H + GAP)
        points = data[name]
        high = max((v for _, v in points), default=0.0) or 1.0
        svg.append(f'<text x="{LEFT}" y="{top + 10}" font-weight="bold">{title}</text>')
        base = top + PANEL_H
        svg.append(
            f'<rect x="{LEFT}" y="{top + 16}" width="{plot_w}" height="{PANEL_H - 16}" '
            'fill="none" stroke="#ccc"/>'
        )
        svg.append(f'<text x="{LEFT - 6}" y="{top + 26}" text-anchor="end">{label(high)}</text>')
        svg.append(f'<text x="{LEFT - 6}" y="{base}" text-anchor="end">0</text>')
        path = " ".join(
            f"{LEFT + (t - t0) / span * plot_w:.1f},{base - v / high * (PANEL_H - 20):.1f}" for t, v in points
        )
        if path:
            svg.append(f'<polyline points="{path}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>')
    bottom = TOP + len(PANELS) * (PANEL_H + GAP) - GAP + 14
    for second in range(0, int(span) + 1, 5):
        x = LEFT + second / span * plot_w
        svg.append(f'<text x="{x:.1f}" y="{bottom}" text-anchor="middle" fill="#555">{second} s</text>')
    svg.append("</svg>")
    Path(out).write_text("\n".join(svg) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
