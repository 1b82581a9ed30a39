"""`reports/report.html`: one self-contained page (inline CSS and SVG, no scripts, no fetches).

Sections: the index chart (dot and whisker per source), the source table, one
block per source with a strip of its paragraphs' stances and the evidence
quotes, stance over time and outlets by group (pipeline/report/charts.py), the
article table, and the model card's summary.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from pipeline.report.charts import Trends, groups_section, timeline_section
from pipeline.report.summary import IndexSettings

_COLORS = {0: "#1f6fb5", 1: "#c0392b", 2: "#9e9e9e"}  # favor, against, none
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222;
max-width:980px;margin:2em auto;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
.muted{color:#666;font-size:.9em}table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{padding:.3em .5em;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
td.text{white-space:normal}
th:first-child,td:first-child{text-align:left}
.strip{display:flex;flex-wrap:wrap;gap:2px;margin:.4em 0}
.strip span{width:14px;height:14px;border-radius:2px;display:inline-block}
blockquote{margin:.5em 0;padding:.4em .8em;border-left:4px solid #ccc;background:#fafafa}
blockquote.favor{border-color:#1f6fb5}blockquote.against{border-color:#c0392b}
.legend span{display:inline-block;width:12px;height:12px;margin:0 .3em 0 1em;border-radius:2px}
.multiples{display:flex;flex-wrap:wrap;gap:1em}.multiples figure{margin:0;width:440px}
figcaption{font-size:.9em;font-weight:600}
"""


def render_report(
    document: dict,
    articles: dict[str, dict],
    frame: pd.DataFrame,
    card: dict,
    settings: IndexSettings,
    trends: Trends,
) -> str:
    """The whole page as a string; every text from the corpus is escaped."""
    sources = document["sources"]
    proposition = document["proposition"]["text"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Stance report: {escape(proposition)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Where the sources stand on “{escape(proposition)}”</h1>",
        f'<p class="muted">Model {escape(str(document["model"]["model_id"]))}. '
        f"Stance index: {escape(document['index_definition'])}. Intervals: "
        f"{document['confidence']:.0%} percentile bootstrap "
        f"({document['bootstrap_samples']} resamples); a source's resamples its articles, "
        "then paragraphs within them; an article's, its paragraphs. Shrunk: "
        f"{escape(document['shrinkage']['method'])}, toward "
        f"{_signed(document['shrinkage']['prior_mean'])}.</p>",
        "<h2>Stance index by source</h2>",
        index_chart(sources, settings.confidence),
        _source_table(sources, settings),
        _legend(settings),
    ]
    for name, summary in sources.items():
        parts.append(_source_block(name, summary, frame[frame.source == name], settings))
    parts.append(timeline_section(trends.timeline, trends.events, settings.confidence))
    parts.append(groups_section(trends.groups, settings.confidence))
    parts.append("<h2>Articles</h2>")
    parts.append(_article_table(articles))
    parts.append(_card_summary(card))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def index_chart(sources: dict[str, dict], confidence: float) -> str:
    """Inline SVG per source: whisker (interval), dot (index), tick (shrunk), diamond (gold)."""
    left, width, row_height, top = 260, 600, 34, 30
    height = top + row_height * len(sources) + 40

    def x(value: float) -> float:
        return left + (value + 1) / 2 * width

    items = [
        f'<svg id="index-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {left + width + 20} {height}" width="100%" '
        f'aria-label="Stance index by source with {confidence:.0%} intervals">',
        f'<line x1="{x(0)}" y1="{top - 10}" x2="{x(0)}" y2="{height - 30}" stroke="#bbb"/>',
    ]
    for tick in (-1, -0.5, 0, 0.5, 1):
        items.append(
            f'<text x="{x(tick)}" y="{height - 12}" font-size="12" text-anchor="middle">'
            f"{tick:+g}</text>"
        )
    for row, (name, summary) in enumerate(sources.items()):
        y = top + row * row_height + row_height / 2
        gold = summary["gold"]["stance_index"]
        items.append(f'<g class="source-row" data-source="{escape(name)}">')
        items.append(
            f'<text x="{left - 10}" y="{y + 4}" font-size="13" text-anchor="end">'
            f"{escape(_short(name, 30))}</text>"
        )
        items.append(
            f'<line class="interval" x1="{x(summary["ci_low"]):.1f}" y1="{y}" '
            f'x2="{x(summary["ci_high"]):.1f}" y2="{y}" stroke="#333" stroke-width="2"'
            f"{_ONE_ARTICLE_DASH if summary['n_articles'] == 1 else ''}/>"
        )
        items.append(
            f'<circle class="index" cx="{x(summary["stance_index"]):.1f}" cy="{y}" r="6" '
            f'fill="#1f4e79"><title>{escape(name)}: {_signed(summary["stance_index"])} '
            f"[{_signed(summary['ci_low'])}, {_signed(summary['ci_high'])}], "
            f"{summary['n_paragraphs']} paragraphs</title></circle>"
        )
        shrunk = x(summary["shrunk_index"])
        items.append(
            f'<line class="shrunk" x1="{shrunk:.1f}" y1="{y - 9}" x2="{shrunk:.1f}" '
            f'y2="{y + 9}" stroke="#c55a11" stroke-width="3"/>'
        )
        if gold is not None:
            gx = x(gold)
            items.append(
                f'<polygon class="gold" points="{gx:.1f},{y - 7} {gx + 7:.1f},{y} {gx:.1f},'
                f'{y + 7} {gx - 7:.1f},{y}" fill="none" stroke="#2e7d32" stroke-width="2"/>'
            )
        items.append("</g>")
    items.append("</svg>")
    items.append(
        f'<p class="muted">● model index with its {confidence:.0%} interval · '
        '<span style="color:#c55a11">|</span> shrunk estimate · '
        '<span style="color:#2e7d32">◇</span> index from gold labels (where annotated) · '
        "dashed: one article, so the interval covers that article's paragraphs only</p>"
    )
    return "\n".join(items)


_ONE_ARTICLE_DASH = ' stroke-dasharray="5 3"'


def _source_table(sources: dict[str, dict], settings: IndexSettings) -> str:
    favor, against, neutral = settings.labels
    head = (
        "<table><thead><tr><th>source</th><th>articles</th><th>paragraphs</th>"
        "<th>with stance</th>"
        f"<th>{escape(favor)}</th><th>{escape(against)}</th><th>{escape(neutral)}</th>"
        "<th>index</th><th>interval</th><th>shrunk</th><th>gold index (n)</th></tr></thead><tbody>"
    )
    rows = []
    for name, s in sources.items():
        gold = s["gold"]
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{s['n_articles']}</td><td>{s['n_paragraphs']}</td>"
            f"<td>{s['n_stance']}</td>"
            + "".join(f"<td>{s['share'][label]:.0%}</td>" for label in settings.labels)
            + f"<td>{_signed(s['stance_index'])}</td>"
            f"<td>[{_signed(s['ci_low'])}, {_signed(s['ci_high'])}]"
            f"{'†' if s['n_articles'] == 1 else ''}</td>"
            f"<td>{_signed(s['shrunk_index'])}</td>"
            f"<td>{_signed(gold['stance_index'])} ({gold['n']})</td></tr>"
        )
    note = (
        '<p class="muted">Intervals resample a source\'s articles, then paragraphs within '
        "them. † One article: the interval resamples that article's paragraphs and says "
        "nothing about the outlet's other articles.</p>"
    )
    return head + "".join(rows) + "</tbody></table>" + note


