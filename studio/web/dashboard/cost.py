"""What things cost, as the pages show it: a running thing's hourly price and cost so far, and
this month's spend (the home page's card), split by what ran, against the monthly budget."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domains.models import UserProfile
from domains.permissions import User, administered_domains, profile_quotas
from metering.catalog import InstanceType
from metering.usage import month_spend_by_resource

# What ran, by the meters' resource type, in the words the card uses; in this order.
SPEND_KINDS = (("TrainingJob", "Training"), ("ProcessingJob", "Processing"), ("App", "Notebooks"))
# A budget this far used is shown as a warning before starts are refused at 100 %.
BUDGET_WARNING_PERCENT = 80


def cost_context(instance_type: str, billable_seconds: int | float | None) -> dict[str, Any]:
    """`price` (per hour), `price_label`, and `cost` of `billable_seconds` at that price."""
    price = (
        InstanceType.objects.filter(name=instance_type)
        .values_list("price_per_hour", flat=True)
        .first()
    )
    return {
        "price": price,
        "price_label": "" if price is None else f"{float(price):g}",
        "cost": None
        if price is None or billable_seconds is None
        else price * Decimal(billable_seconds) / Decimal(3600),
    }


def money(amount: Decimal) -> str:
    """Dollars and cents, as a refused start states the budget; spend under half a cent is
    not written as if nothing had run."""
    if 0 < amount < Decimal("0.005"):
        return "under $0.01"
    return f"${amount:,.2f}"


@dataclass(frozen=True)
class SpendBar:
    label: str
    amount: Decimal
    percent: int  # of the month's total: the bar's width

    @property
    def money(self) -> str:
        return money(self.amount)


@dataclass(frozen=True)
class Spend:
    """One month's spend (a profile's or a domain's), split by what ran."""

    total: Decimal
    bars: list[SpendBar]

    @property
    def money(self) -> str:
        return money(self.total)


def _spend(by_resource: dict[str, Decimal]) -> Spend:
    total = sum(by_resource.values(), Decimal(0))
    bars = [
        SpendBar(
            label,
            by_resource.get(kind, Decimal(0)),
            round(by_resource.get(kind, Decimal(0)) * 100 / total) if total else 0,
        )
        for kind, label in SPEND_KINDS
    ]
    return Spend(total, bars)


def month_spend_context(
    user: User, profile: UserProfile, now: datetime | None = None
) -> dict[str, Any]:
    """The home page's spend card for `user` working as `profile` (their own): `spend`, the
    profile's `budget` (a policy's Limit, or None) and `budget_percent` used, and
    `domain_spend` for the domain's admins only: a member sees no one else's spend."""
    domain_id = profile.domain.domain_id
    spend = _spend(month_spend_by_resource(domain_id, profile.name, now))
    budget = profile_quotas(profile).monthly_budget_usd
    used = None
    if budget is not None:
        used = 100 if not budget.value else min(100, round(spend.total * 100 / budget.value))
    admin = administered_domains(user).filter(pk=profile.domain_id).exists()
    return {
        "spend": spend,
        "budget": budget,
        "budget_money": None if budget is None else money(Decimal(budget.value)),
        "budget_percent": used,
        "budget_reached": budget is not None and spend.total >= budget.value,
        "budget_warning": used is not None and used >= BUDGET_WARNING_PERCENT,
        "domain_spend": _spend(month_spend_by_resource(domain_id, None, now)) if admin else None,
    }
