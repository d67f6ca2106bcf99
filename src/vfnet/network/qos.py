"""QoS policies a VF can enforce (egress max and min rate) and their VF rates in Mbps.

Public API: BANDWIDTH_LIMIT, MINIMUM_BANDWIDTH, MAX_KBPS, QosRule, QosPolicy, VfRates,
parse_rule, validate_policy, effective_policy, kbps_to_mbps, vf_rates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vfnet.errors import ValidationError

BANDWIDTH_LIMIT = "bandwidth_limit"
MINIMUM_BANDWIDTH = "minimum_bandwidth"
EGRESS = "egress"
# Neutron's own ceiling (2^31-1 kbps, about 2.1 Tbps): above any NIC port shipping today
# (800 Gb/s), so a larger rate is a typo, and every policy Neutron accepts is accepted here.
MAX_KBPS = 2**31 - 1

_RATE_FIELDS = {BANDWIDTH_LIMIT: "max_kbps", MINIMUM_BANDWIDTH: "min_kbps"}
_UNSERVED = {
    "dscp_marking": "a VF has no DSCP rewriting",
    "packet_rate_limit": "a VF limits bits per second, not packets",
    "minimum_packet_rate": "a VF guarantees bits per second, not packets",
}


@dataclass(frozen=True, slots=True)
class QosRule:
    """One rule: ``kbps`` is ``max_kbps`` for a bandwidth limit, ``min_kbps`` for a minimum."""

    type: str
    kbps: int
    direction: str = EGRESS


@dataclass(frozen=True, slots=True)
class QosPolicy:
    id: str
    rules: tuple[QosRule, ...] = ()

    def rate(self, rule_type: str) -> int:
        """The rule's kbps, 0 (no limit, no guarantee) when the policy has no such rule."""
        return next((rule.kbps for rule in self.rules if rule.type == rule_type), 0)


@dataclass(frozen=True, slots=True)
class VfRates:
    """What netlink's ``IFLA_VF_RATE`` takes, always both: an omitted rate is written as 0."""

    min_tx_rate: int
    max_tx_rate: int


def parse_rule(rule_type: str, fields: Mapping[str, object]) -> QosRule:
    """A rule from its API fields, refused with the reason when a VF cannot enforce it."""
    if rule_type in _UNSERVED:
        raise ValidationError("type", f"{rule_type!r} is not supported: {_UNSERVED[rule_type]}")
    rate_field = _RATE_FIELDS.get(rule_type)
    if rate_field is None:
        raise ValidationError(
            "type", f"unknown rule type {rule_type!r}; use {', '.join(_RATE_FIELDS)}"
        )
    direction = fields.get("direction", EGRESS)
    if direction != EGRESS:
        raise ValidationError(
            "direction",
            f"{direction!r} is not supported: a VF shapes only what the instance sends (egress)",
        )
    burst = fields.get("max_burst_kbps", 0)
    if rule_type == BANDWIDTH_LIMIT and burst not in (0, None):
        raise ValidationError("max_burst_kbps", "a VF rate limit has no burst; leave it 0")
    return QosRule(rule_type, _kbps(rate_field, fields.get(rate_field)))


def validate_policy(policy_id: str, rules: Iterable[QosRule]) -> QosPolicy:
    """One rule of each type at most, and a guaranteed minimum no higher than the limit."""
    kept: dict[str, QosRule] = {}
    for rule in rules:
        if rule.type in kept:
            raise ValidationError("rules", f"policy {policy_id!r} already has a {rule.type} rule")
        kept[rule.type] = rule
    policy = QosPolicy(policy_id, tuple(kept.values()))
    low, high = policy.rate(MINIMUM_BANDWIDTH), policy.rate(BANDWIDTH_LIMIT)
    if high and low > high:
        raise ValidationError(
            "min_kbps", f"{low} kbps is above the policy's bandwidth limit of {high} kbps"
        )
    return policy


def effective_policy(port: QosPolicy | None, network: QosPolicy | None) -> QosPolicy | None:
    """The port's own policy wins over its network's, whole (rules are not merged)."""
    return port if port is not None else network


def kbps_to_mbps(kbps: int) -> int:
    """As Neutron's agent converts: 0 stays 0, 1-999 is 1, otherwise rounded half up."""
    if kbps == 0:
        return 0
    return max(1, (kbps + 500) // 1000)


def vf_rates(policy: QosPolicy | None) -> VfRates:
    """The VF's min and max tx rates for ``policy`` (both 0 when there is none)."""
    if policy is None:
        return VfRates(0, 0)
    return VfRates(
        min_tx_rate=kbps_to_mbps(policy.rate(MINIMUM_BANDWIDTH)),
        max_tx_rate=kbps_to_mbps(policy.rate(BANDWIDTH_LIMIT)),
    )


def _kbps(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be a whole number of kbps, not {value!r}")
    if value < 0:
        raise ValidationError(field, f"{value} is negative")
    if value > MAX_KBPS:
        raise ValidationError(
            field, f"{value} kbps is above {MAX_KBPS} kbps (about 2.1 Tbps), faster than any NIC"
        )
    return value
