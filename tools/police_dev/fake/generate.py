"""A deterministic generator of data.police.uk-shaped releases, for tests, the demo and benchmarks.

It writes what data.police.uk serves: a bulk archive ``data/archive/YYYY-MM.zip`` (members
``YYYY-MM/YYYY-MM-<force>-<street|outcomes|stop-and-search>.csv``, CRLF, the real headers) and the API answers
``crime-last-updated``, ``crimes-street-dates``, ``forces`` and ``crime-categories`` as JSON files under
``api/``. The value shapes follow the real files in ``../shared/police-real-sample`` (see its README):

* 45 forces; anti-social behaviour rows have a blank Crime ID; BTP street files carry no Crime IDs at all;
* exact duplicate rows, the same Crime ID twice with a different last outcome, outcome rows repeated;
* outcomes arrive mostly in LATER months than their crime (lag 0-6 months), with the year's wording; a
  benchmark adds a long tail of court outcomes for crimes of every earlier month (``late_outcome_rows``);
* "No Location" rows with empty coordinates and LSOA; Northern Ireland with no LSOA and no outcomes files;
* LSOA names whose local authority holds apostrophes, hyphens, full stops and commas;
* forces with no file in some months (a stable ~2 % of force-months, plus no stop and search from NI);
* the coverage patterns of the real archives, so every page state shows in the demo and the tests: a force
  missing a run of months (Greater Manchester, every February and March), a partial file (Gwent's
  February street file holds a quarter of its usual rows), forces that publish no outcome files (Northern
  Ireland, City of London: their street rows carry "Last outcome category" or nothing), and a force that
  leaves "Outcome linked to object of search" blank in every row (the Metropolitan Police);
* stop and search without a force column, ISO UTC timestamps that can fall in the previous month, and
  True/False columns that are blank, True/False or mixed.

Everything is a pure function of ``(seed, force, month, revision)``: the same call writes byte-identical files.
A ``revisions`` map bumps one force-month's revision, which is how a test makes data.police.uk "revise" a month.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from police_assets.core.datasets import OUTCOMES, STOP_AND_SEARCH, STREET
from police_assets.core.generated import write_note
from police_assets.core.months import add_months, month_range, months_between, parse_month

# (force id, force name, share of national crime, (lon, lat), local authorities for LSOA names)
FORCES: tuple[tuple[str, str, float, tuple[float, float], tuple[str, ...]], ...] = (
    (
        "avon-and-somerset",
        "Avon and Somerset Constabulary",
        2.6,
        (-2.59, 51.45),
        ("Bristol", "Bath and North East Somerset", "North Somerset"),
    ),
    ("bedfordshire", "Bedfordshire Police", 1.1, (-0.46, 52.13), ("Bedford", "Luton", "Central Bedfordshire")),
    (
        "cambridgeshire",
        "Cambridgeshire Constabulary",
        1.3,
        (0.12, 52.2),
        ("Cambridge", "Peterborough", "East Cambridgeshire"),
    ),
    (
        "cheshire",
        "Cheshire Constabulary",
        1.5,
        (-2.53, 53.19),
        ("Cheshire East", "Cheshire West and Chester", "Warrington"),
    ),
    ("city-of-london", "City of London Police", 0.15, (-0.09, 51.515), ("City of London",)),
    (
        "cleveland",
        "Cleveland Police",
        1.3,
        (-1.23, 54.57),
        ("Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees"),
    ),
    ("cumbria", "Cumbria Constabulary", 0.6, (-2.93, 54.89), ("Carlisle", "South Lakeland", "Barrow-in-Furness")),
    ("derbyshire", "Derbyshire Constabulary", 1.4, (-1.47, 52.92), ("Derby", "Amber Valley", "High Peak")),
    ("devon-and-cornwall", "Devon & Cornwall Police", 2.0, (-3.53, 50.72), ("Plymouth", "Exeter", "Cornwall")),
    ("dorset", "Dorset Police", 0.9, (-1.88, 50.72), ("Bournemouth, Christchurch and Poole", "Dorset")),
    ("durham", "Durham Constabulary", 1.0, (-1.57, 54.77), ("County Durham", "Darlington")),
    ("dyfed-powys", "Dyfed-Powys Police", 0.6, (-4.3, 52.1), ("Carmarthenshire", "Powys", "Ceredigion")),
    ("essex", "Essex Police", 2.7, (0.47, 51.73), ("Chelmsford", "Southend-on-Sea", "Basildon")),
    (
        "gloucestershire",
        "Gloucestershire Constabulary",
        0.8,
        (-2.24, 51.86),
        ("Gloucester", "Cheltenham", "Forest of Dean"),
    ),
    ("greater-manchester", "Greater Manchester Police", 5.5, (-2.24, 53.48), ("Manchester", "Salford", "Bolton")),
    ("gwent", "Gwent Police", 0.8, (-3.0, 51.59), ("Newport", "Caerphilly", "Torfaen")),
    ("hampshire", "Hampshire Constabulary", 2.6, (-1.31, 50.91), ("Southampton", "Portsmouth", "Isle of Wight")),
    ("hertfordshire", "Hertfordshire Constabulary", 1.4, (-0.21, 51.8), ("St Albans", "Watford", "Welwyn Hatfield")),
    (
        "humberside",
        "Humberside Police",
        1.6,
        (-0.33, 53.74),
        ("Kingston upon Hull, City of", "North East Lincolnshire"),
    ),
    ("kent", "Kent Police", 2.8, (0.52, 51.27), ("Maidstone", "Canterbury", "Tunbridge Wells")),
    ("lancashire", "Lancashire Constabulary", 2.3, (-2.7, 53.76), ("Preston", "Blackpool", "Blackburn with Darwen")),
    ("leicestershire", "Leicestershire Police", 1.6, (-1.13, 52.64), ("Leicester", "Charnwood", "Melton")),
    ("lincolnshire", "Lincolnshire Police", 0.9, (-0.54, 53.23), ("Lincoln", "Boston", "South Kesteven")),
    ("merseyside", "Merseyside Police", 2.4, (-2.98, 53.41), ("Liverpool", "St. Helens", "Wirral")),
    (
        "metropolitan",
        "Metropolitan Police Service",
        17.0,
        (-0.13, 51.51),
        ("Westminster", "Hammersmith and Fulham", "Tower Hamlets", "Kensington and Chelsea"),
    ),
    (
        "norfolk",
        "Norfolk Constabulary",
        1.2,
        (1.3, 52.63),
        ("Norwich", "King's Lynn and West Norfolk", "Great Yarmouth"),
    ),
    ("north-wales", "North Wales Police", 0.9, (-3.83, 53.14), ("Wrexham", "Conwy", "Isle of Anglesey")),
    ("north-yorkshire", "North Yorkshire Police", 0.9, (-1.08, 53.96), ("York", "Harrogate", "Scarborough")),
    ("northamptonshire", "Northamptonshire Police", 1.1, (-0.9, 52.24), ("Northampton", "Kettering", "Corby")),
    ("northumbria", "Northumbria Police", 2.3, (-1.61, 54.97), ("Newcastle upon Tyne", "Sunderland", "North Tyneside")),
    ("nottinghamshire", "Nottinghamshire Police", 1.6, (-1.15, 52.95), ("Nottingham", "Mansfield", "Ashfield")),
    ("south-wales", "South Wales Police", 2.0, (-3.18, 51.48), ("Cardiff", "Swansea", "Rhondda Cynon Taf")),
    ("south-yorkshire", "South Yorkshire Police", 2.4, (-1.47, 53.38), ("Sheffield", "Doncaster", "Rotherham")),
    (
        "staffordshire",
        "Staffordshire Police",
        1.5,
        (-2.18, 53.0),
        ("Stoke-on-Trent", "Newcastle-under-Lyme", "Stafford"),
    ),
    ("suffolk", "Suffolk Constabulary", 0.9, (1.15, 52.06), ("Ipswich", "Babergh", "East Suffolk")),
    ("surrey", "Surrey Police", 1.2, (-0.57, 51.24), ("Guildford", "Woking", "Elmbridge")),
    ("sussex", "Sussex Police", 2.2, (-0.14, 50.82), ("Brighton and Hove", "Crawley", "Adur")),
    ("thames-valley", "Thames Valley Police", 3.4, (-1.26, 51.75), ("Oxford", "Reading", "Milton Keynes")),
    ("warwickshire", "Warwickshire Police", 0.7, (-1.58, 52.28), ("Warwick", "Nuneaton and Bedworth", "Rugby")),
    ("west-mercia", "West Mercia Police", 1.6, (-2.22, 52.19), ("Worcester", "Shropshire", "Herefordshire, County of")),
    ("west-midlands", "West Midlands Police", 6.0, (-1.9, 52.48), ("Birmingham", "Wolverhampton", "Coventry")),
    ("west-yorkshire", "West Yorkshire Police", 5.5, (-1.55, 53.8), ("Leeds", "Bradford", "Wakefield")),
    ("wiltshire", "Wiltshire Police", 0.8, (-1.79, 51.35), ("Swindon", "Wiltshire")),
    ("btp", "British Transport Police", 1.0, (-0.12, 51.53), ("Camden", "Westminster", "Adur")),
    ("northern-ireland", "Police Service of Northern Ireland", 2.0, (-5.93, 54.6), ("",)),
)
FORCE_NAMES = {f[0]: f[1] for f in FORCES}
_TOTAL_WEIGHT = sum(f[2] for f in FORCES)

CRIME_TYPES = (
    ("anti-social-behaviour", "Anti-social behaviour", 30),
    ("violent-crime", "Violence and sexual offences", 28),
    ("criminal-damage-arson", "Criminal damage and arson", 7),
    ("other-theft", "Other theft", 6),
    ("shoplifting", "Shoplifting", 6),
    ("public-order", "Public order", 6),
    ("vehicle-crime", "Vehicle crime", 5),
    ("burglary", "Burglary", 4),
    ("drugs", "Drugs", 2.5),
    ("other-crime", "Other crime", 1.5),
    ("theft-from-the-person", "Theft from the person", 1.2),
    ("robbery", "Robbery", 1),
    ("bicycle-theft", "Bicycle theft", 1),
    ("possession-of-weapons", "Possession of weapons", 0.8),
)
# Before May 2013 data.police.uk used "Public disorder and weapons" instead of the last two of these.
LEGACY_PUBLIC_DISORDER = "Public disorder and weapons"

# Outcome wording changed over the years; the fake uses the 2013 wording before 2015 and the later one after.
OUTCOMES_2013 = (
    ("No further action at this time", 40),
    ("Suspect charged", 13),
    ("Offender given a caution", 7),
    ("Local resolution", 4),
    ("Offender given community penalty", 2),
    ("Offender imprisoned", 1.5),
    ("Offender fined", 1),
    ("Offender given penalty notice", 1),
    ("Unable to prosecute suspect", 1),
)
OUTCOMES_MODERN = (
    ("Investigation complete; no suspect identified", 40),
    ("Unable to prosecute suspect", 30),
    ("Local resolution", 6),
    ("Suspect charged", 7),
    ("Action to be taken by another organisation", 4),
    ("Offender given a caution", 2),
    ("Further investigation is not in the public interest", 1.5),
    ("Offender given penalty notice", 0.5),
    ("Formal action is not in the public interest", 0.3),
    ("Suspect charged as part of another case", 0.2),
)
UNDER_INVESTIGATION = "Under investigation"

STREETS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "Park Road",
    "Mill Lane",
    "Victoria Road",
    "Green Lane",
    "Manor Road",
    "Kings Road",
    "Queen Street",
    "Shopping Area",
    "Supermarket",
    "Petrol Station",
    "Nightclub",
    "Sports/Recreation Area",
    "Parking Area",
    "Hospital",
    "Police Station",
)

SEARCH_TYPES = (("Person search", 70), ("Person and Vehicle search", 25), ("Vehicle search", 5))
GENDERS = (("Male", 85), ("Female", 11), ("Other", 0.5), ("", 3.5))
AGES = (("18-24", 35), ("25-34", 28), ("over 34", 20), ("10-17", 14), ("under 10", 0.1), ("", 3))
ETHNICITY_SELF = (
    ("White - English/Welsh/Scottish/Northern Irish/British", 45),
    ("Other ethnic group - Not stated", 12),
    ("Black/African/Caribbean/Black British - Any other Black/African/Caribbean background", 8),
    ("Black/African/Caribbean/Black British - African", 6),
    ("Black/African/Caribbean/Black British - Caribbean", 4),
    ("Asian/Asian British - Pakistani", 4),
    ("Asian/Asian British - Bangladeshi", 2),
    ("Asian/Asian British - Any other Asian background", 3),
    ("White - Any other White background", 6),
    ("Mixed/Multiple ethnic groups - White and Black Caribbean", 2),
    ("Other ethnic group - Any other ethnic group", 2),
    ("", 6),
)
ETHNICITY_OFFICER = (("White", 55), ("Black", 22), ("Asian", 13), ("Other", 4), ("Mixed", 1), ("", 5))
LEGISLATION = (
    ("Misuse of Drugs Act 1971 (section 23)", 60),
    ("Police and Criminal Evidence Act 1984 (section 1)", 30),
    ("Criminal Justice and Public Order Act 1994 (section 60)", 3),
    ("Firearms Act 1968 (section 47)", 1),
    ("", 6),
)
OBJECTS = (
    ("Controlled drugs", 60),
    ("Offensive weapons", 14),
    ("Stolen goods", 10),
    ("Article for use in theft", 6),
    ("Articles for use in criminal damage", 3),
    ("Anything to threaten or harm anyone", 2),
    ("Firearms", 1),
    ("Fireworks", 0.5),
    ("", 3.5),
)
SEARCH_OUTCOMES = (
    ("A no further action disposal", 70),
    ("Arrest", 14),
    ("Community resolution", 6),
    ("Khat or Cannabis warning", 3),
    ("Penalty Notice for Disorder", 2),
    ("Summons / charged by post", 3),
    ("Caution (simple or conditional)", 0.5),
)


@dataclass(frozen=True)
class Crime:
    crime_id: str
    crime_type: str
    lon: str
    lat: str
    location: str
    lsoa_code: str
    lsoa_name: str
    outcome_lag: int | None  # months until the outcome arrives; None: no outcome yet (or ASB)
    outcome: str


def _rng(*parts) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def _h(*parts) -> int:
    return int.from_bytes(hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest(), "big")


def _choices(rng: random.Random, table, k: int) -> list:
    return rng.choices([t[0] for t in table], weights=[t[-1] for t in table], k=k)


# The real archives' coverage patterns (see the module docstring), by month of the year so any range shows them.
NO_OUTCOME_FILES = ("northern-ireland", "city-of-london")
NO_SEARCH_LINK = ("metropolitan",)
MISSING_RUN = ("greater-manchester", (2, 3))  # no file at all in these months of every year
PARTIAL_FILE = ("gwent", 2, 0.25)  # this month of every year, this share of the usual street rows


def force_publishes(seed: int, force: str, month: str, dataset: str) -> bool:
    """Whether the fake force published this dataset for the month: ~2 % of force-months are holes."""
    if dataset == "outcomes" and force in NO_OUTCOME_FILES:
        return False
    if dataset == "stop-and-search" and force == "northern-ireland":
        return False
    if force == MISSING_RUN[0] and parse_month(month)[1] in MISSING_RUN[1]:
        return False
    if force == PARTIAL_FILE[0] and parse_month(month)[1] == PARTIAL_FILE[1] and dataset == "street":
        return True  # the partial file is published, whatever the random holes say
    key = "street" if dataset in ("street", "outcomes") else dataset  # street and outcomes go missing together
    return _h(seed, "gap", force, month, key) % 50 != 0


def _force(force_id: str):
    for f in FORCES:
        if f[0] == force_id:
            return f
    raise KeyError(force_id)


def _count(scale: int, force_id: str, month: str, seed: int, share: float = 1.0) -> int:
    weight = _force(force_id)[2] / _TOTAL_WEIGHT
    noise = 0.9 + 0.2 * (_h(seed, "n", force_id, month) % 1000) / 1000
    return max(1, round(scale * weight * noise * share))


@lru_cache(maxsize=45 * 8)
def crimes(seed: int, force_id: str, month: str, scale: int, revision: int = 0) -> tuple[Crime, ...]:
    """The street-level records of one force-month, before duplicates are added (cached: outcomes reuse them)."""
    fid, _, _, (lon0, lat0), las = _force(force_id)
    rng = _rng(seed, "street", force_id, month, revision)
    year, month_of_year = parse_month(month)
    partial = fid == PARTIAL_FILE[0] and month_of_year == PARTIAL_FILE[1]
    n = _count(scale, force_id, month, seed, share=PARTIAL_FILE[2] if partial else 1.0)
    types = _choices(rng, CRIME_TYPES, n)
    legacy = month < "2013-05"
    outcome_table = OUTCOMES_2013 if year < 2015 else OUTCOMES_MODERN
    decimals = 11 if year < 2014 else 6
    welsh = fid in ("dyfed-powys", "gwent", "north-wales", "south-wales")
    out = []
    for i, slug in enumerate(types):
        ctype = next(t[1] for t in CRIME_TYPES if t[0] == slug)
        if legacy and slug in ("public-order", "possession-of-weapons"):
            ctype = LEGACY_PUBLIC_DISORDER
        asb = slug == "anti-social-behaviour"
        crime_id = (
            ""
            if asb or fid == "btp" and year < 2014
            else hashlib.sha256(f"{seed}:{fid}:{month}:{i}:{revision}".encode()).hexdigest()
        )
        if rng.random() < 0.02:
            lon = lat = lsoa_code = lsoa_name = ""
            location = "No Location"
        else:
            lon = f"{lon0 + rng.uniform(-0.25, 0.25):.{decimals}f}"
            lat = f"{lat0 + rng.uniform(-0.15, 0.15):.{decimals}f}"
            street = rng.choice(STREETS)
            if fid == "northern-ireland":
                lsoa_code = lsoa_name = ""
                location = (
                    f"On or near {street}, {rng.choice(('Bay Lands', 'Lisburn Road', 'Falls'))}"
                    if rng.random() < 0.2
                    else f"On or near {street}"
                )
            else:
                la_index = rng.randrange(len(las))
                la = las[la_index]
                num = rng.randrange(1, 40)
                # One code <-> one name, as in the real LSOA register.
                lsoa_code = f"{'W' if welsh else 'E'}01{_h(la, num) % 900000 + 100000:06d}"
                lsoa_name = f"{la} {num:03d}{'ABCDE'[_h('letter', la, num) % 5]}"
                location = f"On or near {street}"
        if asb or not crime_id:
            lag, outcome = None, ""
        else:
            r = rng.random()
            lag = None if r < 0.15 else (0 if r < 0.45 else 1 + int((r - 0.45) / 0.55 * 6) % 6)
            outcome = _choices(rng, outcome_table, 1)[0]
        out.append(Crime(crime_id, ctype, lon, lat, location, lsoa_code, lsoa_name, lag, outcome))
    return tuple(out)


def _crime_columns(c: Crime, month: str, force_name: str, location: str) -> list[str]:
    """The columns street and outcomes files share, in header order: Crime ID .. LSOA name."""
    return [c.crime_id, month, force_name, force_name, c.lon, c.lat, location, c.lsoa_code, c.lsoa_name]


def street_rows(seed: int, force_id: str, month: str, scale: int, revision: int = 0) -> list[list[str]]:
    name = FORCE_NAMES[force_id]
    rng = _rng(seed, "street-dups", force_id, month, revision)
    rows = []
    for c in crimes(seed, force_id, month, scale, revision):
        if not c.crime_id or c.crime_type == "Anti-social behaviour":
            last = ""
        elif c.outcome_lag == 0:
            last = c.outcome
        elif c.outcome_lag is None and force_id in NO_OUTCOME_FILES:
            last = ""  # a force without outcome files leaves it blank where nothing is known yet
        else:
            last = UNDER_INVESTIGATION
        row = [*_crime_columns(c, month, name, c.location), c.crime_type, last, ""]
        rows.append(row)
        r = rng.random()
        if r < 0.02:  # an exact duplicate row, as data.police.uk publishes them
            rows.append(list(row))
        elif r < 0.025 and c.crime_id:  # the same Crime ID again with another last outcome
            rows.append(row[:10] + ["Status update unavailable", ""])
    return rows


def _outcomes_location(street_location: str) -> str:
    """A street file's Location as an outcomes file writes it: "No Location" there is "No location" here."""
    return "No location" if street_location == "No Location" else street_location


