"""The dbt marts over a small hand-made release, against values worked out by hand.

Loaded month by month in order, re-run, and loaded in reverse order: the marts must be the same each time.

January (kent, essex) and February; February's outcomes file carries outcomes for January's crimes.
"""

import duckdb
import pytest

from police_assets.core.datasets import OUTCOMES, STOP_AND_SEARCH, STREET
from police_assets.core.storage import PoliceStorage
from police_assets.definitions import all_assets
from police_assets.transform.checks import force_month_coverage
from police_assets.warehouse.checks import newest_published_month_loaded
from police_dev.fake.generate import csv_bytes, write_api, write_archive
from police_dev.fake.server import FakePoliceServer
from tests.helpers import fast_police, materialize_months

A, B, C, D, E = ("a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64)
KENT, ESSEX = "Kent Police", "Essex Police"


def street(crime_id, month, force, ctype, lsoa, lon="0.52", lat="51.27"):
    located = bool(lsoa)
    return [
        crime_id,
        month,
        force,
        force,
        lon if located else "",
        lat if located else "",
        "On or near Park Road" if located else "No Location",
        "E01024000" if located else "",
        lsoa,
        ctype,
        "",
        "",
    ]


def outcome(crime_id, month, force, outcome_type):
    return [
        crime_id,
        month,
        force,
        force,
        "0.52",
        "51.27",
        "On or near Park Road",
        "E01024000",
        "Maidstone 001A",
        outcome_type,
    ]


def search(outcome_label, linked):
    return [
        "Person search",
        "2024-01-05T10:00:00+00:00",
        "False",
        "",
        "51.27",
        "0.52",
        "Male",
        "18-24",
        "White - English/Welsh/Scottish/Northern Irish/British",
        "White",
        "Misuse of Drugs Act 1971 (section 23)",
        "Controlled drugs",
        outcome_label,
        linked,
        "",
    ]


MEMBERS = {
    "2024-01/2024-01-kent-street.csv": csv_bytes(
        STREET.header,
        [
            street(A, "2024-01", KENT, "Burglary", "Maidstone 001A"),
            street(A, "2024-01", KENT, "Burglary", "Maidstone 001A"),  # an exact repeat: one crime
            street(B, "2024-01", KENT, "Robbery", "King's Lynn and West Norfolk 002B"),
            street("", "2024-01", KENT, "Anti-social behaviour", "Maidstone 003C"),
            street("", "2024-01", KENT, "Anti-social behaviour", "Maidstone 003C"),  # identical ASB: two incidents
            street(C, "2024-01", KENT, "Drugs", ""),  # no location, no LSOA: town unknown
        ],
    ),
    "2024-01/2024-01-kent-outcomes.csv": csv_bytes(
        OUTCOMES.header, [outcome(B, "2024-01", KENT, "Under investigation")]
    ),
    "2024-01/2024-01-kent-stop-and-search.csv": csv_bytes(
        STOP_AND_SEARCH.header,
        [
            search("Arrest", "True"),
            search("A no further action disposal", "False"),
            search("Arrest", ""),
        ],
    ),
    "2024-01/2024-01-essex-street.csv": csv_bytes(
        STREET.header, [street(D, "2024-01", ESSEX, "Burglary", "Chelmsford 001A")]
    ),
    "2024-02/2024-02-kent-street.csv": csv_bytes(
        STREET.header, [street(E, "2024-02", KENT, "Burglary", "Maidstone 001A")]
    ),
    "2024-02/2024-02-kent-outcomes.csv": csv_bytes(
        OUTCOMES.header,
        [
            outcome(A, "2024-02", KENT, "Suspect charged"),
            outcome(A, "2024-02", KENT, "Suspect charged"),  # repeated outcome row: one record
            outcome(B, "2024-02", KENT, "Unable to prosecute suspect"),
            outcome(E, "2024-02", KENT, "Investigation complete; no suspect identified"),
        ],
    ),
    "2024-02/2024-02-essex-outcomes.csv": csv_bytes(
        OUTCOMES.header, [outcome(D, "2024-02", ESSEX, "Offender given a caution")]
    ),
}


@pytest.fixture(scope="module")
def hand_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("hand-site")
    write_archive(root, "2024-02", MEMBERS)
    write_api(root, ["2024-01", "2024-02"], {"kent": KENT, "essex": ESSEX}, {"2024-01": ["kent"]}, "2024-04-01")
    with FakePoliceServer(root) as server:
        yield server


def _run(storage, server, first, last, checks=False):
    """The whole chain for ``first..last``; the dbt tests and asset checks only when asked (about 6 s a run)."""
    result = materialize_months(
        [*all_assets, newest_published_month_loaded, force_month_coverage],
        first,
        last,
        storage=storage,
        police=fast_police(server),
        checks=checks,
    )
    assert result.success
    return result


MARTS = [
    "fct_street_crimes",
    "fct_outcomes",
    "fct_stop_and_search",
    "agg_street_crimes_monthly",
    "agg_outcomes_by_crime_type",
    "agg_stop_and_search_monthly",
    "dim_forces",
    "dim_towns",
    "dim_crime_types",
    "fct_force_month_coverage",
]


def _snapshot(storage):
    # refreshed_at says WHEN a row was recomputed (the dbt run's start), which differs between runs by design
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        return {
            m: con.execute(f"SELECT COLUMNS(lambda c: c <> 'refreshed_at') FROM marts.{m} ORDER BY ALL").fetchall()
            for m in MARTS
        }


def _query(storage, sql):
    with duckdb.connect(str(storage.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _storage(tmp_path, name):
    return PoliceStorage(data_dir=str(tmp_path / name))


def test_marts_match_hand_computed_values_rerun_and_out_of_order(tmp_path, hand_server, monkeypatch):
    # month by month, in order: February's outcomes must update January's crimes in place (the post-hook)
    in_order = _storage(tmp_path, "in-order")
    monkeypatch.setenv("POLICE_WAREHOUSE", str(in_order.warehouse))
    _run(in_order, hand_server, "2024-01", "2024-01")
    result = _run(in_order, hand_server, "2024-02", "2024-02", checks=True)

    # dbt tests ran as Dagster asset checks, and passed
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert len(checks) > 30
    assert all(c.passed for name, c in checks.items() if name != "force_month_coverage")
    # freshness: February is the newest published month and it is loaded
    assert checks["newest_published_month_loaded"].metadata["months_behind"].value == 0
    # coverage: Essex published no street file in February (the newest month) -> a warning listing it
    coverage = checks["force_month_coverage"]
    assert not coverage.passed and coverage.severity.value == "WARN"
    assert "| 2024-02 | essex | street | missing |" in coverage.metadata["list"].value

    journeys = {
        r[0]: r[1:]
        for r in _query(
            in_order,
            """
        SELECT crime_id, latest_outcome_name, strftime(latest_outcome_month, '%Y-%m'), months_to_outcome,
               has_outcome, published_row_count, town_name, force_name
        FROM marts.fct_street_crimes WHERE crime_id IS NOT NULL""",
        )
    }
    assert journeys == {
        A: ("Suspect charged", "2024-02", 1, True, 2, "Maidstone", KENT),
        B: ("Unable to prosecute suspect", "2024-02", 1, True, 1, "King's Lynn and West Norfolk", KENT),
        C: (None, None, None, False, 1, "(unknown)", KENT),
        D: ("Offender given a caution", "2024-02", 1, True, 1, "Chelmsford", ESSEX),
        E: ("Investigation complete; no suspect identified", "2024-02", 0, True, 1, "Maidstone", KENT),
    }
    # 8 published street rows -> 7 records: A's two rows are one crime; the identical ASB rows stay two incidents
    assert _query(in_order, "SELECT count(*), sum(published_row_count) FROM marts.fct_street_crimes") == [(7, 8)]

    assert sorted(
        _query(
            in_order,
            """
        SELECT strftime(crime_month, '%Y-%m'), force_id, town_name, crime_type_name, crime_count
        FROM marts.agg_street_crimes_monthly""",
        )
    ) == [
        ("2024-01", "essex", "Chelmsford", "Burglary", 1),
        ("2024-01", "kent", "(unknown)", "Drugs", 1),
        ("2024-01", "kent", "King's Lynn and West Norfolk", "Robbery", 1),
        ("2024-01", "kent", "Maidstone", "Anti-social behaviour", 2),
        ("2024-01", "kent", "Maidstone", "Burglary", 1),
        ("2024-02", "kent", "Maidstone", "Burglary", 1),
    ]
    assert sorted(
        _query(
            in_order,
            """
        SELECT strftime(crime_month, '%Y-%m'), force_id, crime_type_name, outcome_group, crime_count
        FROM marts.agg_outcomes_by_crime_type""",
        )
    ) == [
        ("2024-01", "essex", "Burglary", "Out of court", 1),
        ("2024-01", "kent", "Burglary", "Charged or summonsed", 1),
        ("2024-01", "kent", "Drugs", "Awaiting an outcome", 1),  # Kent publishes outcomes: C is awaiting
        ("2024-01", "kent", "Robbery", "No further action", 1),
        ("2024-02", "kent", "Burglary", "No suspect identified", 1),
    ]
    # outcomes: January's interim outcome for B, February's four (A's two rows are one record)
    assert _query(
        in_order,
        """
        SELECT strftime(outcome_month, '%Y-%m'), count(*), sum(published_row_count) FROM marts.fct_outcomes
        GROUP BY 1 ORDER BY 1""",
    ) == [("2024-01", 1, 1), ("2024-02", 4, 5)]
    # stop and search: 3 searches, 2 arrests, 1 find, 2 with the link recorded (the find rate is 1/2, not
    # 1/3: the blank link is unknown, not "not found"), 3 with an outcome recorded
    assert _query(
        in_order,
        """
        SELECT sum(search_count), sum(arrest_count), sum(object_found_count), sum(outcome_link_known_count),
               sum(outcome_known_count)
        FROM marts.agg_stop_and_search_monthly""",
    ) == [(3, 2, 1, 2, 3)]
    assert _query(in_order, "SELECT count(*) FROM marts.fct_stop_and_search WHERE is_object_found IS NULL") == [(1,)]
    # every crime says what is known of its outcome; A, B, D, E have one on record, C awaits one
    assert sorted(
        _query(
            in_order,
            "SELECT crime_id, outcome_status FROM marts.fct_street_crimes WHERE NOT is_anti_social_behaviour",
        )
    ) == sorted(
        [(A, "Outcome recorded"), (B, "Outcome recorded"), (C, "Awaiting an outcome"), (D, "Outcome recorded")]
        + [(E, "Outcome recorded")]
    )
    # coverage: gaps are listed, not zeros
    gaps = _query(
        in_order,
        """
        SELECT strftime(file_month, '%Y-%m'), force_id, dataset_name FROM marts.fct_force_month_coverage
        WHERE is_gap ORDER BY ALL""",
    )
    assert ("2024-01", "essex", "outcomes") in gaps and ("2024-02", "essex", "street") in gaps
    assert ("2024-01", "kent", "street") not in gaps
    statuses = dict(
        ((r[0], r[1], r[2]), r[3])
        for r in _query(
            in_order,
            """SELECT strftime(file_month, '%Y-%m'), force_id, dataset_name, coverage_status
               FROM marts.fct_force_month_coverage""",
        )
    )
    assert statuses[("2024-02", "essex", "street")] == "missing"  # Essex published street in January
    assert statuses[("2024-01", "essex", "stop-and-search")] == "never"  # and never any stop and search
    assert statuses[("2024-01", "kent", "street")] == "complete"
    # the published snapshot: same marts, readable while nothing else holds it, without the live warehouse
    with duckdb.connect(str(in_order.published_dir / "serving.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(published_row_count) FROM marts.fct_street_crimes").fetchall() == [
            (7, 8)
        ]
    assert (in_order.published_dir / "marts" / "agg_street_crimes_monthly.parquet").exists()
    assert '"2024-01"' in (in_order.published_dir / "manifest.json").read_text()
    expected = _snapshot(in_order)

    # re-running a month changes nothing
    _run(in_order, hand_server, "2024-01", "2024-01")
    assert _snapshot(in_order) == expected

    # loading February before January gives the same marts
    reverse = _storage(tmp_path, "out-of-order")
    monkeypatch.setenv("POLICE_WAREHOUSE", str(reverse.warehouse))
    _run(reverse, hand_server, "2024-02", "2024-02")
    _run(reverse, hand_server, "2024-01", "2024-01")
    assert _snapshot(reverse) == expected
