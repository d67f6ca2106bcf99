"""QoS: rules a VF can enforce, absurd or inconsistent rates refused, kbps to VF Mbps."""

from __future__ import annotations

import pytest

from vfnet.errors import ValidationError
from vfnet.network.qos import (
    BANDWIDTH_LIMIT,
    MAX_KBPS,
    MINIMUM_BANDWIDTH,
    QosPolicy,
    QosRule,
    VfRates,
    effective_policy,
    kbps_to_mbps,
    parse_rule,
    validate_policy,
    vf_rates,
)


@pytest.mark.parametrize(
    ("rule_type", "fields", "expected"),
    [
        (BANDWIDTH_LIMIT, {"max_kbps": 10_000}, QosRule(BANDWIDTH_LIMIT, 10_000)),
        (BANDWIDTH_LIMIT, {"max_kbps": 0, "max_burst_kbps": 0}, QosRule(BANDWIDTH_LIMIT, 0)),
        (
            MINIMUM_BANDWIDTH,
            {"min_kbps": 1000, "direction": "egress"},
            QosRule(MINIMUM_BANDWIDTH, 1000),
        ),
        (BANDWIDTH_LIMIT, {"max_kbps": MAX_KBPS}, QosRule(BANDWIDTH_LIMIT, MAX_KBPS)),
    ],
)
def test_a_rule_a_vf_can_enforce_parses(rule_type, fields, expected):
    assert parse_rule(rule_type, fields) == expected


@pytest.mark.parametrize(
    ("rule_type", "fields", "field", "words"),
    [
        (BANDWIDTH_LIMIT, {"max_kbps": -1}, "max_kbps", "negative"),
        (MINIMUM_BANDWIDTH, {"min_kbps": -5}, "min_kbps", "negative"),
        (BANDWIDTH_LIMIT, {"max_kbps": MAX_KBPS + 1}, "max_kbps", "2.1 Tbps"),
        (BANDWIDTH_LIMIT, {"max_kbps": "100"}, "max_kbps", "whole number"),
        (BANDWIDTH_LIMIT, {}, "max_kbps", "whole number"),
        (BANDWIDTH_LIMIT, {"max_kbps": 100, "direction": "ingress"}, "direction", "egress"),
        (MINIMUM_BANDWIDTH, {"min_kbps": 100, "direction": "ingress"}, "direction", "egress"),
        (BANDWIDTH_LIMIT, {"max_kbps": 100, "max_burst_kbps": 80}, "max_burst_kbps", "no burst"),
        ("dscp_marking", {"dscp_mark": 26}, "type", "DSCP"),
        ("packet_rate_limit", {}, "type", "packets"),
        ("shaping", {}, "type", "unknown rule type"),
    ],
)
def test_a_rule_a_vf_cannot_enforce_is_refused_with_the_reason(rule_type, fields, field, words):
    with pytest.raises(ValidationError) as error:
        parse_rule(rule_type, fields)
    assert error.value.field == field
    assert words in error.value.reason


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([QosRule(MINIMUM_BANDWIDTH, 2000), QosRule(BANDWIDTH_LIMIT, 1000)], "min_kbps"),
        ([QosRule(BANDWIDTH_LIMIT, 1000), QosRule(BANDWIDTH_LIMIT, 2000)], "rules"),
    ],
)
def test_a_minimum_above_the_limit_or_a_repeated_rule_is_refused(rules, field):
    with pytest.raises(ValidationError) as error:
        validate_policy("gold", rules)
    assert error.value.field == field


@pytest.mark.parametrize(
    "rules",
    [
        [QosRule(MINIMUM_BANDWIDTH, 1000), QosRule(BANDWIDTH_LIMIT, 1000)],
        [QosRule(MINIMUM_BANDWIDTH, 5000), QosRule(BANDWIDTH_LIMIT, 0)],  # 0: no limit
        [QosRule(MINIMUM_BANDWIDTH, 5000)],
        [],
    ],
)
def test_a_minimum_at_or_below_the_limit_is_accepted(rules):
    assert validate_policy("gold", rules).rules == tuple(rules)


@pytest.mark.parametrize(
    ("kbps", "mbps"),
    [
        (0, 0),
        (1, 1),
        (999, 1),
        (1000, 1),
        (1499, 1),
        (1500, 2),
        (2499, 2),
        (2500, 3),
        (10**6, 1000),
    ],
)
def test_kbps_become_vf_mbps_as_neutrons_agent_rounds(kbps, mbps):
    assert kbps_to_mbps(kbps) == mbps


@pytest.mark.parametrize(
    ("rules", "rates"),
    [
        ([QosRule(BANDWIDTH_LIMIT, 10_000)], VfRates(0, 10)),
        ([QosRule(MINIMUM_BANDWIDTH, 500)], VfRates(1, 0)),
        ([QosRule(MINIMUM_BANDWIDTH, 2500), QosRule(BANDWIDTH_LIMIT, 9_600)], VfRates(3, 10)),
        ([], VfRates(0, 0)),
    ],
)
def test_a_policy_gives_both_vf_rates_together(rules, rates):
    assert vf_rates(QosPolicy("p", tuple(rules))) == rates


def test_no_policy_clears_both_vf_rates():
    assert vf_rates(None) == VfRates(0, 0)


@pytest.mark.parametrize(
    ("port", "network", "winner"),
    [("port", "net", "port"), (None, "net", "net"), ("port", None, "port"), (None, None, None)],
)
def test_a_port_policy_wins_over_its_network_policy(port, network, winner):
    policies = {name: QosPolicy(name) for name in ("port", "net")}
    chosen = effective_policy(policies.get(port), policies.get(network))
    assert (chosen.id if chosen else None) == winner
