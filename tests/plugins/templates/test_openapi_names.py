"""The OpenAPI document stays unambiguous with the templates plugin beside the other first-party plugins."""
import warnings

def test_no_schema_name_clash(workdesk_app, enable_plugin, api_client, make_user):
    for name in ("templates", "compliance_review", "recurring", "duty_roster"):
        enable_plugin(name)
    client = api_client(user=make_user("admin"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert client.get("/api/v1/openapi.json").status_code == 200
    assert not [str(w.message) for w in caught if "resolved to the name" in str(w.message)]
