import csv
import gzip

import duckdb
import pytest

from police_assets.core.datasets import DATASETS, OUTCOMES, STOP_AND_SEARCH, STREET
from police_assets.lake.convert import HeaderMismatch, SourceFile, check_header, convert_month, lake_schema, share_cores

STREET_HEADER = ",".join(STREET.header)


def _write(path, lines, eol="\r\n"):
    path.write_bytes((eol.join(lines) + eol).encode())
    return path


def _street_row(crime_id="", lon="-2.5", lat="51.4", month="2024-01", ctype="Burglary", lsoa="Bristol 001A"):
    return f"{crime_id},{month},Avon and Somerset Constabulary,Avon and Somerset Constabulary,{lon},{lat},On or near Park Road,E01014399,{lsoa},{ctype},,"


def _rows(parquet):
    with duckdb.connect() as con:
        cur = con.execute(
            "SELECT * FROM read_parquet(?, hive_partitioning = false) ORDER BY source_file, source_row", [str(parquet)]
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_every_spec_has_a_distinct_file_suffix_and_unique_columns():
    assert len({d.file_suffix for d in DATASETS}) == 3
    for spec in DATASETS:
        names = [n for n, _ in lake_schema(spec)]
        assert len(names) == len(set(names)), spec.name
        assert names[:2] == ["month", "force_id"] and names[-2:] == ["source_file", "source_row"]
    assert (len(STREET.header), len(OUTCOMES.header), len(STOP_AND_SEARCH.header)) == (12, 10, 15)


@pytest.mark.parametrize(
    "member,spec,force",
    [
        ("2024-01/2024-01-avon-and-somerset-street.csv", STREET, "avon-and-somerset"),
        ("2024-01/2024-01-btp-outcomes.csv", OUTCOMES, "btp"),
        ("2024-01/2024-01-city-of-london-stop-and-search.csv", STOP_AND_SEARCH, "city-of-london"),
        ("2024-01/2024-01-city-of-london-stop-and-search.csv", STREET, None),
        ("2024-01/2023-12-kent-street.csv", STREET, None),  # another month's file
    ],
)
def test_force_from_file_name(member, spec, force):
    assert spec.force_from_file_name(member, "2024-01") == force


def test_unknown_and_missing_columns_fail_naming_file_and_columns(tmp_path):
    bad = _write(tmp_path / "2024-01-kent-street.csv", [STREET_HEADER.replace("Context", "Notes")])
    with pytest.raises(HeaderMismatch) as err:
        check_header(bad, STREET)
    assert "2024-01-kent-street.csv" in str(err.value)
    assert "missing ['Context']" in str(err.value) and "unknown ['Notes']" in str(err.value)

    reordered = _write(tmp_path / "r.csv", [",".join(reversed(STREET.header))])
    with pytest.raises(HeaderMismatch, match="out of order"):
        check_header(reordered, STREET)
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(HeaderMismatch, match="empty"):
        check_header(empty, STREET)


def test_a_file_whose_header_drifted_is_set_aside_whole_and_the_others_load(tmp_path):
    from police_assets.lake.convert import read_set_aside, set_aside_path

    bad = _write(tmp_path / "2024-01-kent-street.csv", [STREET_HEADER + ",Extra", _street_row() + ","])
    good = _write(tmp_path / "2024-01-essex-street.csv", [STREET_HEADER, _street_row("a"), _street_row("b")])
    files = [
        SourceFile(bad, "kent", "2024-01/2024-01-kent-street.csv"),
        SourceFile(good, "essex", "2024-01/2024-01-essex-street.csv"),
    ]
    result = convert_month(STREET, "2024-01", files, tmp_path / "lake")
    assert result.rows == 2 and result.forces == ["essex"]
    assert {r["source_file"] for r in _rows(result.parquet)} == {"2024-01/2024-01-essex-street.csv"}
    [(member, force, reason)] = read_set_aside(tmp_path / "lake", STREET, "2024-01")
    assert (member, force) == ("2024-01/2024-01-kent-street.csv", "kent") and "unknown ['Extra']" in reason
    # the source mends the file: the next conversion reads it and the record of the set-aside file goes
    _write(bad, [STREET_HEADER, _street_row("c")])
    assert convert_month(STREET, "2024-01", files, tmp_path / "lake").rows == 3
    assert not set_aside_path(tmp_path / "lake", STREET, "2024-01").exists()


@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_crlf_and_lf_give_the_same_rows(tmp_path, eol):
    lines = [STREET_HEADER, _street_row("a" * 64), _street_row(), '"x",2024-01,F,F,,,"On or near A, B",,,Drugs,,']
    f = _write(tmp_path / "2024-01-f-street.csv", lines, eol)
    result = convert_month(STREET, "2024-01", [SourceFile(f, "f", "2024-01/2024-01-f-street.csv")], tmp_path / "lake")
    rows = _rows(result.parquet)
    assert result.rows == 3 and result.quarantined == 0
    assert [r["source_row"] for r in rows] == [2, 3, 4]
    assert rows[0]["crime_id"] == "a" * 64 and rows[1]["crime_id"] is None  # blank (ASB-style) -> NULL
    assert rows[2]["location"] == "On or near A, B" and rows[2]["longitude"] is None
    assert all(r["context"] is None and r["force_id"] == "f" for r in rows)
    assert str(rows[0]["month"]) == "2024-01-01" and rows[0]["longitude"] == -2.5


def test_a_gzip_wrapped_raw_file_gives_the_same_rows_lines_and_quarantine_as_the_csv(tmp_path):
    """The raw zone keeps members gzip-wrapped (raw.zone); a raw zone from before holds plain CSVs: both read alike."""
    lines = [STREET_HEADER, _street_row(), "too,few", _street_row(lon="east"), _street_row()]
    (tmp_path / "plain").mkdir()
    (tmp_path / "packed").mkdir()
    plain = _write(tmp_path / "plain" / "2024-01-f-street.csv", lines, "\r\n")
    packed = tmp_path / "packed" / "2024-01-f-street.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    results = [
        convert_month(STREET, "2024-01", [SourceFile(f, "f", "2024-01/2024-01-f-street.csv")], tmp_path / d / "lake")
        for f, d in ((plain, "plain"), (packed, "packed"))
    ]
    assert [(r.rows, r.quarantined) for r in results] == [(2, 2), (2, 2)]
    assert _rows(results[0].parquet) == _rows(results[1].parquet)
    assert [r["source_row"] for r in _rows(results[1].parquet)] == [2, 5]


