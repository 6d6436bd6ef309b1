"""Safe model files: weights and settings in a ``.npz`` archive, no pickle.

A model file is a NumPy ``.npz`` archive read with ``allow_pickle=False``, so loading
never runs code from the file. It holds:

- every learned array (the network's weights, the input and target scaling, the
  class labels) under its own name;
- ``meta.json``, a UTF-8 JSON document stored as a byte array: the format
  version, the tsbptt version that wrote it, the estimator class, its parameters,
  its fitted scalars and history, and a SHA-256 checksum of everything else (the
  rest of the JSON, and every array's name, dtype, shape and bytes).

:func:`read_model_file` reads only regular files, and in them only the members
its reader knows, stored uncompressed, without encryption or other zip features,
each an ``.npy`` array of plain numbers or strings whose declared shape matches its
bytes (checked before anything is allocated, so memory stays within twice the
file's size); the metadata must be small JSON (bounded nesting and integer sizes).
Then it checks the format, the version and the checksum; any problem is a
``ValueError`` that names the file and says what is wrong.

This module knows the file, not the estimators: what an estimator stores, and the
checks of its class, parameters, fitted values and weight shapes on the way back,
are the estimator's own (:mod:`tsbptt.estimators._state`, which holds
:func:`tsbptt.save_model` and :func:`tsbptt.load_model`).
"""
import errno
import hashlib
import json
import math
import os
import secrets
import stat
import warnings
import zipfile

import numpy as np

from ._version import __version__
from .utils._validation import user_stacklevel

__all__ = ["FORMAT", "FORMAT_VERSION", "from_json", "read_model_file",
           "saved_random_state", "warn_if_random_state_dropped", "write_model_file"]

#: Bump when the layout of the file changes incompatibly.
FORMAT_VERSION = 1
#: The format name an estimator's model file carries in its metadata; other
#: writers (the Forecaster's whole-forecaster files) give their own.
FORMAT = "tsbptt-model"

#: Zip flag bits a model file may use: a data descriptor, UTF-8 names.
_ZIP_FLAGS = 0x08 | 0x800
#: Array kinds a model file may hold: booleans, integers, floats, strings.
_ARRAY_KINDS = "biufU"
#: Deepest nesting of meta.json (a valid file uses 5) and longest integer in it.
_MAX_DEPTH = 16
_MAX_DIGITS = 30
#: Most members a model file may declare (a valid one has a few per layer):
#: zipfile builds an object per central-directory entry before any member is read.
_MAX_MEMBERS = 4096


def _checksum(arrays, meta):
    """SHA-256 of the metadata (but its checksum) and of every array."""
    h = hashlib.sha256()
    body = {k: v for k, v in meta.items() if k != "checksum"}
    h.update(json.dumps(body, sort_keys=True, allow_nan=False).encode("utf-8"))
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _json_safe(value):
    """Floats that JSON cannot hold (NaN, inf) become strings."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else repr(v)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):  # a parameter set from a NumPy array's value
        return bool(value)
    return value


def saved_random_state(value):
    """``random_state`` as a file keeps it: an integer (a NumPy one too: it was
    written as None), else None (a RandomState cannot be written, and the fitted
    weights do not need it)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return None


def warn_if_random_state_dropped(est):
    """Warn where a file keeps ``est``'s ``random_state`` as None though it was set
    (a ``RandomState``: see :func:`saved_random_state`), naming the estimator, at
    the user's line."""
    seed = est.get_params(deep=False).get("random_state")
    if seed is not None and saved_random_state(seed) is None:
        warnings.warn(f"{type(est).__name__}'s random_state, a {type(seed).__name__}, is "
                      "saved as None (a file keeps only an integer seed): the loaded copy "
                      "predicts the same, but refitting it will not repeat this one's "
                      "fits; pass an integer random_state to keep them reproducible",
                      UserWarning, stacklevel=user_stacklevel())


def from_json(value):
    """A value of the metadata with the floats JSON cannot hold turned back from
    the strings ``write_model_file`` stored them as ('nan', 'inf', '-inf')."""
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return value


