"""Stage 7, the public dashboards: a static site rendered from the published snapshot (``render.py``), its pages
as code (``pages/``); asset ``publish/site``."""
