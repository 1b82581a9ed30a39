"""The page's "Stance over time" and "Outlets by group" sections (inline SVG, no scripts).

Where the data cannot show a trend or a comparison, the section says so in one
plain line instead of drawing an empty chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from pipeline.report.groups import Groups
from pipeline.report.timeline import CORPUS_ROW, Timeline

_BAND = "#9ecae1"
_LINE = "#1f4e79"


@dataclass(frozen=True)
class Trends:
    """What the two sections draw: the timeline, the groups and the dates to mark."""

    timeline: Timeline
    groups: Groups
    events: tuple[str, ...] = ()


def timeline_section(timeline: Timeline, events: tuple[str, ...], confidence: float) -> str:
    """The corpus line with its band, then one small chart per source with a trend to show."""
    corpus = [row for row in timeline.rows if row["source"] == CORPUS_ROW]
    dated = timeline.n_articles - timeline.undated_articles
    parts = [
        '<h2 id="timeline">Stance over time</h2>',
        f'<p class="muted">Index per {timeline.period}; band: {confidence:.0%} interval '
        "resampling the period's articles, then paragraphs within them. Hollow points: "
        f"fewer than {timeline.min_period_paragraphs} paragraphs (thin). "
        f'<span class="undated">{dated} of {timeline.n_articles} articles dated; '
        f"{timeline.undated_articles} without a date"
        f"{'' if timeline.period == 'year' else ' (or without its month)'} are left out."
        "</span></p>",
    ]
    if len(corpus) < 2:
        parts.append(
            f'<p class="no-trend">Too little dated data for a trend: {dated} dated '
            f"article(s) in {len(corpus)} {timeline.period}(s); a line needs two.</p>"
        )
        parts.append(_no_source_trend(timeline))
        return "\n".join(parts)
    domain = _domain(corpus)
    parts.append(
        _line_chart(corpus, domain, events, width=900, height=260, attributes='id="timeline-chart"')
    )
    parts.append(_source_multiples(timeline, domain, events))
    return "\n".join(parts)


def _source_multiples(
    timeline: Timeline, domain: tuple[date, date], events: tuple[str, ...]
) -> str:
    by_source: dict[str, list[dict]] = {}
    for row in timeline.rows:
        if row["source"] != CORPUS_ROW:
            by_source.setdefault(row["source"], []).append(row)
    drawn = {name: rows for name, rows in by_source.items() if len(rows) >= 2}
    if not drawn:
        return _no_source_trend(timeline)
    charts = [
        f"<figure><figcaption>{escape(name)}</figcaption>"
        + _line_chart(
            rows,
            domain,
            events,
            width=420,
            height=150,
            attributes=f'class="timeline-source" data-source="{escape(name)}"',
        )
        + "</figure>"
        for name, rows in drawn.items()
    ]
    left_out = sorted(set(by_source) - set(drawn))
    note = (
        f'<p class="muted">Dated articles in fewer than two {timeline.period}s, not drawn: '
        f"{escape(', '.join(left_out))}.</p>"
        if left_out
        else ""
    )
    return f'<div class="multiples">{"".join(charts)}</div>{note}'


def _no_source_trend(timeline: Timeline) -> str:
    """The plain line said when no source has a line of its own."""
    counts = timeline.articles_per_source
    if counts and all(n == 1 for n in counts.values()):
        return f'<p class="no-trend">{len(counts)} single-article sources cannot show a trend.</p>'
    return (
        f'<p class="no-trend">No source has dated articles in two or more '
        f"{timeline.period}s, so none has a line of its own.</p>"
    )


def _domain(rows: list[dict]) -> tuple[date, date]:
    return date.fromisoformat(rows[0]["start"]), date.fromisoformat(rows[-1]["end"])


def _line_chart(
    rows: list[dict],
    domain: tuple[date, date],
    events: tuple[str, ...],
    *,
    width: int,
    height: int,
    attributes: str,
) -> str:
    """Index per period as a line over its interval band, with event markers and labels."""
    left, right, top, bottom = 40, 10, 12, 26
    first, last = domain[0].toordinal(), domain[1].toordinal()

    def x(day: date) -> float:
        return left + (day.toordinal() - first) / max(last - first, 1) * (width - left - right)

    def y(value: float) -> float:
        return top + (1 - value) / 2 * (height - top - bottom)

    middles = [_middle(row) for row in rows]
    upper = [f"{x(d):.1f},{y(r['ci_high']):.1f}" for d, r in zip(middles, rows, strict=True)]
    lower = [f"{x(d):.1f},{y(r['ci_low']):.1f}" for d, r in zip(middles, rows, strict=True)]
    line = [f"{x(d):.1f},{y(r['stance_index']):.1f}" for d, r in zip(middles, rows, strict=True)]
    items = [
        f'<svg {attributes} xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-label="Stance index over time">',
        *_axes(x, y, domain, rows, height),
        f'<polygon class="band" points="{" ".join(upper + lower[::-1])}" fill="{_BAND}" '
        'fill-opacity="0.6"/>',
        f'<polyline class="trend" points="{" ".join(line)}" fill="none" stroke="{_LINE}" '
        'stroke-width="2"/>',
        *(_point(x(d), y(r["stance_index"]), r) for d, r in zip(middles, rows, strict=True)),
        *_event_marks(events, domain, x, top, height - bottom),
        "</svg>",
    ]
    return "\n".join(items)


def _axes(x, y, domain: tuple[date, date], rows: list[dict], height: int) -> list[str]:
    x0, x1 = x(domain[0]), x(domain[1])
    items = [
        f'<line x1="{x0:.1f}" y1="{y(0):.1f}" x2="{x1:.1f}" y2="{y(0):.1f}" stroke="#bbb"/>',
        *(
            f'<text x="{x0 - 4:.1f}" y="{y(t) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{t:+g}</text>"
            for t in (-1, 0, 1)
        ),
    ]
    stride = max(1, len(rows) // 8)  # at most about eight period labels
    for row in rows[::stride]:
        items.append(
            f'<text x="{x(_middle(row)):.1f}" y="{height - 8}" font-size="11" '
            f'text-anchor="middle">{escape(row["period"])}</text>'
        )
    return items


def _point(cx: float, cy: float, row: dict) -> str:
    fill = "#fff" if row["thin"] else _LINE
    return (
        f'<circle class="point{" thin" if row["thin"] else ""}" cx="{cx:.1f}" cy="{cy:.1f}" '
        f'r="4" fill="{fill}" stroke="{_LINE}" stroke-width="1.5"><title>'
        f"{escape(row['period'])}: {row['stance_index']:+.2f} [{row['ci_low']:+.2f}, "
        f"{row['ci_high']:+.2f}], {row['n_articles']} article(s), {row['n_paragraphs']} "
        "paragraphs</title></circle>"
    )


def _event_marks(events: tuple[str, ...], domain: tuple[date, date], x, top, bottom) -> list:
    items = []
    for event in events:
        day, _, label = event.partition(":")
        when = date.fromisoformat(day)
        if not domain[0] <= when <= domain[1]:
            continue
        items.append(
            f'<g class="event"><line x1="{x(when):.1f}" y1="{top}" x2="{x(when):.1f}" '
            f'y2="{bottom}" stroke="#c55a11" stroke-dasharray="4 3"/>'
            f'<text x="{x(when) + 3:.1f}" y="{top + 10}" font-size="10" fill="#c55a11">'
            f"{escape(label.strip())}</text><title>{escape(event)}</title></g>"
        )
    return items


def _middle(row: dict) -> date:
    start, end = date.fromisoformat(row["start"]), date.fromisoformat(row["end"])
    return date.fromordinal((start.toordinal() + end.toordinal()) // 2)


def groups_section(groups: Groups, confidence: float) -> str:
    """One dot-and-whisker chart and table per grouping column, or a line saying there is none."""
    parts = ['<h2 id="groups">Outlets by group</h2>']
    if not groups.rows:
        parts.append(
            '<p class="no-groups">No outlet has a country, outlet_type or group_* value in '
            "the manifest, so no groups are compared.</p>"
        )
        return "\n".join(parts)
    parts.append(
        "<p class=\"muted\">A group's index is the mean of its outlets' indices (each outlet "
        f"counts once); {confidence:.0%} intervals resample outlets within the group, then "
        "paragraphs within each outlet. Each group is compared with the other outlets of "
        "the same column (the rest).</p>"
    )
    for column, unplaced in groups.unplaced.items():
        rows = [row for row in groups.rows if row["grouping"] == column]
        parts.append(f"<h3>{escape(column)}</h3>")
        parts.append(_group_chart(column, rows))
        parts.append(_group_table(rows))
        if unplaced:
            parts.append(f'<p class="muted">{unplaced} outlet(s) without a {column} value.</p>')
    return "\n".join(parts)


def _group_chart(column: str, rows: list[dict]) -> str:
    left, width, row_height, top = 260, 600, 30, 10
    height = top + row_height * len(rows) + 30

    def x(value: float) -> float:
        return left + (value + 1) / 2 * width

    items = [
        f'<svg class="group-chart" data-grouping="{escape(column)}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {left + width + 20} '
        f'{height}" width="100%" aria-label="Stance index by {escape(column)}">',
        f'<line x1="{x(0)}" y1="{top}" x2="{x(0)}" y2="{height - 24}" stroke="#bbb"/>',
        *(
            f'<text x="{x(t)}" y="{height - 8}" font-size="12" text-anchor="middle">{t:+g}</text>'
            for t in (-1, -0.5, 0, 0.5, 1)
        ),
    ]
    for number, row in enumerate(rows):
        y = top + number * row_height + row_height / 2
        items.append(
            f'<g class="group-row" data-group="{escape(row["group"])}">'
            f'<text x="{left - 10}" y="{y + 4}" font-size="13" text-anchor="end">'
            f"{escape(row['group'][:30])} ({row['n_outlets']})</text>"
            f'<line x1="{x(row["ci_low"]):.1f}" y1="{y}" x2="{x(row["ci_high"]):.1f}" y2="{y}" '
            f'stroke="#333" stroke-width="2"/><circle cx="{x(row["stance_index"]):.1f}" '
            f'cy="{y}" r="6" fill="{_LINE}"/></g>'
        )
    items.append("</svg>")
    return "\n".join(items)


def _group_table(rows: list[dict]) -> str:
    body = "".join(
        f"<tr><td>{escape(row['group'])}</td><td>{row['n_outlets']}</td>"
        f"<td>{row['n_paragraphs']}</td><td>{row['stance_index']:+.2f}</td>"
        f"<td>[{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]</td><td>{_difference(row)}</td></tr>"
        for row in rows
    )
    return (
        "<table><thead><tr><th>group</th><th>outlets</th><th>paragraphs</th><th>index</th>"
        "<th>interval</th><th>minus the rest [interval]</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _difference(row: dict) -> str:
    if row["difference"] is None:
        return "n/a (no other group)"
    return (
        f"{row['difference']:+.2f} [{row['difference_ci_low']:+.2f}, "
        f"{row['difference_ci_high']:+.2f}]"
    )