def write_model_file(path, arrays, meta, *, format=FORMAT, format_version=FORMAT_VERSION):
    """Write arrays and metadata to ``path`` as a model file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced whole: a reader never sees half a file).
    arrays : dict of str to ndarray
        The arrays to store, by member name; numbers, booleans or strings only.
    meta : dict
        JSON-compatible metadata (the writer's class, parameters, fitted values);
        NaN and infinities are stored as strings. The format, the versions and the
        checksum are added here.
    format : str, default='tsbptt-model'
        The format's name, stored as ``meta['format']``: what kind of file this is
        (``'tsbptt-forecaster'`` for a whole Forecaster).
    format_version : int, default=FORMAT_VERSION
        The version of that format's layout, stored as ``meta['format_version']``.

    Raises
    ------
    ValueError
        If ``path`` is a folder, a device, a pipe or a socket (or a link to one),
        or an array holds objects that a file read without pickle cannot hold.
    """
    for name, a in arrays.items():
        if a.dtype.kind not in _ARRAY_KINDS or a.dtype.hasobject:
            raise ValueError(f"{name} of dtype {a.dtype} cannot be saved without pickle")
    meta = _json_safe({"format": format, "format_version": format_version,
                       "tsbptt_version": __version__, **meta})
    meta["checksum"] = _checksum(arrays, meta)
    blob = json.dumps(meta, allow_nan=False).encode("utf-8")
    arrays = {**arrays, "meta.json": np.frombuffer(blob, dtype=np.uint8)}
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"path {path!r} is a folder; give a file name, e.g. "
                         f"{os.path.join(path, 'model.npz')!r}")
    # as open() would write it: through a symbolic link to its file, keeping an
    # existing file's mode, refusing one the user may not write (the file written
    # beside it and moved over it replaced the link, and had the umask's mode); unlike
    # open(), the folder must be writable too, for the file written beside it
    target = os.path.realpath(path)
    if _is_special(target):  # replaced by a regular file, /dev/null's very node
        raise ValueError(f"path {path!r} is not a regular file (a device, pipe or "
                         "socket); a model file is written to a regular file")
    mode = _mode_of(target)
    if mode is not None and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "Permission denied", path)
    try:
        tmp_name, fd = _new_file_beside(os.path.dirname(target))
    except OSError as exc:  # named by the user's path, not the hidden file's
        raise OSError(exc.errno, exc.strerror, path) from None
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as tmp:
            np.savez(tmp, **arrays)
            tmp.flush()
            os.fsync(tmp.fileno())  # on disk before it replaces the old file
        os.replace(tmp_name, target)  # a reader never sees half a file
    except BaseException:
        os.unlink(tmp_name)
        raise
    _sync_folder(os.path.dirname(target))


def _sync_folder(folder):
    """Flush the folder's entry of the replaced file to disk (POSIX; best effort):
    without it a crash right after the save may leave the old file."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder
        pass
    finally:
        os.close(fd)


def _is_special(path):
    """Whether something other than a regular file or a folder is at ``path``."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode))


def _mode_of(path):
    """The permission bits of the regular file at ``path``, or None if there is none."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


def _new_file_beside(folder):
    """A new, uniquely named file in ``folder``, opened for writing: (name, fd).

    Created with mode 0666 less the umask, as ``open`` (and ``np.savez``) would
    create the file itself, so that a shared model stays readable by others; a
    ``tempfile`` file is private (0600), and ``os.replace`` would keep that mode.
    """
    for _ in range(100):
        name = os.path.join(folder, f".tsbptt-{secrets.token_hex(8)}.npz.part")
        try:
            return name, os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder!r}")  # pragma: no cover


def _open_regular(path):
    """The file at ``path`` opened for reading, if it is a regular file: a device
    (``/dev/zero``), a pipe or a folder is refused before a byte is read. Opened
    without blocking (a pipe with no writer would block) and checked on the open
    descriptor, so the file cannot be swapped between the check and the read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{os.fspath(path)!r} is not a regular file (a folder, "
                             "device, pipe or socket); a model file is a .npz file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_header(fp, name):
    """Shape, order and dtype of an ``.npy`` member, from its header alone."""
    version = np.lib.format.read_magic(fp)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"member {name!r} has .npy format {version}")
    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0)
    try:
        shape, fortran, dtype = read(fp)
    except Exception as exc:  # NumPy parses the header as Python: TokenError, ...
        raise ValueError(f"member {name!r} has a damaged .npy header "
                         f"({type(exc).__name__}: {exc})") from None
    if dtype.kind not in _ARRAY_KINDS or dtype.hasobject or dtype.names is not None \
            or dtype.subdtype is not None:
        raise ValueError(f"member {name!r} has dtype {dtype}, which a model file never "
                         "holds (only numbers and strings)")
    return shape, fortran, dtype