def outcome_rows(seed: int, force_id: str, month: str, scale: int, revisions: dict | None = None) -> list[list[str]]:
    """Outcomes recorded in ``month``: for crimes of this month and the six before it whose outcome lands now."""
    name = FORCE_NAMES[force_id]
    rng = _rng(seed, "outcome-dups", force_id, month)
    rows = []
    for lag in range(7):
        crime_month = add_months(month, -lag)
        rev = (revisions or {}).get((crime_month, force_id), 0)
        for c in crimes(seed, force_id, crime_month, scale, rev):
            if c.outcome_lag != lag:
                continue
            row = [*_crime_columns(c, month, name, _outcomes_location(c.location)), c.outcome]
            rows.append(row)
            if rng.random() < 0.04:
                rows.extend(list(row) for _ in range(1 + rng.randrange(3)))
    return rows


# Court outcomes come months or years after the crime: data.police.uk's outcomes files reach far further back than
# the six months of ``outcome_rows`` (in the real sample only about a third of outcome rows match a crime of the
# same month). ``late_outcome_rows`` adds such a tail where a benchmark asks for it; the default releases keep
# the six months, so tests and the demo stay small.
LATE_OUTCOMES = (
    ("Offender fined", 20),
    ("Offender given community sentence", 15),
    ("Offender given conditional discharge", 10),
    ("Offender given suspended prison sentence", 10),
    ("Offender sent to prison", 10),
    ("Defendant found not guilty", 10),
    ("Court result unavailable", 15),
    ("Awaiting court outcome", 10),
)
LATE_FIRST_LAG = 7  # the lag after the six months ``outcome_rows`` covers


