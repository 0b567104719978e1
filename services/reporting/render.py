"""The quarterly report as a person reads it (one self-contained HTML page with inline SVG charts: no
script, no external resource) and as raw data (CSV files in a ZIP named as digest 6.1 describes:
`<quarter>-<topic>-<registrar(group)>.csv`)."""

from __future__ import annotations

import calendar
import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from html import escape

from services.reporting.periods import compact
from services.reporting.quarterly import PER, SCORED, Figures

BAR = "#2b6cb0"
BAR2 = "#dd6b20"
LABELS = {"revokes": "Revokes", "bounces": "Recurring bounces", "infections": "Infections", "support": "Support cases"}


def zip_name(quarter: str, registrar_id: str) -> str:
    return f"{compact(quarter)}-raw-data-{registrar_id}.zip"


def _bars(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], width: int = 420,
          height: int = 180) -> str:
    """A grouped bar chart; each series one colour."""
    colours = [BAR, BAR2, "#38a169", "#805ad5"]
    top = max([v for values in series.values() for v in values] + [1])
    n, k = len(labels), max(1, len(series))
    slot = (width - 40) / max(1, n)
    bar = max(4.0, slot * 0.8 / k)
    parts = [(f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height + 50}" '
             f'viewBox="0 0 {width} {height + 50}" xmlns="http://www.w3.org/2000/svg">'),
             f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
             f'<line x1="30" y1="{height + 20}" x2="{width}" y2="{height + 20}" stroke="#999"/>']
    for i, label in enumerate(labels):
        x0 = 35 + i * slot
        for j, (name, values) in enumerate(series.items()):
            v = values[i]
            h = (height - 20) * v / top
            x = x0 + j * bar
            parts.append(f'<rect x="{x:.1f}" y="{height + 20 - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                         f'fill="{colours[j % 4]}"><title>{escape(name)} {escape(label)}: {v:g}</title></rect>')
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height + 16 - h:.1f}" font-size="10" '
                         f'text-anchor="middle">{v:g}</text>')
        parts.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{height + 36}" font-size="11" '
                     f'text-anchor="middle">{escape(label)}</text>')
    if len(series) > 1:
        for j, name in enumerate(series):
            parts.append(f'<rect x="{40 + j * 110}" y="{height + 42}" width="10" height="8" fill="{colours[j % 4]}"/>'
                         f'<text x="{54 + j * 110}" y="{height + 50}" font-size="10">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _heatmap(months: Sequence[str], days: Mapping[str, int]) -> str:
    """A calendar per month: one square per day, darker with more support cases."""
    top = max(list(days.values()) + [1])
    cell, parts = 16, []
    width = len(months) * (7 * cell + 20)
    parts.append(f'<svg role="img" aria-label="Support cases per day" width="{width}" height="{6 * cell + 40}" '
                 f'xmlns="http://www.w3.org/2000/svg">')
    for i, month in enumerate(months):
        year, m = int(month[:4]), int(month[5:7])
        x0 = i * (7 * cell + 20)
        parts.append(f'<text x="{x0}" y="12" font-size="12">{month}</text>')
        first_weekday, length = calendar.monthrange(year, m)
        for d in range(1, length + 1):
            pos = first_weekday + d - 1
            n = days.get(f"{month}-{d:02d}", 0)
            shade = int(235 - 190 * n / top) if n else 240
            colour = f"rgb({shade},{shade},255)" if n else "#f0f0f0"
            parts.append(f'<rect x="{x0 + (pos % 7) * cell}" y="{20 + (pos // 7) * cell}" width="{cell - 2}" '
                         f'height="{cell - 2}" fill="{colour}"><title>{month}-{d:02d}: {n}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _stars(n: int | None) -> str:
    if n is None:
        return '<span class="stars" title="no domains at quarter end">no score</span>'
    return f'<span class="stars" title="{n} of 3">{"★" * n}{"☆" * (3 - n)}</span>'


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body or '<tr><td colspan=9>none</td></tr>'}</table>"


def html(own: Figures, groups: Mapping[str, Figures], registrar_name: str, generated: str) -> str:
    months = own.months
    per_month = {label: [round(c * PER / d, 2) if d else 0 for c, d in zip(own.monthly[label], own.domains_month_end,
                                                                            strict=True)]
                 for label in ("revokes", "infections", "support_cases")}
    score_rows = "".join(
        f"<tr><td>{LABELS[s]}</td><td>{_rate(own.rates[s])}</td><td>{_stars(own.stars[s])}</td>"
        + "".join(f"<td>{_rate(g.rates[s])} {_stars(g.stars[s])}</td>" for g in groups.values()) + "</tr>"
        for s in SCORED)
    group_heads = "".join(f"<th>{escape(name)}</th>" for name in groups)
    rr = own.renewal_rate_quarter
    yoy = ("n/a" if own.growth is None else f"{own.growth:+g} %") + f" (a year before: {own.domains_year_before:,})"
    sections = [
        f"<h1>.be registrar report {escape(own.quarter)}</h1>",
        (f"<p>{escape(registrar_name)} ({escape(own.registrar_id)}) &middot; portfolio at quarter end: "
        f"<b>{own.domains:,}</b> &middot; renewal rate: <b>{'n/a' if rr is None else f'{rr:g} %'}</b> &middot; "
        f"generated {escape(generated)}</p>"),
        ("<h2>Scores</h2><p>Per 100,000 domains at quarter end; 3 stars best. A benchmark group counts as one "
        "registrar: its total over its total portfolio.</p>"),
        f"<table><tr><th>metric</th><th>you</th><th>stars</th>{group_heads}</tr>{score_rows}</table>",
        "<h2>Quality of service</h2>",
        _bars("Revokes per month", months, {"revokes": own.monthly["revokes"]}),
        _bars("Revokes per 100,000 domains", months, {"per 100,000": per_month["revokes"]}),
        _table(["revoke type", "revokes", "per 100,000"],
               [(t, n, round(n * PER / own.domains, 2) if own.domains else 0) for t, n in own.revoke_types.most_common()]),
        _bars("Hard bounces per month", months, {"bounces": own.monthly["bounces"],
                                                 "recurring": own.monthly["recurring_bounces"]}),
        _table(["most frequent errors", "bounces"], own.bounce_errors.most_common(10)),
        "<h2>Business intelligence</h2>",
        _bars("Infections per 100,000 domains", months, {"per 100,000": per_month["infections"]}),
        _table(["infection type", "count"], own.infection_types.most_common()),
        _bars("Creates, transfers in, deletes, transfers out", months, {
            "creates": own.monthly["creates"], "transfers in": own.monthly["transfers_in"],
            "deletes": own.monthly["deletes"], "transfers out": own.monthly["transfers_out"]}),
        "<div class=row>" + _table(["won from (top 5)", "domains"], own.transfers_from.most_common(5))
        + _table(["lost to (top 5)", "domains"], own.transfers_to.most_common(5)) + "</div>",
        _bars("Portfolio at month end", months, {"domains": own.domains_month_end}),
        f"<p>Year-on-year growth of the portfolio at quarter end: <b>{escape(yoy)}</b></p>",
        _bars("Active registrations by age (years) at quarter end", [a for a, _ in own.registrations_by_age],
              {"registrations": [n for _, n in own.registrations_by_age]}),
        _table(["anniversary (years)", "renewals", "deletes", "renewal rate %"],
               [(a, r, d, "n/a" if x is None else x) for a, r, d, x in own.renewal_by_age]),
        _table(["month", "renewals", "deletes", "renewal rate %"],
               [(m, r, d, "n/a" if rate is None else rate) for m, r, d, rate in
                zip(months, own.monthly["renewals"], own.monthly["deletes"], own.renewal_rate_monthly, strict=True)]),
        _bars("Support cases per month", months, {"cases": own.monthly["support_cases"]}),
        _heatmap(months, own.support_days),
        _table(["topic", "cases"], own.support_topics.most_common()),
        _bars("Registrant verification", months, {
            "contacts selected": own.monthly["contacts_selected"], "contacts approved": own.monthly["contacts_approved"],
            "domains selected": own.monthly["domains_selected"], "domains approved": own.monthly["domains_approved"]}),
    ]
    style = ("body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse;"
             "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.stars{color:#d69e2e}"
             "svg{display:block;margin:1em 0}.row{display:flex;gap:2em}")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>.be registrar report '
            f'{escape(own.quarter)} {escape(own.registrar_id)}</title><style>{style}</style></head><body>'
            + "\n".join(sections) + "</body></html>\n")