def _read_member(zf, info):
    """One ``.npy`` member as an array, its declared size checked against its bytes
    before anything is allocated."""
    name = info.filename
    if info.flag_bits & ~_ZIP_FLAGS:
        raise ValueError(f"member {name!r} uses zip features a model file never has "
                         f"(flag bits {info.flag_bits:#x}: encryption or patched data)")
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"member {name!r} is compressed")
    with zf.open(info) as fp:
        shape, fortran, dtype = _read_header(fp, name)
        declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        stored = info.file_size - fp.tell()
        if declared != stored:
            raise ValueError(f"member {name!r} declares shape {shape} of {dtype} "
                             f"({declared} bytes) but holds {stored} bytes")
        data = fp.read(declared)
        if len(data) != declared:
            raise ValueError(f"member {name!r} is truncated")
    order = "F" if fortran else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy(order=order)


def _end_record(fp, size):
    """The zip's end record, read before zipfile parses the directory: how many
    members it declares, and where it says the directory starts (None for either
    where there is no end record: then zipfile says what is wrong).

    A model file's end record ends the file: a file cut short has none there, and
    zipfile would search back for one, finding the end record of a model file
    embedded in it (a forecaster file holds its network's model file) and reading
    that as the whole file. So one that does not end the file is refused."""
    tail_len = min(size, 22 + 0xFFFF + 20 + 56)  # end record, comment, zip64 records
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    fp.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None, None
    comment = int.from_bytes(tail[at + 20:at + 22], "little")
    if at + 22 + comment != len(tail):
        raise ValueError("the zip's end record is not at the end of the file (cut "
                         "short, or more written after it)")
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    start = int.from_bytes(tail[at + 16:at + 20], "little")
    z64 = tail.rfind(b"PK\x06\x06", 0, at)
    if count == 0xFFFF and z64 >= 0 and z64 + 40 <= len(tail):
        count = int.from_bytes(tail[z64 + 32:z64 + 40], "little")
    if start == 0xFFFFFFFF:  # in the zip64 record
        start = (int.from_bytes(tail[z64 + 48:z64 + 56], "little")
                 if z64 >= 0 and z64 + 56 <= len(tail) else None)
    return count, start


def _read_arrays(fp, known):
    size = os.fstat(fp.fileno()).st_size
    declared, start = _end_record(fp, size)
    if declared is not None and declared > _MAX_MEMBERS:
        raise ValueError(f"the zip directory declares {declared} members; a model file "
                         f"has at most {_MAX_MEMBERS}")
    with zipfile.ZipFile(fp) as zf:
        if start is not None and zf.start_dir != start:  # bytes before the zip
            raise ValueError(f"the zip directory is at byte {zf.start_dir}, its end "
                             f"record says {start}: the file does not start with the zip")
        infos = zf.infolist()
        names = [info.filename for info in infos]
        for info in infos:
            stem = info.filename[:-4] if info.filename.endswith(".npy") else None
            if stem is None or not (stem == "meta.json" or known(stem)):
                raise _UnexpectedMember(info.filename, _format_of(zf, infos))
            if info.file_size > size:
                raise ValueError(f"member {info.filename!r} is larger than the file")
        if len(set(names)) != len(names):
            raise ValueError("a member name appears twice")
        return {info.filename[:-4]: _read_member(zf, info) for info in infos}


class _UnexpectedMember(ValueError):
    """A member the reader does not know; ``format``: the file's own format name,
    where its meta.json says one (a file of another tsbptt kind)."""

    def __init__(self, name, format):
        super().__init__(f"unexpected member {name!r}")
        self.format = format


#: tsbptt's file kinds and the function that reads each.
READERS = {FORMAT: "tsbptt.load_model", "tsbptt-forecaster": "tsbptt.load_forecaster"}


