"""``import tsbptt`` is light; its public names are imported at their first use."""
import subprocess
import sys

import pytest

import tsbptt

HEAVY = ("sklearn", "scipy", "pandas")


def _loaded_after(code, tmp_path):
    """The heavy packages in sys.modules after ``code`` runs in a fresh interpreter
    (from an empty folder: the checkout's tsbptt/ may have no kernels built)."""
    run = f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.strip().splitlines()
    return out[-1]


def test_import_tsbptt_loads_no_scikit_learn_scipy_or_pandas(tmp_path):
    assert _loaded_after("import tsbptt", tmp_path) == "[]"


def test_the_command_lines_version_and_help_load_no_scikit_learn(tmp_path):
    # they took 1.6 s, most of it importing scikit-learn (and SciPy through it)
    for flag in ("--version", "--help"):
        code = ("from tsbptt.cli import main\n"
                f"try:\n    main([{flag!r}])\nexcept SystemExit:\n    pass")
        assert _loaded_after(code, tmp_path) == "['pandas']"


def test_submodules_read_as_attributes_after_import_tsbptt_alone(tmp_path):
    # the eager imports made them attributes; the first lazy version did not
    code = ("import tsbptt\n"
            "print(tsbptt.forecasting.windowing.__name__, tsbptt.engine.rtrl.__name__,\n"
            "      tsbptt.forecasting.transforms.__name__, tsbptt.utils._validation.__name__)\n"
            "names = [n for n in dir(tsbptt.forecasting) if not n.startswith('_')]\n"
            "print(names)\n"
            "print(sorted(set(dir(tsbptt)) - set(tsbptt.__all__) - set(tsbptt._SUBPACKAGES)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.splitlines()
    assert out[0] == ("tsbptt.forecasting.windowing tsbptt.engine.rtrl "
                      "tsbptt.forecasting.transforms tsbptt.utils._validation")
    assert eval(out[1]) == ["Forecaster", "auto", "backtesting", "baselines",
                            "load_forecaster", "local", "metrics", "partitioned",
                            "returns", "transforms", "windowing"]
    assert all(n.startswith("_") for n in eval(out[2]))  # no helper leaks into dir()


def test_every_public_name_resolves_and_is_listed():
    assert set(tsbptt.__all__) == set(tsbptt._PUBLIC)
    for name in tsbptt.__all__:
        assert getattr(tsbptt, name) is not None
        assert name in dir(tsbptt)
    from tsbptt import Forecaster, LSTMRegressor, metrics
    assert Forecaster.__module__ == "tsbptt.forecasting._forecaster"
    assert LSTMRegressor is tsbptt.estimators.LSTMRegressor
    assert metrics is tsbptt.forecasting.metrics
    assert tsbptt.forecasting.windowing.make_windows is tsbptt.make_windows


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'tsbptt' has no attribute 'Nope'"):
        tsbptt.Nope  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'Nope' from 'tsbptt'"):
        from tsbptt import Nope  # noqa: F401
    with pytest.raises(AttributeError, match="'tsbptt.forecasting' has no attribute 'x'"):
        tsbptt.forecasting.x  # noqa: B018
    # a dotted name raised ModuleNotFoundError from hasattr (and imported auto.py)
    assert not hasattr(tsbptt.forecasting, "auto.nope")
    assert not hasattr(tsbptt.forecasting, "a.b")
