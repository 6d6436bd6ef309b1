"""The README's code runs as written, and its set-up block is what .ci/run runs."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.slow  # trains the tour's models: over a minute on a busy 2-core machine
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
    # one install with every extra the second command needs: it rebuilds nothing
    assert lines[0] == 'pip install ".[plot,test]" && tsbptt demo'
    assert lines[1] == "pytest --slow"
    assert text.index(block.group(0)) < text.index("## ")


def test_ci_run_reads_both_setup_commands_from_the_readme():
    import shutil
    import subprocess

    if shutil.which("awk") is None:
        pytest.skip("no awk")
    script = (README.parent / ".ci" / "run").read_text()
    program = re.search(r"awk '(.*?)' README\.md", script, re.S).group(1)
    got = subprocess.run(["awk", program, str(README)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert got == ['pip install ".[plot,test]" && tsbptt demo', "pytest --slow"]
