"""Fixtures for the CRM sync tests: the two fake CRMs on 127.0.0.1 and the plugin configured for each."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_crm import TOKEN, start_bitrix, start_generic  # noqa: E402

WEBHOOK_SECRET = "crm-webhook-secret-0123456789"
APPLICATION_TOKEN = "bx-app-token-abcdef"
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """Retries inside a run wait 50 ms, doubling (Retry-After is still waited in full)."""
    from workdesk.plugins.crm_sync import connectors
    monkeypatch.setattr(connectors, "BACKOFF_SECONDS", 0.05)


@pytest.fixture
def generic_crm():
    server = start_generic()
    yield server
    server.stop()


@pytest.fixture
def bitrix():
    server = start_bitrix(page_size=3)
    yield server
    server.stop()


def generic_settings(server, **extra) -> dict:
    """Loopback must be allowed explicitly, as for any private destination."""
    return {"connector": "generic", "generic_base_url": server.url, "generic_token": TOKEN,
            "generic_webhook_secret": WEBHOOK_SECRET, "allow_private_destinations": True, "timeout_seconds": 0.5,
            "rate_limit_per_second": 200, "page_size": 3, "retry_base_seconds": 10, "max_attempts": 3, **extra}


def bitrix_settings(server, **extra) -> dict:
    return {"connector": "bitrix24", "bitrix_webhook_url": server.url, "bitrix_application_token": APPLICATION_TOKEN,
            "allow_private_destinations": True, "timeout_seconds": 0.5, "rate_limit_per_second": 200,
            "retry_base_seconds": 10, "max_attempts": 3, **extra}


@pytest.fixture
def crm_generic(workdesk_app, enable_plugin, generic_crm):
    enable_plugin("crm_sync", **generic_settings(generic_crm))
    return generic_crm


@pytest.fixture
def crm_bitrix(workdesk_app, enable_plugin, bitrix):
    enable_plugin("crm_sync", **bitrix_settings(bitrix))
    return bitrix


@pytest.fixture
def sync():
    from workdesk.plugins.crm_sync import sync as module
    return module
