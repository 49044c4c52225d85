"""A private, rate-limited network path: a network namespace behind a veth pair with a ``tc tbf`` qdisc.

The book measures "pull time on a node with a 100 Mbit/s link" without touching the host's
loopback or any interface it did not make: it creates a namespace with its own address,
shapes the namespace's side of a veth pair (traffic *from* the namespace, i.e. what a
server inside it sends to the host), and removes all of it on exit.

>>> with shaped_netns(rate_mbit=100) as link:  # doctest: +SKIP
...     link.ns_ip   # run a server with `ip netns exec link.netns ...` and reach it here
'10.209.17.2'
"""

from __future__ import annotations

import ipaddress
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dockerlab import runstate
from dockerlab.errors import NetworkShapingError
from dockerlab.privileged import LabContainer, lab_container, needs_lab, temp_root

#: Private range the book takes /30 subnets from (RFC 1918; not used by Docker's default pools).
POOL = ipaddress.IPv4Network("10.209.0.0/16")


@dataclass(frozen=True)
class LinkPlan:
    """Names and addresses of one shaped path: namespace, veth ends, a /30 subnet."""

    netns: str
    host_if: str
    ns_if: str
    subnet: ipaddress.IPv4Network

    @property
    def host_ip(self) -> str:
        return str(self.subnet.network_address + 1)

    @property
    def ns_ip(self) -> str:
        return str(self.subnet.network_address + 2)


def plan_link(token: str, used: Iterable[ipaddress.IPv4Network], rng: random.Random | None = None) -> LinkPlan:
    """Names from ``token`` (interface names stay within Linux's 15 characters) and a /30 in :data:`POOL`
    that overlaps nothing ``used``.

    >>> p = plan_link("a1b2c", [], random.Random(0))
    >>> p.netns, p.host_if, p.ns_if, p.subnet.prefixlen
    ('ch09-shaped-a1b2c', 'c9s-a1b2c-h', 'c9s-a1b2c-n', 30)
    """
    if not token.isalnum() or len(token) > 6:
        raise NetworkShapingError(f"the link token {token!r} must be up to 6 letters or digits.")
    taken = list(used)
    candidates = [net for net in POOL.subnets(new_prefix=30) if not any(net.overlaps(u) for u in taken)]
    if not candidates:
        raise NetworkShapingError(f"no free /30 subnet is left in {POOL}.")
    subnet = (rng or random.Random()).choice(candidates)
    return LinkPlan(netns=f"ch09-shaped-{token}", host_if=f"c9s-{token}-h", ns_if=f"c9s-{token}-n", subnet=subnet)


def tbf_command(dev: str, rate_mbit: int, *, burst_bytes: int = 256 * 1024, latency_ms: int = 100) -> list[str]:
    """``tc`` arguments for a token bucket filter of ``rate_mbit`` Mbit/s on ``dev`` (egress).

    >>> tbf_command("eth9", 100)
    ['tc', 'qdisc', 'add', 'dev', 'eth9', 'root', 'tbf', 'rate', '100mbit', 'burst', '262144', 'latency', '100ms']
    """
    if rate_mbit <= 0:
        raise NetworkShapingError(f"a link rate must be positive, not {rate_mbit} Mbit/s.")
    return ["tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", f"{rate_mbit}mbit",
            "burst", str(burst_bytes), "latency", f"{latency_ms}ms"]


def used_networks(ip_output: str) -> list[ipaddress.IPv4Network]:
    """IPv4 networks found in ``ip -4 -o addr`` / ``ip -4 route`` output (one address or route a line).

    >>> used_networks("4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\n10.209.0.0/30 dev x")
    [IPv4Network('192.0.2.0/24'), IPv4Network('10.209.0.0/30')]
    """
    found: list[ipaddress.IPv4Network] = []
    for line in ip_output.splitlines():
        for word in line.split():
            if "/" in word and word[0].isdigit():
                try:
                    found.append(ipaddress.IPv4Network(word, strict=False))
                except ValueError:
                    continue
    return found


#: The lab container each live namespace was made in, when this process is not root (dockerlab.privileged).
_LABS: dict[str, LabContainer] = {}


def in_netns(netns: str, command: list[str]) -> list[str]:
    """``ip netns exec NETNS COMMAND...``, run in the lab container that holds ``netns`` when there is one.

    >>> in_netns("ch09-shaped-x", ["registry", "serve"])
    ['ip', 'netns', 'exec', 'ch09-shaped-x', 'registry', 'serve']
    """
    argv = ["ip", "netns", "exec", netns, *command]
    lab = _LABS.get(netns)
    return lab.argv(argv) if lab else argv


def stop_in_netns(netns: str, pattern: str, grace: float = 10.0) -> None:
    """Stop the processes whose command line contains ``pattern`` that run in the lab container holding ``netns``.

    (As root a server in the namespace is this process's own child and is stopped as such. In a lab container
    it was started through ``docker exec``, which does not pass signals on: stopping the client would leave the
    server running, still answering on the namespace's address.) Quiet when there is no such lab or process.
    """
    lab = _LABS.get(netns)
    if lab is None:
        return
    lab.run(["pkill", "-TERM", "-f", pattern])
    deadline = time.monotonic() + grace
    while lab.run(["pgrep", "-f", pattern]).returncode == 0:
        if time.monotonic() > deadline:
            lab.run(["pkill", "-KILL", "-f", pattern])
            break
        time.sleep(0.1)


