"""The interop pages' examples run as written, each where its tool is installed."""
import importlib.util
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["interop.md", "interop_skforecast.md", "interop_mlforecast.md",
         "interop_sktime.md", "interop_mapie.md"]


def test_every_interop_page_is_listed():
    assert sorted(p.name for p in DOCS.glob("interop*.md")) == sorted(PAGES)


@pytest.mark.slow  # trains the examples' networks
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("page", PAGES)
def test_examples_run(page, capsys):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)
    assert blocks
    for code in blocks:
        need = re.match(r"# needs: (\w+)", code)
        if need and importlib.util.find_spec(need.group(1)) is None:
            pytest.skip(f"{need.group(1)} is not installed")
        exec(compile(code, str(DOCS / page), "exec"), {})
    assert capsys.readouterr().out.strip()
