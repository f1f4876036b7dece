"""Photo storage: content addressing, idempotency, atomic writes, full disks, and S3."""

import errno
import hashlib
import os
import socket

import pytest

from inspect_app.evidence import storage as storage_mod
from inspect_app.evidence.storage import (
    STORAGE_BACKENDS,
    BlobNotFound,
    LocalStorage,
    S3Storage,
    StorageError,
    StorageFull,
    make_storage,
)

PHOTO = b"\xff\xd8\xff\xe0 not really a photo, but bytes are bytes \xff\xd9"


def all_files(root):
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    )


@pytest.fixture
def local(tmp_path):
    return LocalStorage(tmp_path / "photos")


# ---------------------------------------------------------------- local backend


def test_key_is_the_sha256_in_a_two_level_layout(local):
    """Is a blob stored under its SHA-256, in an ab/cd/abcd… folder layout?"""
    key = local.put(PHOTO, content_type="image/jpeg")
    assert key == hashlib.sha256(PHOTO).hexdigest()
    assert all_files(local.root) == [os.path.join(key[:2], key[2:4], key)]
    assert local.open(key) == PHOTO
    assert local.size(key) == len(PHOTO)
    assert local.exists(key)


def test_storing_the_same_bytes_twice_keeps_one_copy(local):
    """Does re-sending the same photo return the same key without writing a second copy?"""
    first = local.put(PHOTO, content_type="image/jpeg")
    mtime = os.stat(local.path(first)).st_mtime_ns
    second = local.put(PHOTO, content_type="image/jpeg")
    assert first == second
    assert len(all_files(local.root)) == 1
    assert os.stat(local.path(first)).st_mtime_ns == mtime


def test_different_bytes_get_different_keys(local):
    """Do two photos that differ by one byte get two keys?"""
    assert local.put(PHOTO) != local.put(PHOTO + b"\x00")


def test_stream_yields_the_blob_in_chunks(local):
    """Does streaming return the whole blob in pieces of the asked size?"""
    data = os.urandom(100_000)
    key = local.put(data)
    chunks = list(local.stream(key, chunk_size=32_768))
    assert b"".join(chunks) == data
    assert [len(c) for c in chunks[:-1]] == [32_768] * 3


def test_missing_and_malformed_keys_are_not_found(local):
    """Are unknown keys and path-traversal attempts treated as not found?"""
    missing = "0" * 64
    assert not local.exists(missing)
    assert not local.exists("../../etc/passwd")
    for bad in (missing, "../../etc/passwd", "AB" * 32, ""):
        with pytest.raises(BlobNotFound):
            local.open(bad)
    with pytest.raises(BlobNotFound):
        local.size(missing)
    with pytest.raises(BlobNotFound):
        local.stream(missing)


def test_delete_removes_the_blob(local):
    """Does delete remove the blob and report whether there was one?"""
    key = local.put(PHOTO)
    assert local.delete(key) is True
    assert not local.exists(key)
    assert local.delete(key) is False


def test_a_crash_mid_write_leaves_nothing_under_the_key(local, monkeypatch):
    """If the process dies between writing and renaming, is there no file under the final key?"""
    def crash(src, dst):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(storage_mod.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        local.put(PHOTO)
    monkeypatch.undo()
    key = hashlib.sha256(PHOTO).hexdigest()
    assert not local.exists(key)
    assert all_files(local.root) == []


def test_writes_go_through_a_temporary_file_and_fsync(local, monkeypatch):
    """Is the final name only ever created by an atomic rename of a synced temporary file, in
    folders whose own entries were synced when they were made?"""
    calls = []
    real_replace, real_fsync = os.replace, os.fsync
    monkeypatch.setattr(storage_mod.os, "fsync", lambda fd: calls.append(
        ("fsync", os.path.relpath(os.readlink(f"/proc/self/fd/{fd}"), local.root)))
        or real_fsync(fd))
    monkeypatch.setattr(storage_mod.os, "replace",
                        lambda s, d: calls.append(("replace", os.path.basename(s)))
                        or real_replace(s, d))
    key = local.put(PHOTO)
    ab, cd = key[:2], key[2:4]
    assert calls[:2] == [("fsync", "."), ("fsync", ab)]  # the new ab/ in root, cd/ in ab/
    assert calls[2][0] == "fsync" and calls[2][1].startswith(f"{ab}/{cd}/.tmp-")
    assert calls[3][0] == "replace" and calls[3][1].startswith(".tmp-")
    assert calls[4] == ("fsync", f"{ab}/{cd}")  # the rename itself
    assert local.open(key) == PHOTO
    calls.clear()
    sibling = next(data for data in (n.to_bytes(4, "big") + PHOTO for n in range(100_000))
                   if hashlib.sha256(data).hexdigest()[:2] == ab)
    local.put(sibling)  # same ab/, new or existing cd/: only what is new is synced
    assert ("fsync", ".") not in calls


def test_a_full_disk_raises_storage_full_and_leaves_nothing(local, monkeypatch):
    """When the disk is full mid-write, is StorageFull raised with no partial file left?"""
    real_fdopen = os.fdopen

    class FullFile:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[:10])
            self.fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage_mod.os, "fdopen", lambda fd, mode: FullFile(real_fdopen(fd, mode)))
    with pytest.raises(StorageFull) as info:
        local.put(PHOTO)
    assert isinstance(info.value, StorageError)
    assert all_files(local.root) == []
    assert os.listdir(local.root) == []