def late_share(lag: int, first: float = 0.01, decay: float = 0.92) -> float:
    """The share of a month's crimes with a Crime ID that receive a late outcome ``lag`` months on."""
    return first * decay ** (lag - LATE_FIRST_LAG) if lag >= LATE_FIRST_LAG else 0.0


def late_outcome_rows(seed: int, month: str, earlier_street: dict[str, bytes]) -> list[list[str]]:
    """Outcome rows recorded in ``month`` for crimes of earlier months (a long tail of court outcomes).

    ``earlier_street`` maps each earlier month to one force's street file of that month (CSV bytes, as
    :func:`month_members` writes them). A crime is chosen by its Crime ID, so the choice is the same whatever
    other months are given, and each chosen crime gets one outcome row with its own columns."""
    rows = []
    for crime_month, data in sorted(earlier_street.items()):
        lag = months_between(crime_month, month)
        threshold = int(late_share(lag) * 2**32)
        if threshold == 0:
            continue
        rng = _rng(seed, "late", month, crime_month)
        seen: set[str] = set()
        for line in data.decode("ascii").splitlines()[1:]:
            crime_id = line.split(",", 1)[0]
            # Crime IDs are hex digests, so their leading bits choose crimes evenly; a blank one (ASB) is never chosen
            if not crime_id or crime_id in seen or int(crime_id[:8], 16) >= threshold:
                continue
            seen.add(crime_id)
            street = next(csv.reader([line]))
            outcome = _choices(rng, LATE_OUTCOMES, 1)[0]
            rows.append([street[0], month, *street[2:6], _outcomes_location(street[6]), *street[7:9], outcome])
    return rows


