"""dockerlab.netshape without touching the network: names, subnets, the tc command."""

from __future__ import annotations

import ipaddress
import random

import pytest

from dockerlab.netshape import POOL, NetworkShapingError, plan_link, tbf_command, used_networks


def test_names_fit_linux_interface_names_and_addresses_share_a_30() -> None:
    plan = plan_link("12345a", [], random.Random(1))
    assert len(plan.host_if) <= 15 and len(plan.ns_if) <= 15
    assert plan.netns.startswith("ch09-shaped-")
    subnet = ipaddress.IPv4Network(f"{plan.host_ip}/30", strict=False)
    assert subnet == plan.subnet and ipaddress.IPv4Address(plan.ns_ip) in subnet
    assert plan.subnet.subnet_of(POOL)


def test_a_subnet_in_use_is_never_chosen() -> None:
    free = ipaddress.IPv4Network("10.209.77.8/30")
    used = [net for net in POOL.subnets(new_prefix=24) if not net.overlaps(free)]
    used += [net for net in ipaddress.IPv4Network("10.209.77.0/24").subnets(new_prefix=30) if net != free]
    assert plan_link("abc", used, random.Random(7)).subnet == free


def test_a_full_pool_is_one_sentence() -> None:
    with pytest.raises(NetworkShapingError, match=r"no free /30 subnet is left in 10\.209\.0\.0/16\."):
        plan_link("abc", [POOL])


@pytest.mark.parametrize("token", ["", "has-dash", "toolong7"])
def test_tokens_that_would_break_interface_names_are_refused(token: str) -> None:
    with pytest.raises(NetworkShapingError, match="must be up to 6 letters or digits"):
        plan_link(token, [])


def test_tbf_limits_the_rate_in_megabits() -> None:
    command = tbf_command("c9s-x-n", 100, burst_bytes=131072, latency_ms=50)
    assert command[:7] == ["tc", "qdisc", "add", "dev", "c9s-x-n", "root", "tbf"]
    assert command[7:] == ["rate", "100mbit", "burst", "131072", "latency", "50ms"]


def test_a_rate_of_zero_is_refused() -> None:
    with pytest.raises(NetworkShapingError, match="must be positive"):
        tbf_command("x", 0)


def test_used_networks_reads_addresses_and_routes() -> None:
    text = (
        "1: lo    inet 127.0.0.1/8 scope host lo\n"
        "5: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\n"
        "default via 192.0.2.1 dev eth0\n"
        "10.209.3.4/30 dev c9s-1-h proto kernel scope link src 10.209.3.5\n"
    )
    assert used_networks(text) == [
        ipaddress.IPv4Network("127.0.0.0/8"),
        ipaddress.IPv4Network("172.17.0.0/16"),
        ipaddress.IPv4Network("10.209.3.4/30"),
    ]
