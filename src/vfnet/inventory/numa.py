"""PCI NUMA affinity policies: which pools an instance pinned to some host NUMA cells may use.

Public API: numa_filter(found, counts, numa_nodes, request, numa_cells, sockets) -> list[int]

Pools are given by index; ``numa_nodes[i]`` is pool i's node (``None``: unknown) and
``counts[i]`` its free count. Only called when the instance has a NUMA topology.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from vfnet.inventory.requests import NumaPolicy, PciRequest

Policy = Callable[
    [list[int], Sequence[int], Sequence[int | None], int, frozenset[int], Mapping[int, int | None]],
    list[int],
]


def _total(found: list[int], counts: Sequence[int]) -> int:
    return sum(counts[i] for i in found)


def _affine(found: list[int], nodes: Sequence[int | None], cells: frozenset[int]) -> list[int]:
    return [i for i in found if nodes[i] in cells]


def _affine_or_unknown(
    found: list[int], nodes: Sequence[int | None], cells: frozenset[int]
) -> list[int]:
    return [i for i in found if nodes[i] is None or nodes[i] in cells]


def _required(
    found: list[int],
    counts: Sequence[int],
    nodes: Sequence[int | None],
    count: int,
    cells: frozenset[int],
    sockets: Mapping[int, int | None],
) -> list[int]:
    return _affine(found, nodes, cells)


def _legacy(
    found: list[int],
    counts: Sequence[int],
    nodes: Sequence[int | None],
    count: int,
    cells: frozenset[int],
    sockets: Mapping[int, int | None],
) -> list[int]:
    affine = _affine(found, nodes, cells)
    if _total(affine, counts) >= count:
        return affine
    return _affine_or_unknown(found, nodes, cells)


def _preferred(
    found: list[int],
    counts: Sequence[int],
    nodes: Sequence[int | None],
    count: int,
    cells: frozenset[int],
    sockets: Mapping[int, int | None],
) -> list[int]:
    near = _legacy(found, counts, nodes, count, cells, sockets)
    if _total(near, counts) >= count:
        return near

    # Any pool will do, but affine ones are used up first, then unknown, then the rest.
    def distance(index: int) -> int:
        node = nodes[index]
        return 0 if node in cells else 1 if node is None else 2

    return sorted(found, key=distance)


def _socket(
    found: list[int],
    counts: Sequence[int],
    nodes: Sequence[int | None],
    count: int,
    cells: frozenset[int],
    sockets: Mapping[int, int | None],
) -> list[int]:
    affine = _affine(found, nodes, cells)
    if _total(affine, counts) >= count:
        return affine
    if any(sockets.get(node) is None for node in (*sockets, *cells)):
        return []  # a host cell without socket information: nothing can be proven close
    wanted = {sockets[cell] for cell in cells}
    return [i for i in found if (node := nodes[i]) is not None and sockets.get(node) in wanted]


POLICIES: Mapping[NumaPolicy, Policy] = {
    NumaPolicy.REQUIRED: _required,
    NumaPolicy.LEGACY: _legacy,
    NumaPolicy.PREFERRED: _preferred,
    NumaPolicy.SOCKET: _socket,
}


def numa_filter(
    found: list[int],
    counts: Sequence[int],
    numa_nodes: Sequence[int | None],
    request: PciRequest,
    numa_cells: frozenset[int],
    sockets: Mapping[int, int | None],
) -> list[int]:
    """The pools ``request``'s NUMA policy allows, in the order to consume them."""
    policy = POLICIES[request.numa_policy]
    return policy(found, counts, numa_nodes, request.count, numa_cells, sockets)
