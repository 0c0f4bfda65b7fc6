def test_probe(client, admin, workdesk_app):
    from core.plugins import get_registry, set_plugin_enabled
    from admin import BLUEPRINTS_KEY
    reg = get_registry()
    owners = workdesk_app.extensions["workdesk_blueprint_owner"]
    admin_ext = workdesk_app.extensions["admin"][0]
    for name, info in reg.plugins.items():
        print(name, info.usable, info.error)
        if not info.usable: continue
        set_plugin_enabled(name, True)
        for view in admin_ext._views:
            if owners.get(view.blueprint.name) == name:
                r = client.get(view.url + "/")
                print("  ", view.url, r.status_code)
                if view.__class__.__name__.endswith("View") and hasattr(view, "can_create") and view.can_create:
                    r = client.get(view.url + "/new/")
                    print("   new", r.status_code, 'name="csrf_token"' in r.get_data(as_text=True))
