"""tsbptt.persistence alone: the file format and its checks, without an estimator."""
import os
import stat

import numpy as np
import pytest

from tsbptt.persistence import FORMAT_VERSION, from_json, read_model_file, write_model_file


def _known(name):
    return name in ("a", "b") or name.startswith("param/")


def test_arrays_and_metadata_round_trip(tmp_path):
    arrays = {"a": np.arange(6.0).reshape(2, 3), "b": np.array(["x", "yz"]),
              "param/W": np.ones((2, 2), np.float32)}
    write_model_file(tmp_path / "m.npz", arrays, {"class": "Thing", "loss": float("nan"),
                                                  "sizes": [1, 2]})
    got, meta = read_model_file(tmp_path / "m.npz", _known)
    assert sorted(got) == sorted(arrays)
    for k, v in arrays.items():
        np.testing.assert_array_equal(got[k], v)
        assert got[k].dtype == v.dtype
    assert meta["format"] == "tsbptt-model" and meta["format_version"] == FORMAT_VERSION
    assert meta["class"] == "Thing" and meta["sizes"] == [1, 2]
    assert meta["loss"] == "nan" and np.isnan(from_json(meta["loss"]))


def test_a_member_the_reader_does_not_know_is_refused(tmp_path):
    write_model_file(tmp_path / "m.npz", {"a": np.zeros(2), "c": np.zeros(1)}, {})
    with pytest.raises(ValueError, match="unexpected member 'c.npy'"):
        read_model_file(tmp_path / "m.npz", _known)


@pytest.mark.parametrize("cut", [1, 21, 22, 100, 300])
def test_a_file_cut_short_is_not_read_as_the_file_embedded_in_it(tmp_path, cut):
    # a forecaster file holds its network's model file, stored as it is: cut short,
    # zipfile searched back for an end record, found the inner file's and read the
    # inner file as the whole (reported as "a 'tsbptt-model' file", and load_model
    # then loaded it without a word)
    write_model_file(tmp_path / "inner.npz", {"a": np.arange(3.0)}, {"class": "Inner"})
    inner = np.frombuffer((tmp_path / "inner.npz").read_bytes(), np.uint8)
    write_model_file(tmp_path / "outer.npz", {"b": inner}, {"class": "Outer"},
                     format="tsbptt-thing", format_version=1)
    raw = (tmp_path / "outer.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[:-cut])
    for fmt in ("tsbptt-model", "tsbptt-thing"):
        with pytest.raises(ValueError, match=r"cut.npz' is not a readable .*damaged or "
                                             r"truncated.*(end record|not a zip file)"):
            read_model_file(tmp_path / "cut.npz", _known, format=fmt, format_version=1)
    # bytes after the end record, or before the zip, are refused alike
    for name, data in (("after.npz", raw + b"\0" * 7), ("before.npz", b"junk" + raw)):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=f"{name}' is not a readable .*(end record is "
                                             "not at the end|does not start with the zip)"):
            read_model_file(tmp_path / name, _known, format="tsbptt-thing", format_version=1)
    arrays, meta = read_model_file(tmp_path / "outer.npz", _known, format="tsbptt-thing",
                                   format_version=1)
    assert meta["class"] == "Outer" and arrays["b"].tobytes() == inner.tobytes()


def test_a_device_or_pipe_is_not_replaced_by_the_file(tmp_path):
    # the file written beside it was moved over whatever was there: a FIFO, or a
    # device (as root, /dev/null itself), became a regular file
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "link.npz").symlink_to(fifo)
    for path in (fifo, tmp_path / "link.npz"):  # (not /dev/null: a regression would
        # replace it)
        with pytest.raises(ValueError, match=r"is not a regular file \(a device, pipe or "
                                             r"socket\)"):
            write_model_file(path, {"a": np.zeros(2)}, {})
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.npz", "pipe"]  # no .part


def test_objects_are_not_written(tmp_path):
    with pytest.raises(ValueError, match="a of dtype object cannot be saved without pickle"):
        write_model_file(tmp_path / "m.npz", {"a": np.array([None, 1], dtype=object)}, {})
    assert not (tmp_path / "m.npz").exists()


