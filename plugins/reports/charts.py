"""Charts drawn by pygal as SVG on the server: no script reaches the browser, and the one ``<style>``
element pygal writes carries the request's CSP nonce, so the strict Content-Security-Policy holds."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pygal
from markupsafe import Markup
from pygal.style import Style

from workdesk import ReportTable

STYLE = Style(background="transparent", plot_background="transparent", foreground="#222",
              foreground_strong="#111", foreground_subtle="#666", opacity=".85", opacity_hover=".95",
              colors=("#2f6db5", "#d9822b", "#3a9b5c", "#b54a4a", "#7a5fb5", "#4a9bb5", "#8a8a2b", "#b55f9b"),
              font_family="system-ui, sans-serif", label_font_size=12, major_label_font_size=12,
              legend_font_size=12, value_font_size=11, title_font_size=14)
KINDS = {"line": pygal.Line, "bar": pygal.Bar, "stacked_bar": pygal.StackedBar}


def _axis_label(value: Any, locale: str) -> str:
    if isinstance(value, dt.date):
        from babel.dates import format_date
        return format_date(value, "d MMM", locale=locale)
    return str(value)


def render(table: ReportTable, title: str, nonce: str | None, locale: str = "en") -> Markup | None:
    """The table's chart as inline SVG, or None when it has no chart or nothing to draw."""
    if table.chart is None or not table.rows:
        return None
    axis_key = table.columns[0][0]
    series = [(key, label) for key, label in table.columns[1:]
              if any(isinstance(row.get(key), (int, float)) and not isinstance(row.get(key), bool) for row in table.rows)]
    if not series:
        return None
    chart = KINDS[table.chart](
        style=STYLE, js=[], disable_xml_declaration=True, explicit_size=False, width=720, height=320,
        show_legend=len(series) > 1, legend_at_bottom=True, legend_at_bottom_columns=4, x_label_rotation=0,
        truncate_label=14, truncate_legend=24, print_values=False, show_minor_x_labels=len(table.rows) <= 16,
        x_labels_major_every=max(1, len(table.rows) // 8), margin=8, title=None, dots_size=2,
        no_data_text="", css=["file://style.css", "file://graph.css"])
    chart.x_labels = [_axis_label(row.get(axis_key), locale) for row in table.rows]
    values = [row.get(key) for row in table.rows for key, _label in series if row.get(key) is not None]
    if values and all(isinstance(v, int) for v in values):  # counts: whole-number ticks only
        top = max(values) if table.chart != "stacked_bar" else max(
            sum(row.get(key) or 0 for key, _label in series) for row in table.rows)
        step = max(1, -(-top // 6))
        chart.y_labels = list(range(0, top + step + 1, step))
    for key, label in series:
        chart.add(str(label), [row.get(key) if isinstance(row.get(key), (int, float)) else None for row in table.rows])
    svg = chart.render(is_unicode=True)
    # With js=[] pygal loads no script file but still writes its config as an inline <script> and hides
    # its (unused) tooltip with a style attribute: both are dropped, the CSP would block them anyway.
    svg = re.sub(r"<script\b[^>]*>.*?</script>", "", svg, flags=re.S)
    svg = svg.replace(' style="opacity: 0"', "")
    # The one <style> block gets this request's nonce.
    if nonce:
        svg = re.sub(r"<style(\s|>)", lambda m: f'<style nonce="{nonce}"' + m.group(1), svg)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(title)}" ', 1)
    return Markup(svg)