def _format_of(zf, infos):
    """The format name in the archive's meta.json, or None (none, or unreadable)."""
    info = next((i for i in infos if i.filename == "meta.json.npy"), None)
    if info is None:
        return None
    try:  # with every check of a model file's meta.json
        meta = _parse_meta(_read_member(zf, info), "meta.json")
    except (ValueError, TypeError, zipfile.BadZipFile, EOFError):
        return None
    return meta.get("format") if isinstance(meta, dict) else None


def _small_int(text):
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits")
    return int(text)


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is beyond the float64 range")
    return value


def _refuse_constant(text):
    raise ValueError(f"{text} is not JSON a model file holds")


def _check_depth(value, shown):
    """Refuse nesting deeper than _MAX_DEPTH, without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ValueError(f"{shown!r}: meta.json is nested more than {_MAX_DEPTH} "
                             "levels deep; a model file never is")
        children = item.values() if isinstance(item, dict) else (
            item if isinstance(item, list) else ())
        stack.extend((child, depth + 1) for child in children)


def _parse_meta(blob, shown):
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"), parse_int=_small_int,
                          parse_float=_finite_float, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{shown!r}: meta.json is damaged: {exc}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{shown!r}: meta.json is not a JSON object")
    _check_depth(meta, shown)
    return meta


def _read(path, known, what, format):
    """The arrays and metadata of a model file, reading only known, stored members."""
    shown = os.fspath(path)
    try:
        with _open_regular(shown) as fp:
            arrays = _read_arrays(fp, known)
    except FileNotFoundError:
        raise
    except _UnexpectedMember as exc:
        if exc.format in READERS and exc.format != format:  # another kind of file
            raise ValueError(f"{shown!r} is a {exc.format!r} file, not a {what}: read "
                             f"it with {READERS[exc.format]}") from None
        raise ValueError(f"{shown!r} is not a readable {what} "
                         f"(damaged or truncated?): {exc}") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError,
            RuntimeError, NotImplementedError) as exc:
        raise ValueError(f"{shown!r} is not a readable {what} "
                         f"(damaged or truncated?): {exc}") from None
    if "meta.json" not in arrays:
        raise ValueError(f"{shown!r} is not a {what}: no meta.json")
    blob = arrays.pop("meta.json")
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise ValueError(f"{shown!r}: meta.json is not a byte array")
    return arrays, _parse_meta(blob, shown)


def read_model_file(path, known, *, format=FORMAT, format_version=FORMAT_VERSION,
                    what="tsbptt model file"):
    """The arrays and metadata of a model file, after every check of the format.

    Parameters
    ----------
    path : str or os.PathLike
    known : callable
        ``known(name) -> bool`` for an array's member name (without ``.npy``): the
        members the reader expects. Any other member is refused unread.
    format : str, default='tsbptt-model'
        The format name the file must carry (see :func:`write_model_file`).
    format_version : int or tuple of int, default=FORMAT_VERSION
        The version of that format this reader reads, or the versions.
    what : str, default='tsbptt model file'
        How the file is named in errors.

    Returns
    -------
    arrays : dict of str to ndarray
    meta : dict
        The metadata, checksum verified, as stored: pass a value that may hold NaN
        or infinities through :func:`from_json` to turn them back into floats.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a model file of this format version, is damaged, or was
        changed after it was written; the message names the file.
    """
    shown = os.fspath(path)
    arrays, meta = _read(path, known, what, format)
    if meta.get("format") != format:
        raise ValueError(f"{shown!r} is not a {what}")
    versions = format_version if isinstance(format_version, tuple) else (format_version,)
    if meta.get("format_version") not in versions:
        readable = " and ".join(filter(None, [", ".join(map(str, versions[:-1])),
                                              str(versions[-1])]))
        raise ValueError(f"{shown!r} has model format {meta.get('format_version')!r}, "
                         f"this tsbptt ({__version__}) reads format {readable}; "
                         f"it was written by tsbptt {meta.get('tsbptt_version')!r}")
    try:
        ok = _checksum(arrays, meta) == meta.get("checksum")
    except (TypeError, ValueError, RecursionError):
        ok = False
    if not ok:
        raise ValueError(f"{shown!r} failed its checksum: the file was changed or "
                         "damaged after it was written (checksum mismatch)")
    return arrays, meta
