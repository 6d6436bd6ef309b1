"""Every public parameter is documented, and the docstring examples run.

The ``Parameters`` section of a numpydoc docstring is parsed here (a dozen lines,
no dependency): each ``name : type`` line at the section's indentation documents
``name`` (``a, b : type`` documents both). A class documents its ``__init__``
parameters in the class docstring, as scikit-learn does; a dataclass of results
documents its fields under ``Attributes``.
"""
import ast
import dataclasses
import doctest
import inspect
import re

import numpy as np
import pytest

import tsbptt
from tsbptt import datasets, metrics, returns

ESTIMATORS = [tsbptt.LSTMRegressor, tsbptt.GRURegressor, tsbptt.RNNRegressor,
              tsbptt.LSTMClassifier, tsbptt.GRUClassifier, tsbptt.RNNClassifier]


def _public_objects():
    """Every public class and function of tsbptt and its public modules."""
    found = {}
    for module in (tsbptt, metrics, returns, datasets):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found[f"{module.__name__}.{name}"] = obj
    return found


PUBLIC = _public_objects()


_NAMES = re.compile(r"\*{0,2}\w+(\s*,\s*\*{0,2}\w+)*")


def documented_parameters(doc, section="Parameters"):
    """The names a numpydoc section (``Parameters``) documents, in order."""
    lines = inspect.cleandoc(doc or "").splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() == section and set(lines[i + 1].strip()) == {"-"}:
            indent = len(lines[i]) - len(lines[i].lstrip())
            break
    else:
        return []
    names = []
    for line in lines[i + 2:]:
        stripped = line.strip()
        if not stripped:
            continue
        here = len(line) - len(line.lstrip())
        if here < indent:
            break
        if here > indent:
            continue  # a description
        if re.fullmatch(r"-+", stripped):  # the next section's underline
            names.pop()
            break
        head = stripped.split(" : ")[0].rstrip(":")
        if not _NAMES.fullmatch(head):
            break  # prose after the last entry: the section has ended
        names.extend(n.strip().lstrip("*") for n in head.split(","))
    return names


def _signature_parameters(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    params = inspect.signature(target).parameters.values()
    return [p.name for p in params if p.name not in ("self", "cls")
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def test_the_parser_reads_a_numpydoc_section():
    doc = """Summary.

    Parameters
    ----------
    a : int, default=1
        Text, with a line ``b : not a parameter`` indented further.
    b, c : float
    *args : tuple

    A paragraph of prose after the entries ends the section.

    Returns
    -------
    out : float
    """
    assert documented_parameters(doc) == ["a", "b", "c", "args"]
    assert documented_parameters("No sections.") == []


def test_public_objects_are_found():
    assert {"tsbptt.LSTMRegressor", "tsbptt.Forecaster", "tsbptt.AutoForecaster",
            "tsbptt.load_model", "tsbptt.backtest"} <= set(PUBLIC)
    assert len(PUBLIC) > 20


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_parameter_is_documented(name):
    obj = PUBLIC[name]
    # a dataclass holding results documents its fields as Attributes
    section = "Attributes" if dataclasses.is_dataclass(obj) else "Parameters"
    documented = documented_parameters(obj.__doc__, section)
    missing = [p for p in _signature_parameters(obj) if p not in documented]
    assert not missing, f"{name} does not document {missing}"
    unknown = [p for p in documented if p not in _signature_parameters(obj)]
    assert not unknown or inspect.signature(
        obj.__init__ if inspect.isclass(obj) else obj).parameters.get("kwargs"), \
        f"{name} documents parameters it does not have: {unknown}"


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda c: c.__name__)
def test_estimator_docstring_states_each_default(est):
    """Every parameter's line says its default, and the default is the real one."""
    doc = inspect.cleandoc(est.__doc__)
    for p in inspect.signature(est.__init__).parameters.values():
        if p.name == "self":
            continue
        line = re.search(rf"^{p.name} : (.*)$", doc, flags=re.MULTILINE)
        assert line, f"{est.__name__}: no line for {p.name}"
        said = re.search(r"default=(.*)$", line.group(1))
        assert said and ast.literal_eval(said.group(1)) == p.default, \
            f"{est.__name__}.{p.name}: {line.group(1)!r} does not say default={p.default!r}"


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda c: c.__name__)
def test_estimator_docstring_has_attributes_and_the_name_table(est):
    doc = inspect.getdoc(est)  # indentation removed, as Python 3.13+ compiles it
    for section in ("Attributes\n----------", "Examples\n--------"):
        assert section in doc, f"{est.__name__} lacks {section.split()[0]}"
    for fitted in ("network_", "n_iter_", "loss_curve_", "n_features_in_"):
        assert re.search(rf"^{fitted} : ", doc, flags=re.MULTILINE), fitted
    assert "learning_rate_init" in doc  # what MLPRegressor calls our learning_rate


ESTIMATOR_METHODS = [(est, name) for est in ESTIMATORS for name in dir(est)
                     if not name.startswith("_") and inspect.isfunction(getattr(est, name))
                     and getattr(est, name).__module__.startswith("tsbptt.")]


@pytest.mark.parametrize("est, method", ESTIMATOR_METHODS,
                         ids=lambda v: getattr(v, "__name__", v))
def test_estimator_methods_document_their_parameters(est, method):
    """fit, predict, ... of every estimator (scikit-learn's own methods aside)."""
    function = getattr(est, method)
    documented = documented_parameters(function.__doc__)
    missing = [p for p in _signature_parameters(function) if p not in documented]
    assert not missing, f"{est.__name__}.{method} does not document {missing}"


def test_estimator_methods_are_found():
    names = {m for _, m in ESTIMATOR_METHODS}
    assert {"fit", "partial_fit", "predict", "predict_proba", "predict_step",
            "predict_sequence", "score", "save"} <= names


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda c: c.__name__)
def test_help_shows_every_parameter(est):
    text = inspect.getdoc(est)
    for name in _signature_parameters(est):
        assert f"\n{name} : " in text


def test_shared_pieces_take_the_placeholders_indentation():
    """Python 3.13's compiler strips a docstring's common indentation: fill_doc must
    indent the shared pieces as their placeholder is, or numpydoc and help() see
    them as out of their section (a written and a stripped docstring agree)."""
    from tsbptt.estimators._docs import fill_doc
    body = "Summary.\n\n{pad}Parameters\n{pad}----------\n{pad}{{common_parameters}}\n"

    class Written:
        __doc__ = body.format(pad="    ")
        _cell = "lstm"

    class Stripped:
        __doc__ = body.format(pad="")
        _cell = "lstm"

    written = inspect.cleandoc(fill_doc()(Written).__doc__)
    assert written == inspect.cleandoc(fill_doc()(Stripped).__doc__)
    assert "\nnum_layers : int, default=1\n    Number of stacked recurrent layers" in written


@pytest.mark.parametrize("name", sorted(n for n, o in PUBLIC.items()
                                        if o.__doc__ and ">>>" in o.__doc__))
def test_examples_run(name):
    """The Examples sections are doctests, and they pass."""
    obj = PUBLIC[name]
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS
                                   | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(obj, name, globs={"np": np, "tsbptt": tsbptt})
    assert tests and tests[0].examples
    # NumPy 2 writes scalars as np.float64(...); the examples show 1.x's plain
    # numbers, which NumPy 1.x writes without being asked (it knows no "1.25" mode)
    legacy = "1.25" if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else False
    with np.printoptions(legacy=legacy):
        for test in tests:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed"
