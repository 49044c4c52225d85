"""After a full build, every example image is within its budget, and every example image has one."""

from dockerlab.budgets import check_budgets, load_budgets
from dockerlab.examples import EXAMPLE_LABEL
from tests.conftest import ROOT

BUDGETS = ROOT / "budgets.toml"


def test_every_image_is_within_its_budget(built_book, engine) -> None:
    over = [b.sentence() for b in check_budgets(BUDGETS) if not b.ok]
    assert over == []


def test_every_example_image_has_a_budget(built_book, engine) -> None:
    budgeted = set(load_budgets(BUDGETS))
    built = {tag for image in engine.images.list(filters={"label": EXAMPLE_LABEL}) for tag in image.tags
             if tag.startswith("ch09/") and not tag.startswith("ch09/test-")}
    assert sorted(built - budgeted) == []