def _csv(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(headers)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def raw_data(own: Figures, groups: Mapping[str, Figures]) -> bytes:
    """The ZIP: per topic one file for the registrar and one per benchmark group (verification: own only)."""
    q = compact(own.quarter)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for subject, f in {own.registrar_id: own, **groups}.items():
            def put(topic: str, headers: Sequence[str], rows: Sequence[Sequence[object]], f: Figures = f,
                    subject: str = subject) -> None:
                z.writestr(f"{q}-{topic}-{subject}.csv", _csv(headers, rows))

            monthly = list(zip(f.months, f.domains_month_end, strict=True))
            put("total-domains", ["month", "domains"], monthly)
            put("create", ["month", "creates"], list(zip(f.months, f.monthly["creates"], strict=True)))
            put("delete", ["month", "deletes", "renewals", "renewal_rate"],
                [(m, d, r, "" if x is None else x) for m, d, r, x in zip(
                    f.months, f.monthly["deletes"], f.monthly["renewals"], f.renewal_rate_monthly, strict=True)])
            put("registrations-per-age", ["age_years", "registrations"], f.registrations_by_age)
            put("renewal-age", ["anniversary", "renewals", "renewal_rate"],
                [(a, r, "" if x is None else x) for a, r, _, x in f.renewal_by_age if r])
            put("delete-age", ["anniversary", "deletes"], [(a, d) for a, _, d, _ in f.renewal_by_age if d])
            put("transfer", ["month", "transfers_in", "transfers_out"],
                list(zip(f.months, f.monthly["transfers_in"], f.monthly["transfers_out"], strict=True)))
            put("revoke", ["month", "revokes", "domains", "per_100000"],
                [(m, n, d, round(n * PER / d, 2) if d else 0) for m, n, d in
                 zip(f.months, f.monthly["revokes"], f.domains_month_end, strict=True)])
            put("bounced-emails", ["month", "bounces", "recurring_bounces"],
                list(zip(f.months, f.monthly["bounces"], f.monthly["recurring_bounces"], strict=True)))
            put("infections", ["month", "infections", "domains", "per_100000"],
                [(m, n, d, round(n * PER / d, 2) if d else 0) for m, n, d in
                 zip(f.months, f.monthly["infections"], f.domains_month_end, strict=True)])
            put("support-cases", ["month", "cases", "domains", "per_100000"],
                [(m, n, d, round(n * PER / d, 2) if d else 0) for m, n, d in
                 zip(f.months, f.monthly["support_cases"], f.domains_month_end, strict=True)])
            if f is own:
                put("registrant-verification", ["month", "contacts_selected", "contacts_approved", "domains_selected",
                                                 "domains_approved"],
                    list(zip(f.months, f.monthly["contacts_selected"], f.monthly["contacts_approved"],
                             f.monthly["domains_selected"], f.monthly["domains_approved"], strict=True)))
    return buffer.getvalue()
