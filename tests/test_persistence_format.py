"""tsbptt.persistence alone: the file format and its checks, without an estimator."""
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
