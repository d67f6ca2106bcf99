"""Persistence: the only code with SQL (SQLAlchemy Core, Alembic migrations).

Importing this package never touches a database; ``Store.open`` does.

Public API (``Store``; records are frozen dataclasses from ``vfnet.store.records``):

    Store.open(url=None, *, pool_size=20) -> Store
        url, else VFNET_DATABASE_URL, else sqlite:///<cwd>/vfnet.db; runs Alembic
        ``upgrade head`` (the only way the schema is made). SQLite: WAL, foreign keys,
        busy timeout, writers BEGIN IMMEDIATE. PostgreSQL: postgresql+psycopg://.
    .close()

    Tokens (plaintext returned once; only its sha256 is stored)
    .create_token(role, *, project=None, host=None, name="") -> (plaintext, TokenRecord)
        roles admin | member (needs project) | agent (needs host); else ValidationError
    .token_for(plaintext) -> TokenRecord | None     .list_tokens()     .revoke_token(id)

    Hosts
    .register_host(name, *, numa_sockets=None, physnets=(), bridges=None) -> HostRecord
        idempotent; a second call updates what the host declares, never its inventory
    .get_host(name) -> HostRecord (NotFound)        .list_hosts()
    .host_changes(since) -> (high_water, [host names])
        hosts stamped after ``since`` by a registration, report applied, claim, release,
        allocate or move (one global counter, so a mark never skips a change); start at -1
    .host_facts(names=None) -> [HostFacts]  (vfnet.store.changes) per host: generation,
        free count per PoolKey (empty pools kept), numa_sockets, bridge physnets, has_pci;
        one query for the hosts' rows and one for their devices

    Inventory, devices, pools
    .report_inventory(host, report_generation, devices: Sequence[ReportedDevice])
        -> ReportResult; replaces the host's inventory atomically through
        HostInventory.apply_report: vanished claimed/allocated devices kept and flagged
        ``vanished``, unhealthy devices never schedulable, a duplicate address is a
        ValidationError, a report_generation not newer than the last is ignored
        (``applied`` false, nothing changes)
    .list_devices(*, host=None, dev_type=None, state=None, physnet=None) -> [DeviceRecord]
    .get_device(host, address) -> DeviceRecord (NotFound)
    .list_pools(host=None) -> [PoolRecord]  (vendor, product, numa, dev_type, physnet,
        tags, parent PF, free, total)

    Claims (optimistic concurrency on the host generation, as Placement does; within
    one process, writers on one host also take a per-host lock, so they queue instead
    of losing the compare-and-set and reloading the host)
    .claim(host, owner, requests: Sequence[PciRequest], *, numa_cells=None) -> ClaimRecord
        one transaction: CAS on hosts.generation, device rows, claim rows.
        StaleGeneration when another writer got there first; InsufficientDevices when
        the host cannot serve every request
    .claim_with_retry(..., attempts=5) -> ClaimRecord
    .plan_claim(...) / .commit(plan)  the two halves of ``claim`` (decide, then write)
    .release(owner) -> [ClaimRecord freed]   idempotent: nothing held, nothing freed
    .allocate(owner) -> [ClaimRecord]        claimed -> allocated on every host
    .move_claim(owner, new_owner) -> [ClaimRecord]
    .claims_of(owner) -> [ClaimRecord]       one per host

    Flavors
    .create_flavor(name, vcpus, ram_mb, numa_cells=0, extra_specs=None) -> FlavorRecord
    .get_flavor(name)   .list_flavors()   .delete_flavor(name)

    Placements (where an instance went, under which claim owner)
    .record_placement(instance_id, claim, *, project=None, request=None) -> PlacementRecord
    .get_placement(instance_id)  .list_placements(*, project=None)  .move_placement(...)
    .delete_placement(instance_id)

    Networking (``vfnet.store.networking``; pure checks from ``vfnet.network``, unique
    keys behind them; a write that trips one reruns and raises the domain error)
    .create_network(network) -> NetworkRecord       Conflict on a taken segment
    .get_network(id)  .list_networks(*, project_id=None)  (own project's + shared)
    .update_network(id, **changes)  name, admin_state_up, shared, qos_policy_id
    .delete_network(id)                             InUse while it has ports
    .create_subnet(request, *, project_id) -> SubnetRecord   Conflict on overlap
    .get_subnet(id)  .list_subnets(*, network_id=None)  .update_subnet(id, **changes)
    .delete_subnet(id)                              InUse while addresses are held
    .create_port(request, *, project_id, role, mac_address=None, fixed_ips=None,
                 base_mac=None, random=None) -> PortRecord
        one transaction: MAC given or generated, fixed IPs asked ([FixedIpRequest]) or
        the lowest free of the first subnet of each IP version (None), none ([])
    .get_port(id)  .list_ports(*, network_id=None, project_id=None, host=None)
    .update_port(id, changes, *, role)  .delete_port(id) -> PortRecord (as it was)
    .set_port_binding(id, *, host, vif_type, vif_details, profile, status,
                      failure_reason, claim_owner, mac_address=None)
    .clear_port_binding(id)  .set_port_status(id, status)
    .create_qos_policy(policy, *, name, project_id, shared=False) -> QosPolicyRecord
    .get_qos_policy(id)  .list_qos_policies(*, project_id=None)
    .update_qos_policy(id, *, name=None, rules=None, shared=None)
    .delete_qos_policy(id)                          InUse while a network or port uses it
"""

from vfnet.store.records import (
    ClaimedDevice,
    ClaimRecord,
    DeviceRecord,
    FixedIp,
    FixedIpRequest,
    FlavorRecord,
    HostRecord,
    NetworkRecord,
    PlacementRecord,
    PoolRecord,
    PortRecord,
    QosPolicyRecord,
    ReportedDevice,
    ReportResult,
    SubnetRecord,
    TokenRecord,
)
from vfnet.store.store import Store

__all__ = [
    "ClaimRecord",
    "ClaimedDevice",
    "DeviceRecord",
    "FixedIp",
    "FixedIpRequest",
    "FlavorRecord",
    "HostRecord",
    "NetworkRecord",
    "PlacementRecord",
    "PoolRecord",
    "PortRecord",
    "QosPolicyRecord",
    "ReportResult",
    "ReportedDevice",
    "Store",
    "SubnetRecord",
    "TokenRecord",
]
