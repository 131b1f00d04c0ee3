"""Target tracking on the router's own counters: a variant with a scaling policy
(`put_scaling_policy`, kept in the endpoint's `desired`) gets as many instances as keep its
invocations per instance per minute near the target, within its bounds, no sooner after the
last change than its cooldowns allow. Beat runs it (`scaling.tend`); `converge` does the rest.
"""

import math
import time

from django.conf import settings
from django.db import transaction

from jobs.hosting.counters import invocations_per_minute
from jobs.models import Endpoint


def wanted_count(rate_per_minute: float, policy: dict) -> int:
    """Instances for `rate_per_minute` invocations: ceil(rate ÷ target) within the bounds; at
    least one while there is any traffic, so that a variant with minimum 0 only idles at 0."""
    wanted = math.ceil(rate_per_minute / policy["target"]) if rate_per_minute > 0 else 0
    if rate_per_minute > 0:
        wanted = max(wanted, 1)
    return min(max(wanted, policy["min"]), policy["max"])


def autoscale(endpoint: Endpoint, now: float | None = None) -> bool:
    """Change the desired counts of the endpoint's autoscaled variants; whether any changed."""
    now = time.time() if now is None else now
    changes = {}
    for name, desired in endpoint.desired.items():
        policy = desired.get("autoscaling")
        if not policy:
            continue
        rate = invocations_per_minute(endpoint.pk, name, settings.STUDIO_AUTOSCALE_WINDOW_S)
        wanted, current = wanted_count(rate, policy), desired["count"]
        since = now - policy.get("last_change", 0)
        if (wanted > current and since >= policy["scale_out_cooldown_s"]) or (
            wanted < current and since >= policy["scale_in_cooldown_s"]
        ):
            changes[name] = wanted
    if not changes:
        return False
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        for name, wanted in changes.items():
            endpoint.desired[name]["count"] = wanted
            endpoint.desired[name]["autoscaling"]["last_change"] = now
        endpoint.save(update_fields=["desired"])
    return True
