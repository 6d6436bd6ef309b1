"""Importing tsbptt imports none of the tools it works with."""
import subprocess
import sys

TOOLS = ("sktime", "skforecast", "mlforecast", "mapie", "sklearn.ensemble")


def test_import_tsbptt_loads_no_interop_tool(tmp_path):
    code = ("import sys, tsbptt; "
            f"print([m for m in {TOOLS!r} if m in sys.modules])")
    # from an empty folder: `python -c` puts the working folder first on sys.path, and
    # the checkout's tsbptt/ has no compiled kernels unless built in place
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.strip()
    assert out == "[]"
