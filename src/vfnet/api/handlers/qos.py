"""Handlers of /v1/qos-policies: admins write policies; everyone reads shared and own ones."""

from __future__ import annotations

from collections.abc import Sequence

from vfnet.api.context import Context, Ctx
from vfnet.api.handlers.networks import may_read
from vfnet.api.schemas.base import given
from vfnet.api.schemas.qos import (
    QosPolicyIn,
    QosPolicyList,
    QosPolicyOut,
    QosPolicyUpdate,
    RuleIn,
)
from vfnet.errors import NotFound, ValidationError
from vfnet.network.qos import BANDWIDTH_LIMIT, QosPolicy, QosRule, parse_rule, validate_policy
from vfnet.store.records import QosPolicyRecord

_RATE_FIELD = {BANDWIDTH_LIMIT: "max_kbps"}


def render_rule(rule: QosRule) -> dict[str, str | int]:
    return {"type": rule.type, _RATE_FIELD.get(rule.type, "min_kbps"): rule.kbps,
            "direction": rule.direction}  # fmt: skip


def render(policy: QosPolicyRecord) -> QosPolicyOut:
    return QosPolicyOut(
        id=policy.id,
        name=policy.name,
        project_id=policy.project_id,
        shared=policy.shared,
        rules=[render_rule(rule) for rule in policy.rules],
        created_at=policy.created_at,
    )


def visible_policy(ctx: Context, policy_id: str) -> QosPolicyRecord:
    """The policy, or NotFound when it is missing or the caller may not see it."""
    policy = ctx.store.get_qos_policy(policy_id)
    if not may_read(ctx, policy.project_id, shared=policy.shared):
        raise NotFound("qos_policy", policy_id)
    return policy


def checked_rules(policy_id: str, rules: Sequence[RuleIn]) -> QosPolicy:
    """The rules as a policy a VF can enforce; a refusal names ``rules[i].<field>``."""
    parsed = []
    for index, rule in enumerate(rules):
        try:
            parsed.append(parse_rule(rule.type, rule.fields()))
        except ValidationError as error:
            raise ValidationError(f"rules[{index}].{error.field}", error.reason) from None
    try:
        return validate_policy(policy_id, parsed)
    except ValidationError as error:
        # The only cross-rule field is the minimum's rate: point at that rule.
        where = next((i for i, r in enumerate(parsed) if r.type != BANDWIDTH_LIMIT), None)
        field = error.field if where is None else f"rules[{where}].{error.field}"
        raise ValidationError(field, error.reason) from None


def list_qos_policies(ctx: Ctx) -> QosPolicyList:
    """GET /v1/qos-policies: every policy (admin, agent), else the project's and shared ones."""
    project = None if ctx.principal.reads_everything else ctx.principal.project or ""
    return QosPolicyList(
        qos_policies=[render(p) for p in ctx.store.list_qos_policies(project_id=project)]
    )


def get_qos_policy(policy_id: str, ctx: Ctx) -> QosPolicyOut:
    """GET /v1/qos-policies/{policy_id}."""
    return render(visible_policy(ctx, policy_id))


def create_qos_policy(body: QosPolicyIn, ctx: Ctx) -> QosPolicyOut:
    """POST /v1/qos-policies (admin): 201.

    Raises:
        ValidationError: a negative or absurd rate, a minimum above the limit, a rule a
            VF cannot enforce (400, naming ``rules[i].<field>``).
    """
    policy = checked_rules("", body.rules)
    project = body.project_id or ctx.principal.project or ctx.principal.role.value
    created = ctx.store.create_qos_policy(
        policy, name=body.name, project_id=project, shared=body.shared
    )
    return render(created)


def update_qos_policy(policy_id: str, body: QosPolicyUpdate, ctx: Ctx) -> QosPolicyOut:
    """PUT /v1/qos-policies/{policy_id} (admin): ``rules`` given replaces them all."""
    sent = given(body)
    rules = checked_rules(policy_id, body.rules).rules if "rules" in sent else None
    updated = ctx.store.update_qos_policy(
        policy_id,
        name=body.name if "name" in sent else None,
        rules=rules,
        shared=body.shared if "shared" in sent else None,
    )
    return render(updated)


def delete_qos_policy(policy_id: str, ctx: Ctx) -> None:
    """DELETE /v1/qos-policies/{policy_id} (admin): 204; 409 ``in_use`` while attached."""
    ctx.store.delete_qos_policy(policy_id)