def test_unparseable_rows_are_quarantined_with_reasons_never_dropped(tmp_path):
    lines = [
        STREET_HEADER,
        _street_row(),  # 2 ok
        _street_row(lon="east"),  # 3 bad number
        "too,few",  # 4 wrong field count
        _street_row(month="2023-12"),  # 5 another month
        _street_row() + ",extra",  # 6 too many fields
        _street_row(),  # 7 ok
    ]
    f = _write(tmp_path / "2024-01-f-street.csv", lines)
    result = convert_month(STREET, "2024-01", [SourceFile(f, "f", "2024-01/2024-01-f-street.csv")], tmp_path / "lake")
    assert (result.rows, result.quarantined) == (2, 4)
    assert [r["source_row"] for r in _rows(result.parquet)] == [2, 7]
    with open(result.quarantine, newline="") as fh:
        q = list(csv.DictReader(fh))
    assert [int(r["source_row"]) for r in q] == [3, 4, 5, 6]
    assert "Longitude is not a number" in q[0]["reason"]
    assert "Month is not 2024-01" in q[2]["reason"]
    assert q[1]["record"] == "too,few"

    # a clean re-run removes the old quarantine file
    _write(f, [STREET_HEADER, _street_row()])
    again = convert_month(STREET, "2024-01", [SourceFile(f, "f", "2024-01/2024-01-f-street.csv")], tmp_path / "lake")
    assert again.quarantined == 0 and not result.quarantine.exists()


def test_stop_and_search_types_and_month_from_file(tmp_path):
    header = ",".join(STOP_AND_SEARCH.header)
    lines = [
        header,
        "Person search,2024-01-31T23:30:00+00:00,False,,51.5,-0.1,Male,18-24,White - Any other White background,White,,Controlled drugs,Arrest,True,",
        "Vehicle search,2023-12-31T23:50:00+00:00,,,,,,,,,,,A no further action disposal,,",
        "Person search,2024-01-02T01:00:00+01:00,maybe,,,,,,,,,,Arrest,,",
    ]
    f = _write(tmp_path / "2024-01-x-stop-and-search.csv", lines)
    result = convert_month(STOP_AND_SEARCH, "2024-01", [SourceFile(f, "x", "m")], tmp_path / "lake")
    rows = _rows(result.parquet)
    assert (result.rows, result.quarantined) == (2, 1)  # "maybe" is not True/False
    assert str(rows[0]["month"]) == str(rows[1]["month"]) == "2024-01-01"  # a Dec-31 search in the January file
    assert str(rows[1]["searched_at"]) == "2023-12-31 23:50:00"
    assert rows[0]["is_part_of_policing_operation"] is False and rows[0]["is_outcome_linked_to_object"] is True
    assert rows[1]["is_part_of_policing_operation"] is None


def test_no_files_gives_an_empty_typed_file(tmp_path):
    result = convert_month(OUTCOMES, "2024-01", [], tmp_path / "lake")
    assert result.rows == 0 and result.parquet.exists()
    with duckdb.connect() as con:
        cols = con.execute(
            "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [str(result.parquet)]
        ).fetchall()
    assert [c[0] for c in cols] == [n for n, _ in lake_schema(OUTCOMES)]