def _legend(settings: IndexSettings) -> str:
    return (
        '<p class="legend muted">Paragraph strips:'
        + "".join(
            f'<span style="background:{_COLORS[i]}"></span>{escape(label)}'
            for i, label in enumerate(settings.labels)
        )
        + " (fainter = less confident)</p>"
    )


def _source_block(name: str, summary: dict, rows: pd.DataFrame, settings: IndexSettings) -> str:
    favor, against, _ = settings.labels
    strip = []
    for row in rows.itertuples():
        index = settings.labels.index(row.label)
        confidence = float(getattr(row, f"prob_{row.label}"))
        strip.append(
            f'<span class="para" style="background:{_COLORS[index]};'
            f'opacity:{0.25 + 0.75 * confidence:.2f}" title="{escape(row.paragraph_id)}: '
            f'{escape(row.label)} ({confidence:.2f})"></span>'
        )
    quotes = []
    for side in (favor, against):
        for item in summary["evidence"][side]:
            gold = f", gold {escape(item['gold'])}" if item["gold"] else ""
            quotes.append(
                f'<blockquote class="{"favor" if side == favor else "against"}">'
                f'{escape(item["quote"])}<br><span class="muted">toward {escape(side)} · '
                f"P({escape(favor)}) {item['probs'][favor]:.2f}, "
                f"P({escape(against)}) {item['probs'][against]:.2f}{gold} · "
                f"{escape(item['paragraph_id'])} ({escape(item['origin'])})</span></blockquote>"
            )
    if not quotes:
        quotes.append('<p class="muted">No paragraph takes a clear stance.</p>')
    return (
        f'<section class="source" data-source="{escape(name)}"><h2>{escape(name)}</h2>'
        f'<p class="muted">Index {_signed(summary["stance_index"])} '
        f"[{_signed(summary['ci_low'])}, {_signed(summary['ci_high'])}] over "
        f"{summary['n_paragraphs']} paragraphs in {summary['n_articles']} article(s); "
        f"{summary['n_out_of_fold']} scored out of fold.</p>"
        f'<div class="strip">{"".join(strip)}</div>' + "".join(quotes) + "</section>"
    )


def _article_table(articles: dict[str, dict]) -> str:
    rows = "".join(
        f'<tr><td class="text">{escape(a["title"] or doc_id)}</td>'
        f"<td>{escape(a['source'])}</td>"
        f"<td>{a['n_paragraphs']}</td><td>{_signed(a['stance_index'])}</td>"
        f"<td>[{_signed(a['ci_low'])}, {_signed(a['ci_high'])}]</td>"
        f"<td>{_signed(a['gold']['stance_index'])}</td></tr>"
        for doc_id, a in articles.items()
    )
    return (
        "<table><thead><tr><th>article</th><th>source</th><th>paragraphs</th><th>index</th>"
        f"<th>interval</th><th>gold index</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _card_summary(card: dict) -> str:
    cv = card.get("grouped_cv", {})
    training = card.get("training", {})
    items = {
        "model": card.get("model_id"),
        "leave-one-source-out macro-F1": cv.get("macro_f1"),
        "F_avg (favor, against)": cv.get("f_avg"),
        "expected calibration error": cv.get("ece"),
        "training rows": training.get("rows"),
        "training data sha256": str(training.get("data_sha256", ""))[:16],
        "temperature": card.get("temperature"),
        "stance version": card.get("stance_version"),
    }
    rows = "".join(
        f"<tr><td>{escape(key)}</td><td>{escape(str(value))}</td></tr>"
        for key, value in items.items()
        if value is not None
    )
    return f'<h2>Model card</h2><table class="card">{rows}</table>'


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
