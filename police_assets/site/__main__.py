"""``python -m police_assets.site``: re-render the dashboards from the published snapshot, outside Dagster.

Handy while editing ``pages/``: no pipeline run needed, only ``published/`` from an earlier run.
"""

import sys

from police_assets.core.storage import PoliceStorage
from police_assets.site.render import render_site


def main() -> int:
    storage = PoliceStorage.from_env()
    try:
        result = render_site(storage.published_dir)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    for name, size in sorted(result.pages.items()):
        print(f"{result.out_dir / name}  {size / 1e6:.2f} MB")
    print(f"{len(result.pages)} pages in {result.seconds:.1f}s. Serve: make serve  (http://127.0.0.1:8000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
