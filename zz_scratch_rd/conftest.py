# temporary (helper agent): reuse a pre-ingested index to iterate quickly; deleted afterwards
from pathlib import Path
import pytest
from tests.conftest import *  # noqa
from tests.conftest import LiveServer  # noqa


@pytest.fixture(scope="session")
def corpus_settings(embedder):
    from rodedraad.settings import Settings
    return Settings(_env_file=None, data_dir=Path("/tmp/rdbench/data"))
