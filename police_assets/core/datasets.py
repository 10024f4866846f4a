"""The one table of dataset specs that drives every stage for all three data.police.uk datasets.

data.police.uk publishes, per force and month, three CSV files inside its bulk archive
(``YYYY-MM/YYYY-MM-<force>-<suffix>.csv``):

* ``street``: street-level crime and anti-social behaviour, one row per reported incident (12 columns);
* ``outcomes``: outcomes recorded that month, mostly for crimes of EARLIER months (10 columns);
* ``stop-and-search``: stop and search records (15 columns, no force column: the force is in the file name).

The headers have not changed since 2013 (checked against the real files in ``../shared/police-real-sample``);
the drift is in values. Each stage (raw, lake, warehouse, dbt sources) reads this table rather than knowing a
dataset by name, so a fourth dataset is one more entry here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# How a source column is typed in the lake. "text" stays as published (trimmed, blank -> NULL); the others are
# parsed and a non-blank value that does not parse sends the row to quarantine.
KINDS = ("text", "double", "month", "timestamp", "boolean")


@dataclass(frozen=True)
class Column:
    source: str  # the header exactly as data.police.uk writes it
    name: str  # the snake_case lake/warehouse column
    kind: str = "text"
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r} for {self.source!r}")


@dataclass(frozen=True)
class DatasetSpec:
    name: str  # asset and table name, e.g. "street_crimes"
    file_suffix: str  # the dataset part of the file name, e.g. "street"
    title: str
    description: str
    columns: tuple[Column, ...]

    @property
    def header(self) -> list[str]:
        return [c.source for c in self.columns]

    def file_name(self, month: str, force_id: str) -> str:
        return f"{month}-{force_id}-{self.file_suffix}.csv"

    def member_name(self, month: str, force_id: str) -> str:
        """The file's path inside a bulk archive."""
        return f"{month}/{self.file_name(month, force_id)}"

    def force_from_file_name(self, file_name: str, month: str) -> str | None:
        """The force id in ``YYYY-MM-<force>-<suffix>.csv``, or None when the file is not this dataset's."""
        base = file_name.rsplit("/", 1)[-1]
        prefix, suffix = f"{month}-", f"-{self.file_suffix}.csv"
        if not (base.startswith(prefix) and base.endswith(suffix)):
            return None
        force = base[len(prefix) : -len(suffix)]
        return force if _FORCE_ID_RE.match(force) else None


_FORCE_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

_LOCATION_COLUMNS = (
    Column("Longitude", "longitude", "double", "WGS84 longitude of the anonymised map point; blank when unknown."),
    Column("Latitude", "latitude", "double", "WGS84 latitude of the anonymised map point; blank when unknown."),
    Column(
        "Location",
        "location",
        description='Anonymised location, e.g. "On or near Park Road"; "No Location" when unknown.',
    ),
    Column("LSOA code", "lsoa_code", description="2011 Lower Layer Super Output Area code of the map point."),
    Column("LSOA name", "lsoa_name", description='LSOA name, "<local authority> NNNX", e.g. "Bristol 025E".'),
)

_CRIME_HEAD = (
    Column(
        "Crime ID",
        "crime_id",
        description="64-hex crime identifier; blank for anti-social behaviour and for some forces (e.g. BTP 2013).",
    ),
    Column("Month", "month", "month", "The month the row describes (YYYY-MM in the file, a DATE here)."),
    Column("Reported by", "reported_by", description="The force that provided the data."),
    Column("Falls within", "falls_within", description="The force whose area the location falls within."),
)

STREET = DatasetSpec(
    name="street_crimes",
    file_suffix="street",
    title="Street-level crime",
    description=(
        "Street-level crime and anti-social behaviour reported to each police force, one row per incident as "
        "published, with an anonymised map point. Source: data.police.uk bulk archive, YYYY-MM-<force>-street.csv."
    ),
    columns=(
        *_CRIME_HEAD,
        *_LOCATION_COLUMNS,
        Column("Crime type", "crime_type", description="One of data.police.uk's crime categories."),
        Column(
            "Last outcome category",
            "last_outcome_category",
            description="Latest outcome at publication; blank for anti-social behaviour.",
        ),
        Column("Context", "context", description="Free-text context; blank in practice."),
    ),
)

OUTCOMES = DatasetSpec(
    name="outcomes",
    file_suffix="outcomes",
    title="Crime outcomes",
    description=(
        "Outcomes recorded in the month for crimes, mostly crimes of earlier months; one row per outcome as "
        "published (rows repeat). Source: data.police.uk bulk archive, YYYY-MM-<force>-outcomes.csv."
    ),
    columns=(
        *_CRIME_HEAD,
        *_LOCATION_COLUMNS,
        Column("Outcome type", "outcome_type", description="The outcome recorded, in the wording of its year."),
    ),
)

STOP_AND_SEARCH = DatasetSpec(
    name="stop_and_search",
    file_suffix="stop-and-search",
    title="Stop and search",
    description=(
        "Stop and search records, one row per search as published; the file carries no force column, so the "
        "force comes from the file name. Source: data.police.uk bulk archive, YYYY-MM-<force>-stop-and-search.csv."
    ),
    columns=(
        Column("Type", "search_type", description="Person search, Vehicle search, or Person and Vehicle search."),
        Column("Date", "searched_at", "timestamp", "When the search happened, UTC (ISO timestamp in the file)."),
        Column("Part of a policing operation", "is_part_of_policing_operation", "boolean"),
        Column("Policing operation", "policing_operation"),
        Column("Latitude", "latitude", "double"),
        Column("Longitude", "longitude", "double"),
        Column("Gender", "gender"),
        Column("Age range", "age_range"),
        Column("Self-defined ethnicity", "self_defined_ethnicity"),
        Column("Officer-defined ethnicity", "officer_defined_ethnicity"),
        Column("Legislation", "legislation"),
        Column("Object of search", "object_of_search"),
        Column("Outcome", "outcome"),
        Column("Outcome linked to object of search", "is_outcome_linked_to_object", "boolean"),
        Column("Removal of more than just outer clothing", "is_removal_of_more_than_outer_clothing", "boolean"),
    ),
)

DATASETS: tuple[DatasetSpec, ...] = (STREET, OUTCOMES, STOP_AND_SEARCH)

# Columns every lake file and warehouse table adds in front of / behind the published ones.
LINEAGE_COLUMNS = (
    Column("", "force_id", description="The force id from the file name, e.g. 'avon-and-somerset'."),
    Column("", "source_file", description="The archive member the row came from."),
    Column(
        "",
        "source_row",
        description=(
            "1-based CSV record number of the row in that file (the header is record 1): its line number, unless "
            "an earlier quoted field spans lines."
        ),
    ),
)


def dataset_for_member(member: str, month: str) -> tuple[DatasetSpec, str] | None:
    """Which dataset an archive member belongs to, and its force: ``(spec, force_id)`` or None."""
    for spec in DATASETS:
        force = spec.force_from_file_name(member, month)
        if force is not None:
            return spec, force
    return None