def stop_and_search_rows(seed: int, force_id: str, month: str, scale: int, revision: int = 0) -> list[list[str]]:
    _, _, _, (lon0, lat0), _ = _force(force_id)
    rng = _rng(seed, "sas", force_id, month, revision)
    n = _count(scale, force_id, month, seed, share=0.08)
    mixed_booleans = _h(seed, "boolstyle", force_id) % 3  # 0 blank, 1 True/False, 2 mixed
    link_blank = force_id in NO_SEARCH_LINK
    rows = []
    for _ in range(n):
        day = 1 + rng.randrange(28)  # 28: valid in every month, enough for a fake
        hour, minute = rng.randrange(24), rng.randrange(60)
        if rng.random() < 0.01:  # a search in the first hour of the month (BST) is dated the previous day in UTC
            prev = add_months(month, -1)
            stamp = f"{prev}-{28 if prev.endswith('-02') else 30}T23:{minute:02d}:00+00:00"
        else:
            stamp = f"{month}-{day:02d}T{hour:02d}:{minute:02d}:00+00:00"

        def boolean(p_true: float) -> str:
            if mixed_booleans == 0 or (mixed_booleans == 2 and rng.random() < 0.5):
                return ""
            return "True" if rng.random() < p_true else "False"

        has_point = rng.random() > 0.1
        outcome = _choices(rng, SEARCH_OUTCOMES, 1)[0]
        rows.append(
            [
                _choices(rng, SEARCH_TYPES, 1)[0],
                stamp,
                boolean(0.05),
                "",
                f"{lat0 + rng.uniform(-0.15, 0.15):.6f}" if has_point else "",
                f"{lon0 + rng.uniform(-0.25, 0.25):.6f}" if has_point else "",
                _choices(rng, GENDERS, 1)[0],
                _choices(rng, AGES, 1)[0],
                _choices(rng, ETHNICITY_SELF, 1)[0],
                _choices(rng, ETHNICITY_OFFICER, 1)[0],
                _choices(rng, LEGISLATION, 1)[0],
                _choices(rng, OBJECTS, 1)[0],
                outcome,
                "" if link_blank else boolean(0.6 if outcome != "A no further action disposal" else 0.05),
                boolean(0.03),
            ]
        )
    return rows


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # data.police.uk serves CRLF
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("ascii", "replace")