def test_a_changed_array_fails_the_checksum(tmp_path):
    write_model_file(tmp_path / "m.npz", {"a": np.zeros(3)}, {"class": "Thing"})
    with np.load(tmp_path / "m.npz") as npz:
        members = {k: npz[k] for k in npz.files}
    members["a"] = np.ones(3)
    np.savez(tmp_path / "bad.npz", **members)
    with pytest.raises(ValueError, match="failed its checksum"):
        read_model_file(tmp_path / "bad.npz", _known)


def test_a_format_name_and_version_of_its_own(tmp_path):
    write_model_file(tmp_path / "f.npz", {"a": np.zeros(2)}, {"k": 1},
                     format="tsbptt-thing", format_version=3)
    arrays, meta = read_model_file(tmp_path / "f.npz", _known, format="tsbptt-thing",
                                   format_version=3, what="thing file")
    assert meta["format"] == "tsbptt-thing" and meta["format_version"] == 3
    assert meta["k"] == 1 and list(arrays) == ["a"]
    with pytest.raises(ValueError, match="f.npz' is not a tsbptt model file$"):
        read_model_file(tmp_path / "f.npz", _known)
    with pytest.raises(ValueError, match="has model format 3, .* reads format 2"):
        read_model_file(tmp_path / "f.npz", _known, format="tsbptt-thing",
                        format_version=2)
    write_model_file(tmp_path / "m.npz", {"a": np.zeros(2)}, {})
    with pytest.raises(ValueError, match="m.npz' is not a thing file$"):
        read_model_file(tmp_path / "m.npz", _known, format="tsbptt-thing", what="thing file")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_file_gets_the_mode_the_umask_gives_a_new_file(tmp_path, umask):
    # the temporary file a write goes through was private (0600), and os.replace
    # kept that: a model saved to share could not be read by anyone else
    path = tmp_path / "m.npz"  # a new file (one written over keeps its own mode)
    old = os.umask(umask)
    try:
        write_model_file(path, {"a": np.zeros(2)}, {})
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # no leftover


def test_a_damaged_npy_header_is_a_value_error_naming_the_file(tmp_path):
    # NumPy parses the header as Python: a cut one raised tokenize.TokenError
    import zipfile
    header = b"{'descr': '|u1', 'fortran_order': False, 'shape': (3, }\n"
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as z:
        z.writestr("meta.json.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                   + header + b"abc")
    with pytest.raises(ValueError, match=r"bad\.npz' is not a readable tsbptt model file "
                                         r".*'meta\.json\.npy' has a damaged \.npy header"):
        read_model_file(tmp_path / "bad.npz", _known)


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="POSIX links")
def test_writing_over_a_file_keeps_its_mode_and_writes_through_a_link(tmp_path):
    # the file written beside and moved over it had the umask's mode (a private
    # model turned world-readable) and replaced a link (current.npz -> v1.npz)
    # instead of the file it points to, as open() and np.savez write
    arrays = {"w": np.arange(3.0)}
    private = tmp_path / "private.npz"
    write_model_file(private, arrays, {})
    os.chmod(private, 0o600)
    write_model_file(private, {"w": np.arange(4.0)}, {})
    assert os.stat(private).st_mode & 0o777 == 0o600
    assert read_model_file(private, lambda n: True)[0]["w"].shape == (4,)
    v1, link = tmp_path / "v1.npz", tmp_path / "current.npz"
    write_model_file(v1, arrays, {})
    os.symlink(v1, link)
    write_model_file(link, {"w": np.arange(5.0)}, {})
    assert os.path.islink(link) and read_model_file(v1, lambda n: True)[0]["w"].shape == (5,)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_a_write_that_fails_names_the_users_path(tmp_path):
    # it named the hidden file written beside the target: '.tsbptt-<hex>.npz.part'
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: '.*"
                                                r"missing/m\.npz'"):
        write_model_file(tmp_path / "missing" / "m.npz", {"w": np.zeros(1)}, {})


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root writes any file")
def test_a_read_only_file_is_not_replaced(tmp_path):
    path = tmp_path / "frozen.npz"
    write_model_file(path, {"w": np.zeros(1)}, {})
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match="frozen.npz"):
        write_model_file(path, {"w": np.ones(1)}, {})
    assert read_model_file(path, lambda n: True)[0]["w"][0] == 0.0
