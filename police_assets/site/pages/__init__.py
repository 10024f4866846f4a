"""The dashboards as code: each page's cubes, filters, headline numbers and Vega-Altair charts.

A page is data (cubes built from the published marts) plus views. A view says how the browser groups a cube
after filtering (``group``), what it sums (``measures``), which ratios it derives, and how it is drawn: an
Altair chart over a named dataset the browser fills, and the columns of the table shown as its alternative.
One module per page (``crime``, ``outcomes``, ``stop_and_search``, ``coverage``), each a ``build(con, unknown)``
over the published marts; ``base`` holds what a page is made of, ``charts`` the chart shapes they share, and
``render.py`` turns pages into HTML.

Unknown is never zero, and every page says which (the rules are the marts'; pages only show them):
* recorded crime and anti-social behaviour are separate series, never summed; crime is the default;
* a rate divides by the records whose field was recorded; where none was, it reads "not published";
* a page with a ``coverage`` cube (fct_force_month_coverage of its dataset) says which force-months of the
  selection have no file or a partial one, marks trend points over them, and shows "no data" instead of 0
  when nothing of the selection was published;
* rankings and the map say what share of the selection they leave out (no LSOA, no coordinates).
"""

from police_assets.site.pages import coverage, crime, outcomes, stop_and_search
from police_assets.site.pages.base import Filter, Page, View

# In the site's navigation order; each takes (published marts connection, the marts' unknown label).
PAGE_BUILDERS = [crime.build, outcomes.build, stop_and_search.build, coverage.build]

__all__ = ["PAGE_BUILDERS", "Filter", "Page", "View"]