def month_members(
    seed: int, month: str, scale: int, revisions: dict | None = None, forces: list[str] | None = None
) -> dict[str, bytes]:
    """Every archive member of one month: ``{"2024-01/2024-01-kent-street.csv": b"..."}``."""
    revisions = revisions or {}
    members: dict[str, bytes] = {}
    for fid in forces or [f[0] for f in FORCES]:
        rev = revisions.get((month, fid), 0)
        if force_publishes(seed, fid, month, "street"):
            members[STREET.member_name(month, fid)] = _csv_bytes(
                STREET.header, street_rows(seed, fid, month, scale, rev)
            )
        if force_publishes(seed, fid, month, "outcomes"):
            members[OUTCOMES.member_name(month, fid)] = _csv_bytes(
                OUTCOMES.header, outcome_rows(seed, fid, month, scale, revisions)
            )
        if force_publishes(seed, fid, month, "stop-and-search"):
            members[STOP_AND_SEARCH.member_name(month, fid)] = _csv_bytes(
                STOP_AND_SEARCH.header, stop_and_search_rows(seed, fid, month, scale, rev)
            )
    return dict(sorted(members.items()))


@dataclass
class Release:
    """A fake data.police.uk release: the archive of month ``latest`` holding ``months`` months."""

    latest: str
    months: int = 3
    scale: int = 900  # street rows per month, nationally (real data.police.uk: about 500,000)
    seed: int = 1
    revisions: dict | None = None  # {(month, force_id): revision}: re-publish that force-month with new content
    last_updated: str | None = None  # crime-last-updated date; defaults to a day after `latest`
    forces: list[str] | None = None  # restrict to these forces (small tests)

    @property
    def month_list(self) -> list[str]:
        return month_range(add_months(self.latest, -(self.months - 1)), self.latest)


