"""The declared dependency ranges are the tested ones: .ci/oldest.txt pins every
dependency of the package and of its plot and test extras at pyproject.toml's lower
bound, so that the suite can be run on exactly the oldest versions a user may have
(CONTRIBUTING.md, "Tests")."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib")  # Python 3.11+
requirements = pytest.importorskip("packaging.requirements")


def _declared():
    """Each dependency of the package, its plot and test extras -> its lower bound."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in ("plot", "test")
                                      for r in project["optional-dependencies"][extra]]
    bounds = {}
    for text in reqs:
        req = requirements.Requirement(text)
        lower = [s.version for s in req.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{text!r} must have one lower bound (>=)"
        bounds[req.name.lower()] = lower[0]
        if req.name.lower() == "dask" and "distributed" in req.extras:
            bounds["distributed"] = lower[0]  # dask[distributed] pins distributed alike
    return bounds


def _pinned():
    pins = {}
    for line in (ROOT / ".ci" / "oldest.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def _release(version):
    """'1.25' and '1.25.0' alike: the release numbers, trailing zeros dropped."""
    parts = [int(p) for p in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def test_oldest_pins_are_the_declared_lower_bounds():
    declared, pinned = _declared(), _pinned()
    assert sorted(pinned) == sorted(declared)
    for name, bound in declared.items():
        assert _release(pinned[name]) == _release(bound), (name, bound, pinned[name])
