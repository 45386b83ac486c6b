"""Model versions: every trained model is kept; one of them is *current*.

Layout under ``<model_dir>``::

    versions/risk-20261203T130501.joblib   one file per trained model (never overwritten)
    risk-current.joblib                    the current model (what ``load_or_train`` loads)

Switching the current model (after ``rcops train`` or ``rcops models use``) hard-links
(or, where links are impossible, copies) the version file to a temporary name in
``<model_dir>`` and renames it over ``risk-current.joblib``: ``os.replace`` is atomic,
so a reader sees either the old or the new model, never a half-written file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rcops.classifier.exceptions import ModelFileError
from rcops.classifier.model import CURRENT_FILE, RiskModel, load, read_header, save
from rcops.store.settings import Settings

VERSIONS_DIR = "versions"


@dataclass(frozen=True)
class VersionInfo:
    version: str
    path: Path
    trained_at: str
    current: bool
    data_sha256: str
    total: int
    operator_labels: int
    #: negative F1 of the model per evaluation set, as measured at training time
    negative_f1: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "path": str(self.path),
            "trained_at": self.trained_at,
            "current": self.current,
            "data_sha256": self.data_sha256,
            "total": self.total,
            "operator_labels": self.operator_labels,
            "negative_f1": self.negative_f1,
        }


def versions_dir(settings: Settings) -> Path:
    return Path(settings.model_dir) / VERSIONS_DIR


def version_path(settings: Settings, version: str) -> Path:
    if not version or "/" in version or "\\" in version or version.startswith("."):
        raise ModelFileError(f"模型版本名 {version!r} 不合法。请用 `rcops models` 查看可用版本。")
    return versions_dir(settings) / f"{version}.joblib"


def _switch(settings: Settings, source: Path) -> None:
    target = Path(settings.model_dir) / CURRENT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=CURRENT_FILE + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_version(model: RiskModel, settings: Settings, make_current: bool = True) -> Path:
    """Save *model* as a new version file (a name already taken gets a ``-2``, ``-3``
    suffix) and, by default, make it the current model."""
    base = model.version
    path = version_path(settings, base)
    n = 2
    while path.exists():
        model.version = f"{base}-{n}"
        path = version_path(settings, model.version)
        n += 1
    save(model, path)
    if make_current:
        _switch(settings, path)
    return path


def current_version(settings: Settings) -> str | None:
    path = Path(settings.model_dir) / CURRENT_FILE
    if not path.is_file():
        return None
    try:
        version, _ = read_header(path)
    except ModelFileError:
        return None
    return version or None


def list_versions(settings: Settings) -> list[VersionInfo]:
    """Every readable version file, oldest first; the current one is marked."""
    folder = versions_dir(settings)
    if not folder.is_dir():
        return []
    current = current_version(settings)
    out = []
    for path in sorted(folder.glob("*.joblib")):
        try:
            version, meta = read_header(path)
        except ModelFileError:
            continue
        version = version or path.stem
        data = meta.get("data", {})
        sets = (meta.get("metrics") or {}).get("sets", {})
        out.append(
            VersionInfo(
                version=version,
                path=path,
                trained_at=str(meta.get("trained_at", "")),
                current=version == current,
                data_sha256=str(data.get("sha256", "")),
                total=int(data.get("total", 0)),
                operator_labels=int(data.get("sources", {}).get("operator_labels", 0)),
                negative_f1={k: float(v["model"]["negative_f1"]) for k, v in sets.items() if "model" in v},
            )
        )
    out.sort(key=lambda v: (v.trained_at, v.version))
    return out


def use_version(settings: Settings, version: str) -> RiskModel:
    """Make *version* the current model (roll back or forward). The file is loaded
    first, so a corrupt or incompatible version is refused and the current model
    stays as it was."""
    path = version_path(settings, version)
    if not path.is_file():
        known = "、".join(v.version for v in list_versions(settings)) or "无"
        raise ModelFileError(f"没有模型版本 {version}。已有版本：{known}。")
    model = load(path)
    _switch(settings, path)
    return model


__all__ = ["VersionInfo", "save_version", "list_versions", "use_version", "current_version", "versions_dir",
           "version_path"]