def write_archive(
    root: str | os.PathLike, archive_month: str, members: dict[str, bytes] | Iterable[tuple[str, bytes]]
) -> Path:
    """Write ``root/data/archive/<archive_month>.zip`` holding ``members`` (name -> bytes, or (name, bytes) pairs
    in name order, which need not all be in memory at once), byte-reproducibly."""
    archive = Path(root) / "data" / "archive" / f"{archive_month}.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_suffix(".zip.tmp")
    pairs = sorted(members.items()) if isinstance(members, dict) else members
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, data in pairs:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))  # fixed: byte-identical archives
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    os.replace(tmp, archive)
    return archive


def write_api(
    root: str | os.PathLike,
    months: list[str],
    forces: dict[str, str],
    stop_and_search_forces: dict[str, list[str]],
    last_updated: str,
) -> None:
    """Write the API answers a release publishes under ``root/api/`` (months newest first, as data.police.uk)."""
    api = Path(root) / "api"
    api.mkdir(parents=True, exist_ok=True)
    answers = {
        "crime-last-updated": {"date": last_updated},
        "crimes-street-dates": [
            {"date": m, "stop-and-search": stop_and_search_forces.get(m, [])} for m in sorted(months, reverse=True)
        ],
        "forces": [{"id": f, "name": n} for f, n in forces.items()],
        "crime-categories": [{"url": "all-crime", "name": "All crime"}]
        + [{"url": slug, "name": name} for slug, name, _ in CRIME_TYPES],
    }
    for name, body in answers.items():
        tmp = api / f".{name}.json.tmp"
        tmp.write_text(json.dumps(body, indent=1))
        os.replace(tmp, api / f"{name}.json")


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    """A data.police.uk-style CSV: the header, then the rows, CRLF."""
    return _csv_bytes(header, rows)