def test_other_io_errors_raise_storage_error(local, monkeypatch):
    """Is a permission problem reported as a StorageError, not a crash?"""
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(storage_mod.tempfile, "mkstemp", denied)
    with pytest.raises(StorageError) as info:
        local.put(PHOTO)
    assert not isinstance(info.value, StorageFull)


# ---------------------------------------------------------------- registry


def test_backends_are_chosen_by_configuration_key(tmp_path):
    """Does make_storage pick the backend named in PHOTO_STORAGE, local by default?"""
    assert set(STORAGE_BACKENDS) == {"local", "s3"}
    store = make_storage({"PHOTO_STORAGE_ROOT": str(tmp_path)})
    assert isinstance(store, LocalStorage)
    assert store.root == str(tmp_path)
    with pytest.raises(StorageError):
        make_storage({"PHOTO_STORAGE": "ftp"})
    with pytest.raises(StorageError):
        make_storage({"PHOTO_STORAGE": "local"})
    with pytest.raises(StorageError):
        make_storage({"PHOTO_STORAGE": "s3"})


# ---------------------------------------------------------------- S3 backend


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """A real S3-compatible HTTP server (moto's), on localhost, for the module's tests."""
    server_mod = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed: S3 backend tests skipped")
    pytest.importorskip("boto3", reason="boto3 is not installed: S3 backend tests skipped")
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, request):
    config = {
        "PHOTO_STORAGE": "s3",
        "PHOTO_S3_BUCKET": "evidence-" + hashlib.md5(request.node.name.encode()).hexdigest()[:10],
        "PHOTO_S3_ENDPOINT_URL": s3_endpoint,
        "PHOTO_S3_REGION": "us-east-1",
        "PHOTO_S3_ACCESS_KEY_ID": "testing",
        "PHOTO_S3_SECRET_ACCESS_KEY": "testing",
        "PHOTO_S3_PREFIX": "photos/",
    }
    store = make_storage(config)
    store.client.create_bucket(Bucket=config["PHOTO_S3_BUCKET"])
    return store


def test_s3_round_trip(s3):
    """Does a photo go into the bucket under its SHA-256 and come back byte for byte?"""
    assert isinstance(s3, S3Storage)
    data = os.urandom(200_000)
    key = s3.put(data, content_type="image/jpeg")
    assert key == hashlib.sha256(data).hexdigest()
    assert s3.exists(key)
    assert s3.size(key) == len(data)
    assert s3.open(key) == data
    assert b"".join(s3.stream(key, chunk_size=65_536)) == data
    head = s3.client.head_object(Bucket=s3.bucket, Key=f"photos/{key[:2]}/{key[2:4]}/{key}")
    assert head["ContentType"] == "image/jpeg"


def test_s3_put_is_idempotent(s3):
    """Does storing the same bytes twice keep a single object?"""
    assert s3.put(PHOTO) == s3.put(PHOTO)
    listing = s3.client.list_objects_v2(Bucket=s3.bucket)
    assert listing["KeyCount"] == 1


def test_s3_missing_key_and_delete(s3):
    """Are missing blobs reported as not found, and deletes effective?"""
    missing = "f" * 64
    assert not s3.exists(missing)
    with pytest.raises(BlobNotFound):
        s3.open(missing)
    with pytest.raises(BlobNotFound):
        s3.size(missing)
    key = s3.put(PHOTO)
    assert s3.delete(key) is True
    assert not s3.exists(key)
    assert s3.delete(key) is False


def test_s3_unreachable_bucket_is_a_storage_error(s3_endpoint):
    """Is a missing bucket reported as a StorageError rather than a botocore exception?"""
    store = S3Storage("no-such-bucket", endpoint_url=s3_endpoint, region="us-east-1",
                      access_key_id="testing", secret_access_key="testing")
    with pytest.raises(StorageError):
        store.put(PHOTO)
