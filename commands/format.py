"""How numbers read in replies: money or counts, percentages."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from commands.context import Ctx
from commands.stats import MONEY_METRICS


def value(ctx: Ctx, amount: Decimal, metric: str, currency: str, whole: bool = False) -> str:
    """Money or a count; `whole` rounds derived figures (expected, run-rate) to whole units."""
    if metric in MONEY_METRICS:
        shown = amount.quantize(Decimal(1), ROUND_HALF_UP) if whole else amount
        return ctx.amount(shown, currency)
    return count(ctx, metric, amount)


def count(ctx: Ctx, metric: str, n: Decimal | int) -> str:
    rounded = Decimal(n).quantize(Decimal(1), ROUND_HALF_UP)
    form = "one" if rounded == 1 else "other"
    return ctx.t(f"metric.count.{metric}_{form}", n=f"{rounded:,}")


def pct(ratio: Decimal | None) -> str:
    """Rounded, except that short of 100% never reads as 100% (99.9% shows 99%)."""
    if ratio is None:
        return "—"
    shown = (ratio * 100).quantize(Decimal(1), ROUND_HALF_UP)
    if ratio < 1 and shown >= 100:
        shown = (ratio * 100).quantize(Decimal(1), ROUND_DOWN)
    return f"{shown:,}%"


def escape(text: str) -> str:
    """User text shown in Slack: `<`, `>` and `&` are control characters there (a typed
    `<!channel>` would otherwise notify everyone)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
