"""Maps the layout's folders under the one public import name, ``workdesk``.

The folders stay where the project layout puts them (``core/``, ``plugins/``, ``admin/``); installed,
they are ``workdesk``, ``workdesk.plugins`` and ``workdesk.admin``, so nothing named ``core``,
``plugins`` or ``admin`` lands at the top level of site-packages. Everything else is in pyproject.toml.
"""
from setuptools import find_packages, setup

FOLDERS = {"workdesk": "core", "workdesk.plugins": "plugins", "workdesk.admin": "admin"}


def mapped_packages() -> list[str]:
    packages = []
    for name, folder in FOLDERS.items():
        packages.append(name)
        packages.extend(f"{name}.{sub}" for sub in find_packages(folder))
    return packages


setup(package_dir=FOLDERS, packages=mapped_packages())
