"""Download pinned benchmark files into the cache: sha256-checked, atomic, one clear error when offline.

Cache: ``$FORMULATE_DATA_DIR`` or ``~/.cache/formulate/datasets``, one folder per dataset.
``$FORMULATE_DATASET_BASE_URL`` replaces ``https://raw.githubusercontent.com`` (mirrors, tests).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from formulate.datasets.registry import DIRECTORY, DatasetSpec
from formulate.errors import DatasetError

log = logging.getLogger(__name__)

DATA_DIR_ENV = "FORMULATE_DATA_DIR"
BASE_URL_ENV = "FORMULATE_DATASET_BASE_URL"
TIMEOUT_S = 30.0


def cache_dir() -> Path:
    """Where downloaded datasets live."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "formulate" / "datasets"


def base_url() -> str | None:
    """The base-URL override, if set."""
    return os.environ.get(BASE_URL_ENV) or None


def cached_path(spec: DatasetSpec, root: Path | None = None) -> Path:
    """Where ``spec`` lives (or will live) in the cache."""
    return (root or cache_dir()) / spec.name / spec.filename


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _client(url: str):
    """An HTTP client; loopback URLs bypass any proxy set in the environment."""
    import httpx

    host = httpx.URL(url).host
    loopback = host in ("127.0.0.1", "localhost", "::1")
    return httpx.Client(timeout=TIMEOUT_S, follow_redirects=True, trust_env=not loopback)


def _get(client, url: str, name: str, target: Path) -> bytes:
    """GET ``url`` or raise the one-line offline DatasetError."""
    import httpx

    try:
        response = client.get(url)
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        reason = f"HTTP {exc.response.status_code}"
        raise DatasetError(f"cannot download {name} from {url}: {reason}; download it by hand to {target} "
                           "or pass a local file") from None
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise DatasetError(f"cannot download {name} from {url}: {reason}; download it by hand to {target} "
                           "or pass a local file") from None
    return response.content


def _check_sha(spec: DatasetSpec, data: bytes, url: str) -> None:
    got = sha256_bytes(data)
    if spec.sha256 and got != spec.sha256:
        raise DatasetError(f"checksum mismatch for {spec.name} from {url}: expected sha256 {spec.sha256}, got {got}; "
                           "the file was not kept")


def _fetch_directory(spec: DatasetSpec, target: Path, base: str | None,
                     progress: Callable[[int, int], None] | None) -> None:
    """Fetch question.txt and answer.json of every folder (never model.txt/code.py) into one JSONL."""
    root = spec.url(base)

    def one(client, folder: str) -> dict[str, object]:
        question = _get(client, f"{root}/{folder}/question.txt", spec.name, target).decode("utf-8")
        answer_text = _get(client, f"{root}/{folder}/answer.json", spec.name, target).decode("utf-8")
        try:
            answer = json.loads(answer_text)
        except ValueError:
            raise DatasetError(f"{spec.name}: {folder}/answer.json is not valid JSON") from None
        return {"id": folder, "question": question, "answer": answer}

    records: list[dict[str, object]] = []
    with _client(root) as client, ThreadPoolExecutor(max_workers=8) as pool:
        for i, record in enumerate(pool.map(lambda f: one(client, f), spec.folders), 1):
            records.append(record)
            if progress:
                progress(i, len(spec.folders))
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    atomic_write(target, data)
    (target.parent / "SOURCE").write_text(f"{spec.url()}\ncommit {spec.commit}\nsha256 of assembled file "
                                          f"{sha256_bytes(data)}\n", encoding="utf-8")


def fetch(spec: DatasetSpec, *, root: Path | None = None, force: bool = False,
          progress: Callable[[int, int], None] | None = None) -> Path:
    """The cached file of ``spec``, downloading it first when missing (or ``force``).

    A cached single file is re-checked against its sha256; a bad one is removed and fetched again.
    """
    target = cached_path(spec, root)
    if target.is_file() and not force:
        if spec.sha256 is None or sha256_file(target) == spec.sha256:
            log.debug("dataset %s: cache hit %s", spec.name, target)
            return target
        log.warning("dataset %s: cached file %s fails its checksum; downloading again", spec.name, target)
        target.unlink()
    base = base_url()
    if spec.format == DIRECTORY:
        _fetch_directory(spec, target, base, progress)
        return target
    url = spec.url(base)
    log.info("downloading %s from %s", spec.name, url)
    with _client(url) as client:
        data = _get(client, url, spec.name, target)
    _check_sha(spec, data, url)
    atomic_write(target, data)
    return target


__all__ = ["BASE_URL_ENV", "DATA_DIR_ENV", "atomic_write", "base_url", "cache_dir", "cached_path", "fetch",
           "sha256_bytes", "sha256_file"]
