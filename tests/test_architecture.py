"""The pipeline's direction (sources <- facts <- probes <- controls <- reports / register / fix <-
cli / web), as .importlinter declares it, holds: a new import against it fails here."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"


def _lint(config: Path) -> int:
    return lint_imports(config_filename=str(config), no_cache=True, no_logo=True)


def test_imports_follow_the_pipelines_direction(capsys: pytest.CaptureFixture[str]) -> None:
    code = _lint(CONFIG)
    assert code == 0, capsys.readouterr().out


def test_the_contracts_see_imports_against_the_direction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without its exceptions the same contracts fail: they are live, and each exception is needed.
    kept = [
        line
        for line in CONFIG.read_text("utf-8").splitlines()
        if " -> " not in line or line.lstrip().startswith("#")
    ]
    bare = tmp_path / "bare.importlinter"
    bare.write_text("\n".join(kept) + "\n", "utf-8")
    assert _lint(bare) == 1
    out = capsys.readouterr().out
    assert "secposture.sources is not allowed to import secposture.facts" in out


def test_a_reversed_layer_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reversed_layers = tmp_path / "reversed.importlinter"
    reversed_layers.write_text(
        "[importlinter]\nroot_package = secposture\n\n"
        "[importlinter:contract:upside-down]\nname = upside down\ntype = layers\n"
        "layers =\n    secposture.facts\n    secposture.probes\n",  # upside down: facts above
        "utf-8",
    )
    assert _lint(reversed_layers) == 1
    assert "secposture.probes is not allowed to import secposture.facts" in capsys.readouterr().out


@pytest.mark.parametrize(
    "tables", ["web_accounts", "deliveries", "watch_tables"], ids=lambda name: name
)
def test_the_register_tables_kept_apart_do_not_import_models_back(tables: str) -> None:
    # models.py imports them so that its metadata holds every table; they build on base.py.
    graph = grimp.build_graph("secposture", cache_dir=None)
    assert graph.direct_import_exists(
        importer="secposture.register.models", imported=f"secposture.register.{tables}"
    )
    chain = graph.find_shortest_chain(
        importer=f"secposture.register.{tables}", imported="secposture.register.models"
    )
    assert chain is None, " -> ".join(chain or ())
