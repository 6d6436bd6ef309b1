"""Importing tsbptt imports none of the tools it works with."""
import subprocess
import sys

TOOLS = ("sktime", "skforecast", "mlforecast", "mapie", "sklearn.ensemble")


def test_import_tsbptt_loads_no_interop_tool():
    code = ("import sys, tsbptt; "
            f"print([m for m in {TOOLS!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
