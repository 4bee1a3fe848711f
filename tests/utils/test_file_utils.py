"""get_file: cache folder, hash checks, extraction (tar and zip, refusing escapes), file:// and
local paths; no network."""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from gpuk.utils import get_file
from gpuk.utils.file_utils import extract_archive


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "source" / "data.txt"
    path.parent.mkdir()
    path.write_text("hello gpuk\n")
    return path


def test_file_url_lands_in_the_cache_once(source, tmp_path, capsys):
    cache = tmp_path / "cache"
    first = get_file(origin=source.as_uri(), cache_dir=str(cache))
    assert first == os.path.join(cache, "datasets", "data.txt")
    assert open(first).read() == "hello gpuk\n"
    assert "Downloading data from" in capsys.readouterr().out
    source.write_text("changed\n")
    again = get_file(origin=source.as_uri(), cache_dir=str(cache))
    assert open(again).read() == "hello gpuk\n", "a cached file is not fetched again"
    assert "Downloading" not in capsys.readouterr().out
    forced = get_file(origin=source.as_uri(), cache_dir=str(cache), force_download=True)
    assert open(forced).read() == "changed\n"


def test_local_path_fname_and_subdir(source, tmp_path):
    path = get_file("copy.txt", str(source), cache_dir=str(tmp_path), cache_subdir="mine")
    assert path == os.path.join(tmp_path, "mine", "copy.txt")
    assert open(path).read() == "hello gpuk\n"


def test_hash_mismatch_refetches_then_raises(source, tmp_path):
    good = hashlib.sha256(b"hello gpuk\n").hexdigest()
    path = get_file(origin=str(source), cache_dir=str(tmp_path), file_hash=good)
    with open(path, "w") as file:
        file.write("corrupted")
    assert open(get_file(origin=str(source), cache_dir=str(tmp_path), file_hash=good)).read() == (
        "hello gpuk\n"
    )
    with pytest.raises(ValueError, match="hash does not match"):
        get_file(
            origin=str(source), cache_dir=str(tmp_path), file_hash="0" * 64, force_download=True
        )
    assert not os.path.exists(path), "a download failing its hash check is not kept"
    md5 = hashlib.md5(b"hello gpuk\n").hexdigest()
    assert get_file(origin=str(source), cache_dir=str(tmp_path), md5_hash=md5)


def test_missing_origin_and_path_fname_are_refused(source, tmp_path):
    with pytest.raises(ValueError, match='specify the "origin"'):
        get_file("x.txt")
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        get_file("a/b.txt", str(source), cache_dir=str(tmp_path))
    with pytest.raises(OSError, match="URL fetch failure"):
        get_file(origin=str(tmp_path / "absent.txt"), cache_dir=str(tmp_path))
    assert not os.path.exists(tmp_path / "datasets" / "absent.txt.part")


def _tar(path, members):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_extract_tar_and_zip(tmp_path):
    _tar(tmp_path / "pack.tar.gz", {"pack/a.txt": b"A", "pack/b/c.txt": b"C"})
    folder = get_file(
        "pack.tar.gz",
        str(tmp_path / "pack.tar.gz"),
        extract=True,
        cache_dir=str(tmp_path / "cache"),
    )
    assert folder.endswith("pack_extracted")
    assert open(os.path.join(folder, "pack", "b", "c.txt")).read() == "C"
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as archive:
        archive.writestr("z/one.txt", "1")
    folder = get_file(origin=str(tmp_path / "z.zip"), extract=True, cache_dir=str(tmp_path / "c2"))
    assert open(os.path.join(folder, "z", "one.txt")).read() == "1"


def test_archives_cannot_write_outside_the_target(tmp_path):
    _tar(tmp_path / "evil.tar.gz", {"../escaped.txt": b"x"})
    with pytest.raises(ValueError, match="Could not extract"):
        extract_archive(str(tmp_path / "evil.tar.gz"), str(tmp_path / "out"))
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("../../escaped.txt", "x")
    with pytest.raises(ValueError, match="outside"):
        extract_archive(str(tmp_path / "evil.zip"), str(tmp_path / "out"))
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "out").exists()
    assert extract_archive(str(tmp_path / "evil.zip"), str(tmp_path / "o"), None) is False
