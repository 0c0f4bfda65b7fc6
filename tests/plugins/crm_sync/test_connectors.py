"""A connector another plugin registers through ``register_crm_connectors``: chosen by name in the settings
(and offered in the admin panel's settings form), pulled like the built-in ones; its plugin switched off,
the sync says so. And the generic connector's field map, which the settings check."""
from __future__ import annotations

import re

import marshmallow
import pytest

from conftest import NOW, generic_settings

from click.testing import CliRunner

from workdesk.plugins.crm_sync.cli import pull_command
from workdesk.plugins.crm_sync.connectors import ConnectorMissing, PermanentCrmError
from workdesk.plugins.crm_sync.models import CrmLink, Customer
from workdesk.registry import save_plugin_settings, set_plugin_enabled

ACME = "tests.plugins.crm_sync.acme_plugin:AcmeCrmPlugin"
BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": [*workdesk_config.get("extra_plugins", []), ACME]}


def test_a_third_party_connector_is_chosen_by_name_and_pulls(workdesk_app, enable_plugin, generic_crm, sync,
                                                             client, login, make_user):
    for n in range(1, 4):
        generic_crm.put("contacts", f"a{n}", name=f"Acme person {n}", emails=[f"a{n}@acme.example"])
    enable_plugin("acme_crm", base_url=generic_crm.url)
    enable_plugin("crm_sync", connector="acme", allow_private_destinations=True, rate_limit_per_second=200)
    assert sync.pull(NOW)["created"] == 3
    assert {link.connector for link in CrmLink.select()} == {"acme"} and Customer.select().count() == 3
    assert sync.pull(NOW)["created"] == 0  # its cursor was kept like any other

    login(client, make_user("admin"))
    form = client.get("/admin/plugins/crm_sync/settings").get_data(as_text=True)
    assert re.search(r'<option selected value="acme">Acme CRM</option>', form), form
    assert '<option value="bitrix24">Bitrix24</option>' in form
    headings = re.findall(r'<h6 class="mt-4 wd-settings-group">([^<]+)</h6>', form)
    assert headings == ["Generic REST/JSON", "Bitrix24", "Every connector", "Customer fields", "Sync and activities"]
    assert form.index("Bitrix24</h6>") < form.index('name="bitrix_webhook_url"') < form.index("Every connector</h6>")
    login(client, make_user("admin", locale="ru"))  # the built-in connectors' labels in the reader's language
    form = client.get("/admin/plugins/crm_sync/settings").get_data(as_text=True)
    assert '<option value="generic">Универсальный REST/JSON</option>' in form

    set_plugin_enabled("acme_crm", False)  # the choice stays readable; the sync names the fix
    with pytest.raises(ConnectorMissing) as gone:
        sync.pull(NOW)
    assert isinstance(gone.value, PermanentCrmError) and gone.value.name == "acme" and gone.value.installed
    assert "Коннектор acme принадлежит отключённому плагину" in str(gone.value)  # the last reader's language


def test_an_unknown_connector_is_refused_naming_the_registered_ones(workdesk_app):
    with pytest.raises(marshmallow.ValidationError) as refused:
        save_plugin_settings("crm_sync", {"connector": "salesforce"})
    message = refused.value.messages["connector"][0]
    assert "generic" in message and "bitrix24" in message and "acme" in message


def test_the_field_map_reads_the_crm_s_own_names(workdesk_app, enable_plugin, generic_crm, sync):
    generic_crm.put("contacts", "m1", full_name="Мария Иванова", email_list=["maria@client.example"])
    enable_plugin("crm_sync", **generic_settings(generic_crm, generic_field_map={"name": "full_name",
                                                                                "emails": "email_list"}))
    sync.pull(NOW)
    maria = Customer.get()
    assert maria.name == "Мария Иванова" and maria.emails == ["maria@client.example"]


@pytest.mark.parametrize("field_map", [{"name": ["full_name"]}, {"nickname": "nick"}, {"name": ""}])
def test_a_field_map_that_cannot_work_is_refused(workdesk_app, generic_crm, field_map):
    with pytest.raises(marshmallow.ValidationError) as refused:
        save_plugin_settings("crm_sync", generic_settings(generic_crm, generic_field_map=field_map))
    assert "generic_field_map" in refused.value.messages


