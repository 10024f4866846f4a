"""An asset's code version covers every platform module it runs: derived from the imports, checked here against
what Python really loads."""

import json
import subprocess
import sys

import pytest

from police_assets.core import metadata

ASSET_MODULES = [
    "police_assets.raw.assets",
    "police_assets.lake.assets",
    "police_assets.warehouse.assets",
    "police_assets.publish.assets",
    "police_assets.site.assets",
]

LOADED = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m.__file__ for n, m in list(sys.modules.items())
                        if n.split(".")[0] == "police_assets" and getattr(m, "__file__", None))))
"""


@pytest.mark.parametrize("module", ASSET_MODULES)
def test_the_code_version_covers_every_platform_module_the_asset_loads(module):
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", LOADED, module], capture_output=True, text=True, check=True).stdout
    )
    digested = [str(f) for f in metadata.code_files(module) if f.suffix == ".py"]
    assert digested == loaded


def test_a_change_in_an_imported_module_changes_the_version(monkeypatch):
    before = metadata.code_version("police_assets.lake.assets")
    convert = next(f for f in metadata.code_files("police_assets.lake.assets") if f.name == "convert.py")
    real = type(convert).read_bytes
    monkeypatch.setattr(type(convert), "read_bytes", lambda self: real(self) + b"#" if self == convert else real(self))
    assert metadata.code_version("police_assets.lake.assets") != before


def test_the_site_s_templates_and_scripts_count_too():
    names = {f.name for f in metadata.code_files("police_assets.site.assets")}
    assert {"dashboard.js", "style.css", "dashboard.html.j2"} <= names
