"""Private, content-addressed storage for photo originals and renditions.

Every blob is stored under the SHA-256 of its bytes (``ab/cd/abcd…``), so storing the same photo
twice keeps one copy, and a key is also the proof that the content was not changed. The backend is
chosen by configuration from :data:`STORAGE_BACKENDS` (CTFd's ``UPLOADERS`` pattern); nothing
here is served from a public path — the application streams blobs through a permission-checking
view.

Configuration keys read by :func:`make_storage`:

``PHOTO_STORAGE``                 ``"local"`` (default) or ``"s3"``
``PHOTO_STORAGE_ROOT``            local: folder for the blobs (the app passes ``instance/photos``)
``PHOTO_S3_BUCKET``               s3: bucket name (required)
``PHOTO_S3_ENDPOINT_URL``         s3: endpoint of an S3-compatible service (MinIO, Ceph, OSS…)
``PHOTO_S3_REGION``               s3: region name
``PHOTO_S3_ACCESS_KEY_ID``        s3: credentials (default: boto3's usual credential chain)
``PHOTO_S3_SECRET_ACCESS_KEY``
``PHOTO_S3_PREFIX``               s3: key prefix inside the bucket, e.g. ``"photos/"``
"""

from __future__ import annotations

import abc
import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator

from ..messages import N_

__all__ = [
    "Storage",
    "StorageError",
    "StorageFull",
    "BlobNotFound",
    "LocalStorage",
    "S3Storage",
    "STORAGE_BACKENDS",
    "make_storage",
    "content_key",
]

_KEY = re.compile(r"[0-9a-f]{64}")
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
DEFAULT_CHUNK = 64 * 1024


class StorageError(Exception):
    """The storage backend could not do what was asked."""


class StorageFull(StorageError):
    """No space left (disk full or quota reached); nothing was stored."""


class BlobNotFound(StorageError, KeyError):
    """No blob under that key."""


def content_key(data: bytes) -> str:
    """The key a blob is stored under: hex SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def _check_key(key: str) -> str:
    # Keys come back from the database and URLs: never let one become a path outside the root.
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise BlobNotFound(key)
    return key


def key_path(key: str) -> str:
    """Relative location of a key: ``ab/cd/abcd…`` (keeps directories small)."""
    _check_key(key)
    return f"{key[:2]}/{key[2:4]}/{key}"


class Storage(abc.ABC):
    """Where photo bytes live. Content-addressed, idempotent, and never half-written."""

    @abc.abstractmethod
    def put(self, data: bytes, *, content_type: str = "application/octet-stream") -> str:
        """Store ``data`` under its SHA-256 and return the key; storing it again is a no-op."""

    @abc.abstractmethod
    def open(self, key: str) -> bytes:
        """Return the whole blob; :class:`BlobNotFound` if there is none."""

    @abc.abstractmethod
    def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        """Yield the blob in chunks (for streaming responses without loading it whole)."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""

    @abc.abstractmethod
    def delete(self, key: str) -> bool:
        """Remove the blob; return whether there was one."""

    @abc.abstractmethod
    def size(self, key: str) -> int:
        """Size of the blob in bytes; :class:`BlobNotFound` if there is none."""

    @classmethod
    @abc.abstractmethod
    def from_config(cls, config) -> Storage:
        """Build the backend from the application's configuration mapping."""


