"""The wheel ships every package and the bundled data the product needs at run time."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_declared() -> None:
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("analyzer", "dissectors", "captures")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk <= declared, f"not declared in pyproject.toml: {sorted(on_disk - declared)}"


def test_bundled_sample_exists() -> None:
    from captures.samples import sample_path

    assert sample_path().is_file()
    assert sample_path().stat().st_size > 1000
