"""A real instance for tests that start and kill ``workdesk worker`` processes (email and webhooks)."""
import pytest


@pytest.fixture
def worker_instance(tmp_path, monkeypatch, request):
    monkeypatch.syspath_prepend(str(request.config.rootpath))
    from tests.notifications.worker_instance import Instance
    created = Instance(tmp_path / "instance").init()
    yield created
    created.stop_all()
