"""The one settings object of rcops.

Every value comes from an environment variable with the prefix ``RCOPS_``
(for example ``RCOPS_DATABASE_URL``), from an optional ``.env`` file in the
working directory, or from the documented default below. Build it once with
:func:`get_settings` at the outermost caller and pass it down; no other module
reads ``os.environ`` for configuration.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RCOPS_", env_file=".env", extra="ignore")

    #: Folder for everything the product writes: database file, models, logs.
    data_dir: Path = Path("var")
    #: SQLAlchemy URL. Empty means the embedded SQLite file ``<data_dir>/rcops.db``.
    #: PostgreSQL: ``postgresql+psycopg://user@127.0.0.1:5432/dbname``.
    database_url: str = ""
    #: The public data sets (training data, replay texts, fixtures).
    shared_data_dir: Path = Path("../shared/data")
    #: Source definitions loaded by ``rcops init``/``rcops demo`` (YAML). Empty: the packaged
    #: demo sources (replay site) for ``demo``, the packaged real sources for ``run``.
    sources_file: str = ""
    #: Time zone in which times are shown and cron schedules are read.
    timezone: str = "Asia/Shanghai"

    #: Replay site (demo): where it listens and how often it releases a new item.
    replay_host: str = "127.0.0.1"
    replay_port: int = 8765
    replay_release_seconds: float = 2.0
    #: How many items the replay site has released when it starts.
    replay_initial_items: int = 30

    #: Streamlit console port.
    console_port: int = 8501

    #: A crawl subprocess that runs longer than this is killed and recorded as failed.
    crawl_timeout_seconds: int = 180
    #: Per-request download timeout inside a crawl (seconds).
    download_timeout_seconds: int = 20
    #: Scale-out: Redis URL (``redis://127.0.0.1:6379/0``) of a crawl frontier and de-duplication
    #: filter shared by several crawler processes (scrapy-redis). Empty: one process per crawl.
    crawl_redis_url: str = ""
    #: Scale-out: crawler processes per crawl of one source when ``crawl_redis_url`` is set.
    crawl_processes: int = 1
    #: Scheduler: how late a job may start and still run (seconds).
    misfire_grace_seconds: int = 60
    #: Scheduler: how often pending mentions are graded and deadlines checked (seconds).
    triage_interval_seconds: int = 10

    #: Incident grouping: mentions further apart than this never join one incident.
    grouping_window_hours: int = 72
    #: Incident grouping: share of a mention's character 3-grams found in an incident's
    #: signature at or above which the mention joins that incident.
    grouping_threshold: float = 0.5

    log_level: str = "INFO"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rcops.db').as_posix()}"

    @property
    def model_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.model_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings built once per process from the environment."""
    return Settings()


def fresh_settings(**overrides: object) -> Settings:
    """Settings from the environment with explicit overrides (tests, CLI options)."""
    return Settings(**overrides)  # type: ignore[arg-type]


__all__ = ["Settings", "get_settings", "fresh_settings"]
