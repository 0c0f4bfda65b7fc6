def test_boot(workdesk_app, client, make_user, make_department, make_task, login, drain_events):
    d = make_department()
    u = make_user("agent", departments=[d])
    t = make_task(u, d)
    assert t.number == 1
    login(client, u)
    r = client.get("/")
    assert r.status_code == 200, r.data
    assert b"Workdesk" in r.data
    assert drain_events() >= 1
import pytest
@pytest.mark.parametrize("workdesk_database", ["postgresql"], indirect=True)
def test_boot_pg(workdesk_app, make_user, make_department, make_task, drain_events):
    d = make_department()
    u = make_user("agent", departments=[d])
    t = make_task(u, d)
    from core.services.tasks import update_task
    update_task(u, t.id, {"status": "open"})
    assert drain_events() >= 2
