"""The base-image pull path, tested against a real local registry: the same code that pulls from
Docker Hub when it answers, pointed at another host."""

import pytest

from dockerlab.bases import ensure_base
from dockerlab.registry import local_registry, push_image


@pytest.fixture
def registry_with_busybox(engine, tracked):
    ensure_base("busybox:latest", client=engine)
    # The same image under a name no base recipe knows, so only a pull can produce it.
    engine.api.tag("busybox:latest", "ch09test/pulled-busybox", "1")
    tracked.image("ch09test/pulled-busybox:1")
    with local_registry() as registry:
        push_image("ch09test/pulled-busybox:1", registry, client=engine)
        engine.api.remove_image("ch09test/pulled-busybox:1", noprune=True)
        yield registry


def test_a_missing_base_is_pulled_from_the_registry_and_tagged(engine, registry_with_busybox) -> None:
    registry = registry_with_busybox
    base = ensure_base("ch09test/pulled-busybox:1", registry=registry.address, client=engine)
    assert base.origin == "pulled"
    assert base.detail.startswith(f"{registry.address}/ch09test/pulled-busybox@sha256:")
    assert base.id == engine.images.get("busybox:latest").id  # the very same image came back
    # Kept, not pulled again, once present.
    assert ensure_base("ch09test/pulled-busybox:1", registry="127.0.0.1:9", client=engine).id == base.id
    engine.api.remove_image(f"{registry.address}/ch09test/pulled-busybox:1", noprune=True)
