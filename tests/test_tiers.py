"""The test tiers: `pytest` leaves out the tests marked slow, `pytest --slow` (what
.ci/run runs) takes them too."""
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _collected(cwd, *args):
    """Node ids pytest collects from test_accuracy.py and test_losses.py.

    Run from ``cwd``, an empty folder: `python -m pytest` puts its working folder
    first on sys.path, and the checkout's tsbptt/ has no compiled kernels unless
    built in place; the subprocess must import the installed tsbptt."""
    root = TESTS.parent
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(root), "-c", str(root / "pyproject.toml"),
         str(TESTS / "forecasting" / "test_accuracy.py"),
         str(TESTS / "engine" / "test_losses.py"), *args],
        capture_output=True, text=True, cwd=cwd, check=False)
    return [ln for ln in out.stdout.splitlines() if "::" in ln]


@pytest.mark.slow
def test_slow_tests_run_only_with_the_slow_flag(tmp_path):
    default, everything = _collected(tmp_path), _collected(tmp_path, "--slow")
    slow = [n for n in everything if "test_accuracy.py" in n]
    assert len(slow) == 2 and not any("test_accuracy.py" in n for n in default)
    assert sorted(default + slow) == sorted(everything)
    assert _collected(tmp_path, "-m", "slow") == slow


def test_the_slow_marker_is_registered(pytestconfig):
    markers = pytestconfig.getini("markers")
    assert any(m.startswith("slow:") for m in markers)
