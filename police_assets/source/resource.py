"""The data.police.uk source as a Dagster resource: the JSON API and range reads of the bulk archives, or the
same from a folder of archives (``DATA_POLICE_UK_URL=file:///...``)."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource

from police_assets.core import config
from police_assets.source import client
from police_assets.source.client import PoliceApi, archive_url, make_session
from police_assets.source.local import LocalArchives, is_local, local_root
from police_assets.source.remote_zip import RemoteArchive


class DataPoliceUk(ConfigurableResource):
    """data.police.uk (or a local fake of it): the JSON API and range reads of the bulk archives."""

    base_url: str = config.DEFAULT_BASE_URL
    requests_per_second: float = config.REQUESTS_PER_SECOND
    requests_burst: int = config.REQUESTS_BURST
    timeout_seconds: float = client.TIMEOUT_SECONDS
    retries: int = client.RETRIES
    backoff_factor: float = client.BACKOFF_FACTOR

    @classmethod
    def from_env(cls) -> DataPoliceUk:
        return cls(
            base_url=config.base_url(),
            requests_per_second=config.requests_per_second(),
            requests_burst=config.requests_burst(),
        )

    def session(self):
        return make_session(self.requests_per_second, self.retries, self.backoff_factor, self.requests_burst)

    def api(self, session=None) -> PoliceApi | LocalArchives:
        """data.police.uk's API, or its answers from a folder of archives (``file://``: source.local)."""
        if is_local(self.base_url):
            return LocalArchives(local_root(self.base_url))
        return PoliceApi(self.base_url, session or self.session(), timeout=self.timeout_seconds)

    def open_archive(self, archive_month: str, spool_dir: Path, session=None) -> RemoteArchive:
        if is_local(self.base_url):
            url = LocalArchives(local_root(self.base_url)).path(archive_month).as_uri()
        else:
            url = archive_url(self.base_url, archive_month)
        return RemoteArchive(session or self.session(), url, spool_dir, self.timeout_seconds)