class LocalStorage(Storage):
    """Blobs as files under ``root`` (default backend; the app points it at ``instance/photos``).

    Writes go to a temporary file in the destination folder, are fsynced, then renamed over the
    final name with :func:`os.replace`, so a crash or a full disk never leaves a partial file
    under a real key.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = os.path.abspath(os.fspath(root))

    @classmethod
    def from_config(cls, config) -> LocalStorage:
        root = config.get("PHOTO_STORAGE_ROOT")
        if not root:
            raise StorageError("PHOTO_STORAGE_ROOT is required for local photo storage")
        return cls(root)

    def __repr__(self):
        return f"LocalStorage({self.root!r})"

    def path(self, key: str) -> str:
        """Absolute file path of a key (for ``send_file``); the file may not exist."""
        return os.path.join(self.root, *key_path(key).split("/"))

    def put(self, data: bytes, *, content_type: str = "application/octet-stream") -> str:
        key = content_key(data)
        final = self.path(key)
        if os.path.exists(final) and os.path.getsize(final) == len(data):
            return key
        folder = os.path.dirname(final)
        tmp = None
        try:
            self._make_folders(folder)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            tmp = None
            _fsync_dir(folder)
        except BaseException as exc:
            # Leave nothing behind: no temporary file, no empty ab/cd folders.
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            self._prune(folder)
            if not isinstance(exc, OSError):
                raise
            if exc.errno in _FULL_ERRNOS:
                raise StorageFull(N_("存储空间不足，照片未保存")) from exc
            raise StorageError(f"could not store blob {key}: {exc}") from exc
        return key

    def _make_folders(self, folder: str) -> None:
        """Create the ``ab/cd`` folders of a key as needed, each one durably: a new folder's
        entry is synced in its parent, so a crash cannot take a stored photo's folder away."""
        if os.path.isdir(folder):
            return
        parent = os.path.dirname(folder)
        if parent != self.root and os.path.commonpath([parent, self.root]) == self.root:
            self._make_folders(parent)
        else:
            os.makedirs(parent, exist_ok=True)
        try:
            os.mkdir(folder)
        except FileExistsError:
            return  # another writer made it (and synced it)
        _fsync_dir(parent)

    def _prune(self, folder: str) -> None:
        """Remove the ``ab/cd`` folders a failed write created, if they are empty."""
        for _ in range(2):
            if os.path.commonpath([folder, self.root]) != self.root or folder == self.root:
                return
            try:
                os.rmdir(folder)
            except OSError:
                return
            folder = os.path.dirname(folder)

    def open(self, key: str) -> bytes:
        try:
            with open(self.path(key), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        try:
            fh = open(self.path(key), "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return _iter_file(fh, chunk_size)

    def exists(self, key: str) -> bool:
        try:
            return os.path.isfile(self.path(key))
        except BlobNotFound:
            return False

    def delete(self, key: str) -> bool:
        try:
            os.unlink(self.path(key))
        except (FileNotFoundError, BlobNotFound):
            return False
        return True

    def size(self, key: str) -> int:
        try:
            return os.path.getsize(self.path(key))
        except FileNotFoundError:
            raise BlobNotFound(key) from None


def _iter_file(fh, chunk_size: int) -> Iterator[bytes]:
    with fh:
        while chunk := fh.read(chunk_size):
            yield chunk


def _fsync_dir(folder: str) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class S3Storage(Storage):
    """Blobs in an S3-compatible bucket through boto3 (AWS, MinIO, Ceph, Alibaba OSS…).

    An S3 PUT is atomic (an object is visible whole or not at all), so no temporary object is
    needed; idempotency is a HEAD before the PUT.
    """

    def __init__(self, bucket: str, *, endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None, prefix: str = "", client=None):
        if not bucket:
            raise StorageError("an S3 bucket name is required for S3 photo storage")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            import boto3  # only needed when this backend is configured
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region or None,
                aws_access_key_id=access_key_id or None,
                aws_secret_access_key=secret_access_key or None,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}),
            )
        self.client = client

    @classmethod
    def from_config(cls, config) -> S3Storage:
        return cls(
            config.get("PHOTO_S3_BUCKET"),
            endpoint_url=config.get("PHOTO_S3_ENDPOINT_URL"),
            region=config.get("PHOTO_S3_REGION"),
            access_key_id=config.get("PHOTO_S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("PHOTO_S3_SECRET_ACCESS_KEY"),
            prefix=config.get("PHOTO_S3_PREFIX") or "",
        )

    def __repr__(self):
        return f"S3Storage({self.bucket!r}, prefix={self.prefix!r})"

    def object_key(self, key: str) -> str:
        """The object name of a key inside the bucket."""
        return self.prefix + key_path(key)

    def _error(self, exc, key):
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return BlobNotFound(key)
            if code in ("QuotaExceeded", "XMinioStorageFull", "EntityTooLarge"):
                return StorageFull(N_("存储空间不足，照片未保存"))
        return StorageError(f"S3 error for blob {key}: {exc}")

    def _head(self, key: str) -> dict | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except (ClientError, BotoCoreError) as exc:
            err = self._error(exc, key)
            if isinstance(err, BlobNotFound):
                return None
            raise err from exc

    def put(self, data: bytes, *, content_type: str = "application/octet-stream") -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        key = content_key(data)
        head = self._head(key)
        if head is not None and head.get("ContentLength") == len(data):
            return key
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.object_key(key), Body=data,
                ContentType=content_type, Metadata={"sha256": key},
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, key) from exc
        return key

    def _get(self, key: str):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, key) from exc

    def open(self, key: str) -> bytes:
        body = self._get(key)
        try:
            return body.read()
        finally:
            body.close()

    def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        body = self._get(key)

        def chunks():
            try:
                yield from body.iter_chunks(chunk_size)
            finally:
                body.close()

        return chunks()

    def exists(self, key: str) -> bool:
        try:
            return self._head(key) is not None
        except BlobNotFound:
            return False

    def delete(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        if not self.exists(key):
            return False
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, key) from exc
        return True

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise BlobNotFound(key)
        return int(head["ContentLength"])


#: Storage backends by configuration key (``PHOTO_STORAGE``).
STORAGE_BACKENDS: dict[str, type[Storage]] = {
    "local": LocalStorage,
    "s3": S3Storage,
}


def make_storage(config) -> Storage:
    """Build the photo storage named by ``config["PHOTO_STORAGE"]`` (default ``"local"``)."""
    name = (config.get("PHOTO_STORAGE") or "local").lower()
    try:
        backend = STORAGE_BACKENDS[name]
    except KeyError:
        raise StorageError(
            f"unknown PHOTO_STORAGE {name!r}; choose one of {sorted(STORAGE_BACKENDS)}"
        ) from None
    return backend.from_config(config)
