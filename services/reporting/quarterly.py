"""The quarterly .be registrar report's figures (digest 6.1), computed from monthly counters: pure rules,
no database.

Rates are per 100,000 domains at month (or quarter) end. A benchmark group counts as one virtual
registrar: sum(metric) / sum(domains), never an average of ratios. The groups: top10, top50,
all-registrars and each registrar category (registrar.created / updated; a registrar is compared with its
own). Stars: 3 best, 0 worst, against boundaries the operator configures (the .be values are not published);
no score at all over an empty portfolio at quarter end (a rate of nothing is not a best rate).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from services.reporting import ages

PER = 100_000


class Metric(StrEnum):
    CREATE = "create"
    DELETE = "delete"  # key: the anniversary it decides (ages.py)
    RELEASE = "release"
    REACTIVATE = "reactivate"
    RENEWAL = "renewal"  # key: the anniversary it renews (ages.py)
    TRANSFER_IN = "transfer_in"  # key: the losing registrar
    TRANSFER_OUT = "transfer_out"  # key: the gaining registrar
    PAYING = "paying"  # key: the transaction kind
    ACTIVE = "active"  # key: the cohort (registration month) of names entering (+) or leaving (-) the portfolio
    BOUNCE = "bounce"  # key: the SMTP code and enhanced status code (bounces.py)
    BOUNCE_RECURRING = "bounce_recurring"
    REVOKE = "revoke"  # key: the revoke type
    INFECTION = "infection"  # key: the infection type
    SUPPORT = "support"  # key: the topic
    SUPPORT_DAY = "support_day"  # key: YYYY-MM-DD
    VERIFICATION_CONTACTS_SELECTED = "verification_contacts_selected"
    VERIFICATION_DOMAINS_SELECTED = "verification_domains_selected"
    VERIFICATION_CONTACTS_APPROVED = "verification_contacts_approved"
    VERIFICATION_DOMAINS_APPROVED = "verification_domains_approved"


SCORED = ("revokes", "bounces", "infections", "support")


@dataclass(frozen=True)
class Fact:
    registrar_id: str
    month: str
    metric: Metric
    key: str
    count: int


@dataclass
class Facts:
    """Monthly counters of every registrar from the quarter's first month on."""

    counts: dict[tuple[str, str, Metric], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # per registrar, the portfolio change of each month, as the portfolio counter moved (not derived from the
    # facts: a transfer out of quarantine or a reactivation moves it in ways no one metric says)
    net: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # per registrar, today's active registrations by cohort (walked back with the ACTIVE facts, as net is)
    cohorts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    months: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, facts: Iterable[Fact], nets: Mapping[str, Mapping[str, int]] | None = None,
           cohorts: Mapping[str, Mapping[str, int]] | None = None) -> Facts:
        table = cls()
        for f in facts:
            table.counts[(f.registrar_id, f.month, f.metric)][f.key] += f.count
            table.months.add(f.month)
        for registrar, months in (nets or {}).items():
            table.net[registrar].update(months)
        for registrar, counts in (cohorts or {}).items():
            table.cohorts[registrar].update(counts)
        return table

    def total(self, registrar: str, month: str, metric: Metric) -> int:
        return sum(self.counts.get((registrar, month, metric), Counter()).values())

    def keys(self, registrar: str, months: Sequence[str], metric: Metric) -> Counter[str]:
        out: Counter[str] = Counter()
        for m in months:
            out.update(self.counts.get((registrar, m, metric), Counter()))
        return out

    def later_net(self, registrar: str, month: str) -> int:
        """The portfolio change after `month` (to walk back from today's portfolio to that month's end)."""
        return sum(n for m, n in self.net.get(registrar, Counter()).items() if m > month)

    def cohorts_at(self, registrar: str, month: str) -> Counter[str]:
        """The active registrations by cohort at `month`'s end: today's, less the cohorts' later changes."""
        out = Counter(self.cohorts.get(registrar, Counter()))
        for m in self.months:
            if m > month:
                out.subtract(self.counts.get((registrar, m, Metric.ACTIVE), Counter()))
        return Counter({c: n for c, n in out.items() if n > 0})


def stars(rate: float, boundaries: Sequence[float]) -> int:
    """3 below the first boundary, 2 below the second, 1 below the third, else 0 (lower rates are better)."""
    return 3 - sum(1 for b in boundaries if rate >= b)


def _stars_of(value: float | None, boundaries: Sequence[float]) -> int | None:
    return None if value is None else stars(value, boundaries)


def rate(count: int, domains: int) -> float | None:
    """Per 100,000 domains; None over an empty portfolio: a rate of nothing scores nothing (a registrar with
    revokes but no domain left at quarter end is not the best, it has no score)."""
    return round(count * PER / domains, 2) if domains > 0 else None


def renewal_rate(renewals: int, deletes: int) -> float | None:
    """renewals / (renewals + deletes), as a percentage; None when neither happened."""
    return round(100 * renewals / (renewals + deletes), 2) if renewals + deletes else None


def growth(now: int, before: int) -> float | None:
    """Year-on-year growth as a percentage; None without registrations a year before (nothing to grow from,
    or no history that far back)."""
    return round(100 * (now - before) / before, 2) if before > 0 else None


def year_before(month: str) -> str:
    return f"{int(month[:4]) - 1}{month[4:]}"


