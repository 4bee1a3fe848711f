"""``get_file``: fetch a file into Keras's cache folder once, check its hash, extract archives.

The cache is Keras's (``$KERAS_HOME`` or ``~/.keras``), so gpuk and Keras share downloads.
Any URL ``urllib`` opens works, ``file://`` included, and so does a local path. Archives are
extracted safely: no member may land outside the extraction folder, and links and devices in
tar files are refused (the standard library's ``data`` filter).
"""

import hashlib
import os
import pathlib
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

from gpuk.utils.logging import print_msg


def keras_home():
    """Keras's folder for caches: ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` when the
    home folder is not writable)."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    return os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")


def _hasher(algorithm, file_hash):
    if algorithm == "auto":
        algorithm = "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5'; got {algorithm!r}")
    return algorithm, hashlib.new(algorithm)


def hash_file(path, algorithm="sha256", chunk_size=65535):
    """The hex digest of a file (``"sha256"``, ``"md5"`` or ``"auto"`` = sha256)."""
    _, hasher = _hasher("sha256" if algorithm == "auto" else algorithm, None)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(path, file_hash, algorithm="auto"):
    """True when the file's hash equals ``file_hash``."""
    algorithm, _ = _hasher(algorithm, file_hash)
    return hash_file(path, algorithm) == str(file_hash)


def _archive_kind(path, archive_format):
    formats = {"auto": ("tar", "zip"), "tar": ("tar",), "zip": ("zip",), None: ()}
    if archive_format not in formats:
        raise ValueError(
            f"archive_format must be 'auto', 'tar', 'zip' or None; got {archive_format!r}"
        )
    for kind in formats[archive_format]:
        if kind == "tar" and tarfile.is_tarfile(path):
            return "tar"
        if kind == "zip" and zipfile.is_zipfile(path):
            return "zip"
    return None


def _safe_zip_extract(archive, target):
    root = pathlib.Path(target).resolve()
    for member in archive.infolist():
        destination = (root / member.filename).resolve()
        if root != destination and root not in destination.parents:
            raise ValueError(
                f"Refusing to extract {member.filename!r}: it would land outside {target}"
            )
    archive.extractall(target)


def extract_archive(path, target, archive_format="auto"):
    """Extract a tar or zip archive into ``target``; False when it is neither. A failed
    extraction leaves no partial folder behind."""
    kind = _archive_kind(path, archive_format)
    if kind is None:
        return False
    parent = os.path.dirname(os.path.abspath(target)) or "."
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".extracting-", dir=parent)
    try:
        if kind == "tar":
            with tarfile.open(path) as archive:
                archive.extractall(staging, filter="data")
        else:
            with zipfile.ZipFile(path) as archive:
                _safe_zip_extract(archive, staging)
        if os.path.exists(target):
            shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)
        os.replace(staging, target)
    except (tarfile.TarError, zipfile.BadZipFile, ValueError, OSError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ValueError(f"Could not extract the archive {path}: {error}") from error
    return True


def _retrieve(origin, target):
    """Copy ``origin`` (a URL or a local path) to ``target`` through a temporary ``.part`` file,
    so an interrupted download never leaves a file that looks complete."""
    if urllib.parse.urlsplit(origin).scheme in ("", "file") and not origin.startswith("file:"):
        origin_url = pathlib.Path(os.path.expanduser(origin)).resolve().as_uri()
    else:
        origin_url = origin
    partial = target + ".part"
    try:
        urllib.request.urlretrieve(origin_url, partial)
    except (urllib.error.URLError, OSError) as error:
        if os.path.exists(partial):
            os.remove(partial)
        if isinstance(error, urllib.error.HTTPError):
            raise OSError(f"URL fetch failure on {origin}: {error.code} -- {error.msg}") from error
        reason = getattr(error, "reason", error)
        raise OSError(f"URL fetch failure on {origin}: {reason}") from error
    os.replace(partial, target)


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """Download ``origin`` into ``cache_dir/cache_subdir`` unless it is there already.

    Args:
        fname: file name in the cache (default: the last part of ``origin``).
        origin: the URL (``https://``, ``file://``, ...) or a local path.
        file_hash: expected sha256 or md5 digest; a cached file that does not match is fetched
            again, and a fetched one that does not match raises.
        extract / untar: extract a tar or zip archive; the extraction folder is returned.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"`` or None.
        cache_dir: default ``$KERAS_HOME`` or ``~/.keras``.
        force_download: fetch even when a cached copy exists.

    Returns:
        The path of the file, or of the extraction folder.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(cache_dir or keras_home())
    if not os.access(base, os.W_OK) and os.path.exists(base):
        base = os.path.join(tempfile.gettempdir(), ".keras")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    provided = os.fspath(fname) if fname is not None else None
    if not provided:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'."
                "Please specify the `fname` argument."
            )
    else:
        fname = provided
        if os.sep in fname:
            raise ValueError(
                "Paths are no longer accepted as the `fname` argument. To specify the file's "
                f"parent directory, use the `cache_dir` argument. Received: fname={fname}"
            )
    if extract or untar:
        if provided and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[: fname.find('.')]}_extracted")
        else:
            target = os.path.join(datadir, f"{fname}_archive")
            extraction_dir = os.path.join(datadir, fname)
    else:
        target = os.path.join(datadir, fname)

    download = force_download or not os.path.exists(target)
    if (
        not download
        and file_hash is not None
        and not validate_file(target, file_hash, hash_algorithm)
    ):
        print_msg(
            "A local file was found, but it seems to be incomplete or outdated because the "
            f"{_hasher(hash_algorithm, file_hash)[0]} file hash does not match the original "
            f"value of {file_hash} so we will re-download the data."
        )
        download = True
    if download:
        print_msg(f"Downloading data from {origin}")
        _retrieve(origin, target)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            os.remove(target)
            raise ValueError(
                "Incomplete or corrupted file detected. The "
                f"{_hasher(hash_algorithm, file_hash)[0]} file hash does not match the "
                f"provided value of {file_hash}."
            )
    if extract or untar:
        if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
            warnings.warn("Could not extract archive.", stacklevel=2)
        return extraction_dir
    return target
