"""The declared dependency ranges are the tested ones: .ci/oldest.txt pins every
dependency of the package and of its plot, test and dask extras at pyproject.toml's
lower bound, so that the suite can be run on exactly the oldest versions a user may
have (.ci/run runs its default tier on them; CONTRIBUTING.md, "Tests")."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib")  # Python 3.11+
packaging = pytest.importorskip("packaging")
from packaging.requirements import Requirement  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402
from packaging.version import Version  # noqa: E402

#: The extras whose packages .ci/oldest.txt pins (interop's need pandas < 3 and are
#: tested at their newest in .ci/run).
PINNED_EXTRAS = ("plot", "test", "dask")


def _declared():
    """Each dependency of the package and of PINNED_EXTRAS -> its lower bound."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in PINNED_EXTRAS
                                      for r in project["optional-dependencies"][extra]]
    bounds = {}
    for text in reqs:
        req = Requirement(text)
        lower = [Version(s.version) for s in req.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{text!r} must have one lower bound (>=)"
        names = [req.name] + (["distributed"] if req.name == "dask"
                              and "distributed" in req.extras else [])
        for name in map(canonicalize_name, names):  # dask[distributed] pins distributed alike
            assert bounds.setdefault(name, lower[0]) == lower[0], \
                f"{name} has two lower bounds: {bounds[name]} and {lower[0]}"
    return bounds


def _pinned():
    """Each package .ci/oldest.txt pins -> its version (one exact ``==`` pin a line)."""
    pins = {}
    for line in (ROOT / ".ci" / "oldest.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==" and not req.extras and req.marker is None, line
            pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


def test_oldest_pins_are_the_declared_lower_bounds():
    declared, pinned = _declared(), _pinned()
    assert sorted(pinned) == sorted(declared)
    for name, bound in declared.items():
        assert pinned[name] == bound, (name, str(bound), str(pinned[name]))  # 1.25 == 1.25.0


def test_the_sktime_adapter_says_what_to_install_without_sktime(monkeypatch):
    # an optional extra: a bare "No module named 'sktime'" named no extra
    import importlib
    import sys
    monkeypatch.setitem(sys.modules, "sktime", None)
    monkeypatch.setitem(sys.modules, "sktime.forecasting.base", None)
    monkeypatch.delitem(sys.modules, "tsbptt.sktime", raising=False)
    with pytest.raises(ModuleNotFoundError, match=r"tsbptt\.sktime needs sktime .*"
                                                  r"pip install 'tsbptt\[interop\]'"):
        importlib.import_module("tsbptt.sktime")
