"""Charts drawn on the server as SVG: bars with their values written on them and patterns
as well as colours, so they read without colour; each has a title and a table beside it.

Only presentation attributes (no ``style``), so the pages' CSP needs no inline style.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


def pounds(pence: int) -> str:
    """£1,234 (whole pounds) or £1,234.56."""
    sign = "-" if pence < 0 else ""
    pence = abs(pence)
    if pence % 100 == 0:
        return f"{sign}£{pence // 100:,}"
    return f"{sign}£{pence // 100:,}.{pence % 100:02d}"


@dataclass
class Bar:
    label: str
    value: int  # pence
    kind: str  # "awarded", "spent", "forecast"


# Fill and pattern per kind: solid dark, hatched, outlined: told apart without colour.
FILLS = {"spent": "#1d70b8", "forecast": "url(#hatch)", "awarded": "#ffffff"}
WORDS = {"spent": "Spent", "forecast": "Forecast", "awarded": "Awarded"}


def _defs() -> str:
    return (
        '<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#0b0c0c" stroke-width="3"/></pattern></defs>'
    )


def _lines(text: str, most: int) -> list[str]:
    """Words in lines of at most ``most`` characters (a longer word has a line of its own)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= most:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def grouped_bars(title: str, groups: list[tuple[str, list[Bar]]], chart_id: str) -> Markup:
    """Horizontal bars, one group per fund (or quarter), each bar under its words and amount
    ("Spent: £12,345"). Narrow (400 wide) so that, scaled to a 360 px phone, the words stay
    readable and nothing is cut: no label sits beside a bar."""
    top = max([bar.value for _label, bars in groups for bar in bars] + [1])
    width, bar_h, gap = 400, 14, 14
    plot = width - 4
    rows = []
    y = 4
    for label, bars in groups:
        for line in _lines(label, 38):  # a long fund name on two lines, never cut
            rows.append(
                f'<text x="0" y="{y + 15}" font-size="16" font-weight="bold" fill="#0b0c0c">'
                f"{escape(line)}</text>"
            )
            y += 22
        y += 2
        for bar in bars:
            length = max(round(plot * max(bar.value, 0) / top), 1)
            rows.append(
                f'<text x="0" y="{y + 14}" font-size="15" fill="#0b0c0c">'
                f"{WORDS[bar.kind]}: {pounds(bar.value)}</text>"
                f'<rect x="2" y="{y + 20}" width="{length}" height="{bar_h}" '
                f'fill="{FILLS[bar.kind]}" stroke="#0b0c0c" stroke-width="2"/>'
            )
            y += 20 + bar_h + 8
        y += gap
    height = y
    return Markup(  # noqa: S704 - every label in it is escaped, the rest are numbers
        f'<svg class="app-chart" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="{chart_id}-title">{escape(title)}</title>'
        f"{_defs()}{''.join(rows)}</svg>"
    )