def test_a_stored_connector_whose_plugin_is_gone_is_kept_and_named(workdesk_app, enable_plugin):
    from workdesk import get_registry, plugin_settings, write_transaction
    from workdesk.models import PluginState
    enable_plugin("crm_sync", connector="csv", page_size=20)
    with write_transaction():  # as left by a connector package since uninstalled
        PluginState.update(settings={**PluginState.get(PluginState.name == "crm_sync").settings,
                                     "connector": "uninstalled"}).where(PluginState.name == "crm_sync").execute()
    get_registry().refresh(force=True)
    current = plugin_settings("crm_sync")
    # the other settings still load; the choice is kept (not the default csv) so the sync stops and says so
    assert current["connector"] == "uninstalled" and current["page_size"] == 20


def assert_nothing_syncs_and_everyone_is_told(workdesk_app, run_jobs, client, login, make_user, why: str) -> None:
    """With the chosen connector ``acme`` gone: no pull from anywhere, and the admin panel, the job, the
    health panel, the plugin list and the command line all name it and the fix."""
    from workdesk import get_registry, plugin_settings
    from workdesk.health import health_report
    from workdesk.models import JobRun, PluginState
    customers = Customer.select().count()
    plugin = get_registry().get("crm_sync")
    assert plugin.missing_configuration(plugin_settings("crm_sync")) == ["connector"]

    assert run_jobs(NOW)["crm_sync.pull"] == "failed"  # not "ran" with the csv connector in its place
    error = JobRun.get(JobRun.name == "crm_sync.pull").last_error
    assert "acme" in error and why in error and "choose another connector" in error
    assert "acme" in PluginState.get(PluginState.name == "crm_sync").last_error  # `workdesk plugins list`
    assert any(job["name"] == "crm_sync.pull" and "acme" in job["error"]
               for job in health_report(NOW)["failed"]["jobs"])
    with workdesk_app.app_context():
        result = CliRunner().invoke(pull_command, [])
    assert result.exit_code == 2, result.output
    assert "acme" in result.output and why in result.output and "choose another connector" in result.output

    login(client, make_user("admin"))
    page = client.get("/admin/crm_sync/status/").get_data(as_text=True)
    alert = re.search(r'<div class="alert alert-danger crm-missing-connector"[^>]*>([^<]+)</div>', page)
    assert alert and "acme" in alert.group(1) and why in alert.group(1), page
    assert "<h2>CRM sync: acme</h2>" in page
    plugins_page = client.get("/admin/plugins/").get_data(as_text=True)
    assert "Needs configuration: connector." in plugins_page, plugins_page
    login(client, make_user("admin", locale="ru"))  # in the reader's language
    assert "Коннектор acme" in client.get("/admin/crm_sync/status/").get_data(as_text=True)
    assert Customer.select().count() == customers  # nothing was pulled from another source

    # choosing another connector ends it
    save_plugin_settings("crm_sync", {"connector": "csv"})
    assert plugin.missing_configuration(plugin_settings("crm_sync")) == []
    assert "crm-missing-connector" not in client.get("/admin/crm_sync/status/").get_data(as_text=True)
    assert run_jobs(NOW.replace(minute=30))["crm_sync.pull"] == "ran"


@BOTH_DATABASES
def test_a_chosen_connector_whose_plugin_is_disabled_stops_the_sync_loudly(
        workdesk_app, enable_plugin, generic_crm, sync, run_jobs, client, login, make_user):
    generic_crm.put("contacts", "a1", name="Acme person", emails=["a1@acme.example"])
    enable_plugin("acme_crm", base_url=generic_crm.url)
    enable_plugin("crm_sync", connector="acme", allow_private_destinations=True, rate_limit_per_second=200)
    assert sync.pull(NOW)["created"] == 1
    generic_crm.put("contacts", "a2", name="Another")
    set_plugin_enabled("acme_crm", False)
    assert_nothing_syncs_and_everyone_is_told(workdesk_app, run_jobs, client, login, make_user, "disabled plugin")
