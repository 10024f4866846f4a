"""The public dashboards: a static site rendered from the published marts (see render.py)."""