def test_regression_files_under_a_month_folder_keep_their_date_month(tmp_path):
    # Regression: read_csv applied hive partitioning to raw/month=YYYY-MM/ and injected month='2024-01' (text).
    folder = tmp_path / "raw" / "month=2024-01"
    folder.mkdir(parents=True)
    f = _write(folder / "2024-01-f-street.csv", [STREET_HEADER, _street_row()])
    result = convert_month(STREET, "2024-01", [SourceFile(f, "f", "2024-01/2024-01-f-street.csv")], tmp_path / "lake")
    assert str(_rows(result.parquet)[0]["month"]) == "2024-01-01"


@pytest.mark.parametrize("with_rejects", [False, True], ids=["clean", "with-rejects"])
def test_many_files_on_many_threads_come_out_in_file_and_line_order(tmp_path, with_rejects):
    # The lake file is written without a sort when no row was rejected: this proves the scan order holds (and
    # that each row keeps its own file's force and line) when DuckDB reads a dozen files on four threads.
    files, expected, rejected = [], [], 0
    for n in range(12):
        force, member = f"force-{n:02d}", f"2024-01/2024-01-force-{n:02d}-street.csv"
        lines = [STREET_HEADER]
        for i in range(3000 + 700 * n):
            if with_rejects and n % 5 == 1 and i % 997 == 3:
                lines.append("short,row")
                rejected += 1
            else:
                lines.append(_street_row(crime_id=f"{n}-{i}"))
                expected.append((member, i + 2, force, f"{n}-{i}"))
        files.append(SourceFile(_write(tmp_path / member.split("/")[1], lines), force, member))
    result = convert_month(STREET, "2024-01", list(reversed(files)), tmp_path / "lake", threads=4)
    with duckdb.connect() as con:
        got = con.execute(
            "SELECT source_file, source_row, force_id, crime_id FROM read_parquet(?, hive_partitioning = false)",
            [str(result.parquet)],
        ).fetchall()
    assert got == expected  # the files' own order, and no ORDER BY in this read
    assert (result.rows, result.quarantined) == (len(expected), rejected)


def test_padding_is_trimmed_exactly_as_duckdb_trim_does(tmp_path):
    # The lake trims with a cheap guard in front of TRIM; the oracle here is plain NULLIF(TRIM(value), '').
    locations = [
        "On or near ",  # as Northern Ireland publishes it
        "  On or near Park Road  ",
        "\u00a0On or near Mill Lane",  # a no-break space: TRIM removes it too
        "On or near Café Street ",
        "\tOn or near Tab Street",  # TRIM keeps tabs
        "   ",
        "On or near High Street",
    ]
    lines = [STREET_HEADER] + [
        f'x{i},2024-01,F,F,-2.5,51.4,"{loc}",E01014399,Bristol 001A,Burglary,,' for i, loc in enumerate(locations)
    ]
    f = _write(tmp_path / "2024-01-f-street.csv", lines)
    result = convert_month(STREET, "2024-01", [SourceFile(f, "f", "2024-01/2024-01-f-street.csv")], tmp_path / "lake")
    with duckdb.connect() as con:
        expected = [con.execute("SELECT NULLIF(TRIM(?), '')", [loc]).fetchone()[0] for loc in locations]
    assert [r["location"] for r in _rows(result.parquet)] == expected
    assert expected[0] == "On or near" and expected[2] == "On or near Mill Lane" and expected[5] is None


@pytest.mark.parametrize(
    "jobs,cores,plan",
    [(3, 2, (2, 1)), (1, 2, (1, 2)), (2, 2, (2, 1)), (3, 8, (3, 2)), (3, 1, (1, 1)), (0, 2, (1, 2))],
)
def test_share_cores(jobs, cores, plan):
    assert share_cores(jobs, cores) == plan


def test_a_file_without_line_breaks_is_a_header_mismatch_naming_it(tmp_path):
    """Regression: a member of one endless line (a zip bomb of zeros) crashed the lake with csv's bare "field
    larger than field limit", naming no file."""
    bomb = tmp_path / "2024-01-kent-street.csv"
    bomb.write_bytes(b"0" * (1 << 20))
    with pytest.raises(HeaderMismatch, match="2024-01-kent-street.csv: no header row"):
        check_header(bomb, STREET)


def test_source_row_is_the_csv_record_number_across_a_quoted_newline(tmp_path):
    """As documented: source_row numbers records (header = 1), so a quoted field holding a line break makes
    the next row's source_row one less than its line number."""
    lines = [
        STREET_HEADER,
        _street_row("a" * 64),
        '"b",2024-01,F,F,,,"On or near A\r\nB",,,Drugs,,',
        _street_row("c" * 64),
    ]
    path = _write(tmp_path / "2024-01-kent-street.csv", lines)
    convert_month(STREET, "2024-01", [SourceFile(path, "kent", "2024-01/2024-01-kent-street.csv")], tmp_path / "lake")
    rows = _rows(next((tmp_path / "lake").rglob("data.parquet")))
    assert [(r["crime_id"], r["source_row"]) for r in rows] == [("a" * 64, 2), ("b", 3), ("c" * 64, 4)]
    assert rows[1]["location"] == "On or near A\r\nB" or rows[1]["location"].replace("\r", "") == "On or near A\nB"