GENERATED_BY = "police_dev's fake data.police.uk (tools/police_dev/fake)"


def mark_source_generated(root: str | os.PathLike) -> None:
    """Say that the source folder ``root`` serves generated data."""
    write_note(Path(root), GENERATED_BY)


def write_release(root: str | os.PathLike, release: Release) -> Path:
    """Write the archive and API answers of ``release`` under ``root``; returns the archive path.

    Layout (what the fake server serves): ``root/data/archive/YYYY-MM.zip`` and ``root/api/<endpoint>.json``,
    and ``root/GENERATED-SAMPLE-DATA.json``, which says the data is made up (the server and a folder source
    announce it, and the platform keeps it out of real data's folders). Earlier archives under ``root`` stay, as
    they do on data.police.uk.
    """
    return write_release_from(
        root,
        release,
        lambda month: month_members(release.seed, month, release.scale, release.revisions, release.forces),
    )


def write_release_from(
    root: str | os.PathLike, release: Release, members_of: Callable[[str], dict[str, bytes]]
) -> Path:
    """:func:`write_release` with each month's members from ``members_of(month)``, one month in memory at a
    time (a benchmark's cache of national-size months, say)."""
    mark_source_generated(root)
    archive = write_archive(
        root, release.latest, (pair for month in release.month_list for pair in members_of(month).items())
    )
    crimes.cache_clear()
    forces = release.forces or [f[0] for f in FORCES]
    write_api(
        root,
        release.month_list,
        {f: FORCE_NAMES[f] for f in forces},
        {m: [f for f in forces if force_publishes(release.seed, f, m, "stop-and-search")] for m in release.month_list},
        release.last_updated or f"{add_months(release.latest, 2)}-0{1 + _h(release.seed, release.latest) % 9}",
    )
    return archive