@dataclass
class Figures:
    """One registrar's (or one group's) quarter."""

    registrar_id: str
    quarter: str
    months: list[str]
    domains_month_end: list[int]
    domains: int  # at quarter end
    monthly: dict[str, list[int]]  # per metric name, one count per month
    revoke_types: Counter[str]
    bounce_errors: Counter[str]
    infection_types: Counter[str]
    support_topics: Counter[str]
    support_days: Counter[str]
    transfers_from: Counter[str]
    transfers_to: Counter[str]
    quarter_totals: dict[str, int]
    renewal_rate_monthly: list[float | None]
    renewal_rate_quarter: float | None
    rates: dict[str, float | None]  # the scored metrics per 100,000 at quarter end; None: no domains, no score
    domains_year_before: int  # at the end of the quarter's last month a year earlier
    growth: float | None  # year on year, %
    registrations_by_age: list[tuple[str, int]]  # active at quarter end, by whole years (ages.py)
    # per anniversary decided in the quarter (ages.py): (age, renewals, deletes, renewal rate %)
    renewal_by_age: list[tuple[str, int, int, float | None]]
    stars: dict[str, int | None] = field(default_factory=dict)  # None: no score


MONTHLY = {
    "revokes": Metric.REVOKE, "bounces": Metric.BOUNCE, "recurring_bounces": Metric.BOUNCE_RECURRING,
    "infections": Metric.INFECTION, "support_cases": Metric.SUPPORT, "creates": Metric.CREATE,
    "deletes": Metric.DELETE, "transfers_in": Metric.TRANSFER_IN, "transfers_out": Metric.TRANSFER_OUT,
    "renewals": Metric.RENEWAL,
    "contacts_selected": Metric.VERIFICATION_CONTACTS_SELECTED, "domains_selected": Metric.VERIFICATION_DOMAINS_SELECTED,
    "contacts_approved": Metric.VERIFICATION_CONTACTS_APPROVED, "domains_approved": Metric.VERIFICATION_DOMAINS_APPROVED,
}
# what each score is computed on
SCORE_METRIC = {"revokes": "revokes", "bounces": "recurring_bounces", "infections": "infections",
                "support": "support_cases"}


def figures(members: Sequence[str], name: str, quarter: str, months: Sequence[str], facts: Facts,
            portfolios: Mapping[str, int], boundaries: Mapping[str, Sequence[float]]) -> Figures:
    """The quarter of one registrar (members = [it]) or of a benchmark group as one virtual registrar."""
    month_end = [sum(max(0, portfolios.get(r, 0) - facts.later_net(r, m)) for r in members) for m in months]

    def keys(metric: Metric) -> Counter[str]:
        out: Counter[str] = Counter()
        for r in members:
            out.update(facts.keys(r, months, metric))
        return out

    monthly = {label: [sum(facts.total(r, m, metric) for r in members) for m in months]
               for label, metric in MONTHLY.items()}
    totals = {label: sum(values) for label, values in monthly.items()}
    domains = month_end[-1]
    rates = {score: rate(totals[SCORE_METRIC[score]], domains) for score in SCORED}
    before = sum(max(0, portfolios.get(r, 0) - facts.later_net(r, year_before(months[-1]))) for r in members)
    by_age: Counter[str] = Counter()
    for r in members:
        for cohort, n in facts.cohorts_at(r, months[-1]).items():
            age = ages.age_at(cohort, months[-1])
            if age is not None:
                by_age[age] += n
    renewed, deleted = ages.normalised(keys(Metric.RENEWAL)), ages.normalised(keys(Metric.DELETE))
    return Figures(
        registrar_id=name, quarter=quarter, months=list(months), domains_month_end=month_end, domains=domains,
        monthly=monthly, revoke_types=keys(Metric.REVOKE), bounce_errors=keys(Metric.BOUNCE),
        infection_types=keys(Metric.INFECTION), support_topics=keys(Metric.SUPPORT),
        support_days=keys(Metric.SUPPORT_DAY), transfers_from=keys(Metric.TRANSFER_IN),
        transfers_to=keys(Metric.TRANSFER_OUT), quarter_totals=totals,
        renewal_rate_monthly=[renewal_rate(r, d) for r, d in zip(monthly["renewals"], monthly["deletes"], strict=True)],
        renewal_rate_quarter=renewal_rate(totals["renewals"], totals["deletes"]),
        rates=rates, domains_year_before=before, growth=growth(domains, before),
        registrations_by_age=[(a, by_age[a]) for a in ages.ordered(by_age)],
        renewal_by_age=[(a, renewed[a], deleted[a], renewal_rate(renewed[a], deleted[a]))
                        for a in ages.ordered(renewed | deleted)],
        stars={score: _stars_of(rates[score], boundaries[score]) for score in SCORED},
    )


GENERAL_GROUPS = ("top10", "top50", "all-registrars")


def category_group(category: str) -> str:
    """A category's group as the raw-data file names write it: RETAIL_AND_HOSTING -> retail-and-hosting
    (digest 6.1: 2021Q3-bounced-emails-retail-and-hosting.csv)."""
    return category.lower().replace("_", "-")


def benchmark_groups(portfolios: Mapping[str, int],
                     categories: Mapping[str, str | None] | None = None) -> dict[str, list[str]]:
    """top10, top50 (by portfolio size), all-registrars, and one group per registrar category in use."""
    ranked = [r for r, _ in sorted(portfolios.items(), key=lambda item: (-item[1], item[0]))]
    groups = {"top10": ranked[:10], "top50": ranked[:50], "all-registrars": ranked}
    for r in ranked:
        category = (categories or {}).get(r)
        if category:
            groups.setdefault(category_group(category), []).append(r)
    return groups


def groups_of(category: str | None) -> tuple[str, ...]:
    """The groups a registrar's report compares it with: the general ones, and its category's if it has one."""
    return GENERAL_GROUPS + ((category_group(category),) if category else ())