def _ip(*args: str, check: bool = True, lab: LabContainer | None = None) -> subprocess.CompletedProcess[str]:
    proc = lab.run(args) if lab else subprocess.run(list(args), text=True, capture_output=True)
    if check and proc.returncode != 0:
        raise NetworkShapingError(f"`{' '.join(args)}` failed: {proc.stderr.strip() or proc.returncode}.")
    return proc


def netns_exists(name: str, lab: LabContainer | None = None) -> bool:
    """True when ``ip netns list`` shows ``name``."""
    listed = _ip("ip", "netns", "list", check=False, lab=lab).stdout.split("\n")
    return any(line.split(" ")[0] == name for line in listed)


def link_exists(name: str, lab: LabContainer | None = None) -> bool:
    """True when the host has a network interface called ``name``."""
    return _ip("ip", "link", "show", "dev", name, check=False, lab=lab).returncode == 0


@dataclass(frozen=True)
class ShapedLink:
    """A live shaped path: servers run with ``ip netns exec netns ...`` and listen on ``ns_ip``."""

    plan: LinkPlan
    rate_mbit: int

    @property
    def netns(self) -> str:
        return self.plan.netns

    @property
    def ns_ip(self) -> str:
        return self.plan.ns_ip

    def qdisc(self) -> str:
        """``tc qdisc show`` of the shaped interface, to show the reader the limit in force."""
        return _ip(*in_netns(self.netns, ["tc", "qdisc", "show", "dev", self.plan.ns_if])).stdout.strip()


def _kill_namespace_processes(netns: str, lab: LabContainer | None = None) -> None:
    # Only processes inside the namespace this module made: the servers the caller started there.
    if lab is not None:
        lab.run(["sh", "-c", f"ip netns pids {netns} | xargs -r kill -9"])
        return
    pids = _ip("ip", "netns", "pids", netns, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def remove_link(plan: LinkPlan, lab: LabContainer | None = None) -> None:
    """Remove the veth pair (its qdisc goes with it) and the namespace; quiet when already gone."""
    if netns_exists(plan.netns, lab):
        _kill_namespace_processes(plan.netns, lab)
    if link_exists(plan.host_if, lab):
        _ip("ip", "link", "del", plan.host_if, check=False, lab=lab)
    if netns_exists(plan.netns, lab):
        _ip("ip", "netns", "del", plan.netns, check=False, lab=lab)
    if netns_exists(plan.netns, lab) or link_exists(plan.host_if, lab):
        raise NetworkShapingError(
            f"could not remove the network namespace {plan.netns} or the interface {plan.host_if}."
        )


@contextmanager
def shaped_netns(rate_mbit: int = 100, *, token: str | None = None) -> Iterator[ShapedLink]:
    """Make a namespace reachable from the host over a veth pair whose namespace side sends at ``rate_mbit``.

    As root this happens on the host; otherwise in a privileged lab container on the host's network
    (:mod:`dockerlab.privileged`), which holds the namespace and the servers started in it with
    :func:`in_netns`. Everything is removed on exit, also when the block fails.
    """
    if not needs_lab():
        with _shaped_netns(rate_mbit, token, None) as link:
            yield link
        return
    # The lab sees the temp folder at the same path: a server's config and storage made there by this process.
    with lab_container("shaped-link", binds=[temp_root()]) as lab, _shaped_netns(rate_mbit, token, lab) as link:
        yield link


@contextmanager
def _shaped_netns(rate_mbit: int, token: str | None, lab: LabContainer | None) -> Iterator[ShapedLink]:
    token = token or f"{os.getpid() % 100000:05d}"[-5:] + random.choice("abcdefghij")
    addresses = _ip("ip", "-4", "-o", "addr", lab=lab).stdout + "\n" + _ip("ip", "-4", "route", lab=lab).stdout
    used = used_networks(addresses)
    plan = plan_link(token, used)
    if netns_exists(plan.netns, lab) or link_exists(plan.host_if, lab):
        raise NetworkShapingError(f"the network namespace {plan.netns} already exists; is another build using it?")
    # Written down before they exist, so a killed run's namespace and veth are swept (dockerlab.runstate).
    # (In a lab container the namespace lives in the container's own mount namespace and goes with it.)
    records = [runstate.register("link", plan.host_if)]
    if lab is None:
        records.append(runstate.register("netns", plan.netns))
    else:
        _LABS[plan.netns] = lab
    try:
        _ip("ip", "netns", "add", plan.netns, lab=lab)
        _ip("ip", "link", "add", plan.host_if, "type", "veth", "peer", "name", plan.ns_if, lab=lab)
        _ip("ip", "link", "set", plan.ns_if, "netns", plan.netns, lab=lab)
        _ip("ip", "addr", "add", f"{plan.host_ip}/30", "dev", plan.host_if, lab=lab)
        _ip("ip", "link", "set", plan.host_if, "up", lab=lab)
        inside = ("ip", "netns", "exec", plan.netns)
        _ip(*inside, "ip", "addr", "add", f"{plan.ns_ip}/30", "dev", plan.ns_if, lab=lab)
        _ip(*inside, "ip", "link", "set", plan.ns_if, "up", lab=lab)
        _ip(*inside, "ip", "link", "set", "lo", "up", lab=lab)
        _ip(*inside, *tbf_command(plan.ns_if, rate_mbit), lab=lab)
        yield ShapedLink(plan=plan, rate_mbit=rate_mbit)
    finally:
        _LABS.pop(plan.netns, None)
        remove_link(plan, lab)
        for record in records:
            runstate.release(record)
