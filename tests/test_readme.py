"""The README's code runs as written, and its set-up block is what .ci/run runs."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_python_blocks_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the tour saves a model file
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})
    assert capsys.readouterr().out.strip()
    assert (tmp_path / "lstm.npz").exists()


def test_readme_opens_with_the_two_setup_commands():
    text = README.read_text()
    block = re.search(r"<!-- \.ci/run runs.*?-->\n```sh\n(.*?)```", text, re.S)
    lines = block.group(1).strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith('pip install ".[plot]"') and "tsbptt demo" in lines[0]
    assert lines[1] == 'pip install ".[test]" && pytest'
    assert text.index(block.group(0)) < text.index("## ")
