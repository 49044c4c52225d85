"""After a full build, every example image is within its budget, and every example image has one.

The sizes are the engine's, as each page's artefact recorded them right after the page ran
(``built_book.images()``): the book may be tested where it was not executed.
"""

from dockerlab.budgets import Budget, load_budgets
from dockerlab.examples import EXAMPLE_LABEL
from tests.conftest import ROOT

BUDGETS = ROOT / "budgets.toml"


def test_every_image_is_within_its_budget(built_book) -> None:
    images = built_book.images()
    budgets = [Budget(tag, limit, images[tag].size if tag in images else None)
               for tag, limit in load_budgets(BUDGETS).items()]
    assert [b.sentence() for b in budgets if not b.ok] == []


def test_every_example_image_has_a_budget(built_book) -> None:
    budgeted = set(load_budgets(BUDGETS))
    built = {tag for tag, stats in built_book.images().items()
             if stats.label(EXAMPLE_LABEL) and tag.startswith("ch09/") and not tag.startswith("ch09/test-")}
    assert built, "no page recorded an image built from an example"
    assert sorted(built - budgeted) == []
