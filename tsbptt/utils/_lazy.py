"""Attributes of a package imported at their first use (PEP 562 ``__getattr__``).

``import tsbptt`` loads no scikit-learn, SciPy or pandas this way: the public names
are looked up in the modules that define them when first read, and submodules
(``tsbptt.forecasting.windowing``) are imported when first read as attributes, as
eager imports of the whole package used to make them available.
"""
import sys
from importlib import import_module
from importlib.util import find_spec
from pkgutil import iter_modules


def lazy_attributes(package, names, submodules=None):
    """``__getattr__`` and ``__dir__`` for the package ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict of str to str
        Each public name and the module that defines it, relative to the package
        (a module's own name maps to the module itself).
    submodules : collection of str or None, default=None
        The submodules readable as attributes; None: every one of the package's
        whose name does not start with '_'.

    Returns
    -------
    __getattr__, __dir__ : functions to assign to the package's namespace
    """
    module = sys.modules[package]

    def readable(name):
        if submodules is not None:
            return name in submodules
        if name.startswith("_") or not name.isidentifier():  # no dotted or odd names
            return False
        try:
            return find_spec(f"{package}.{name}") is not None
        except ImportError:  # hasattr() must answer False, not raise
            return False

    def __getattr__(name):
        if name in names:
            defining = import_module(names[name], package)
            value = (defining if defining.__name__.rsplit(".", 1)[-1] == name
                     else getattr(defining, name))
        elif readable(name):
            value = import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(module, name, value)  # read once: later reads find it as usual
        return value

    def __dir__():
        subs = (set(submodules) if submodules is not None else
                {m.name for m in iter_modules(module.__path__) if not m.name.startswith("_")})
        return sorted(set(vars(module)) | set(names) | subs)

    return __getattr__, __dir__
