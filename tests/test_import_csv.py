"""Reading CRM exports (domain/crm_csv.py): formats from the header, dates, stages, footers,
a BOM, CRLF and quoted newlines, on files the tests write the way the CRMs do."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from domain import crm_csv
from domain.crm_csv import DateOrder, FileError, Format, Problem, Row

HUBSPOT = (
    "\ufeffRecord ID,Deal Name,Amount,Currency,Close Date,Deal Stage,Deal owner,Pipeline,"
    "Deal Stage Probability,Associated Company\r\n"
    '1001,"Acme, 50 seats",12500,USD,2026-11-20 10:00,Closed Won,alice@example.com,'
    "Sales Pipeline,1,Acme Corp\r\n"
    '1002,"Globex renewal\r\nsecond year",1234.5,,2026-11-21,Contract Sent,Bob Smith,'
    "Sales Pipeline,0.9,\r\n"
)
SALESFORCE = (
    '"Opportunity ID","Opportunity Name","Account Name","Amount","Amount Currency",'
    '"Close Date","Stage","Probability (%)","Opportunity Owner"\n'
    '"006A1","Acme expansion","Acme Corp","$1,234.56","USD","11/20/2026","Closed Won",'
    '"100%","Alice Johnson"\n'
    '"006A2","Initech pilot","Initech","$30,000.00","USD","11/5/2026","Discovery",'
    '"75%","Bob Smith"\n'
    "\n"
    '"Grand Totals (2 records)"\n'
    '"","","","$31,234.56"\n'
    "\n"
    '"Confidential Information - Do Not Distribute"\n'
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
)


def read(text: str, fmt: str = "auto", forced: str | None = None, **stages: str) -> list[object]:
    """Every row of the file, read as the import reads it: the dates scanned first."""
    layout, rows = crm_csv.open_rows(io.StringIO(text, newline=""), fmt)
    order = crm_csv.scan_dates(layout, rows).order(forced)
    _, rows = crm_csv.open_rows(io.StringIO(text, newline=""), fmt)
    reader = crm_csv.Reader(layout, order, {crm_csv.stage_key(k): v for k, v in stages.items()})
    return [reader.row(line, cells) for line, cells in rows]


def test_a_hubspot_export_with_a_bom_crlf_and_a_quoted_newline() -> None:
    first, second = read(HUBSPOT)
    assert first == Row(
        line=2,
        external_id="1001",
        number=None,
        customer="Acme Corp",
        amount="12500",
        currency="USD",
        close_date=date(2026, 11, 20),
        stage="won",
        owner="alice@example.com",
        owner_email="alice@example.com",
        owner_id=None,
        team=None,
        note="Acme, 50 seats",
    )
    # No company: the deal's name is its customer; the record spans lines 3 and 4.
    assert isinstance(second, Row)
    assert (second.line, second.customer, second.note) == (3, "Globex renewal\r\nsecond year", None)
    assert (second.stage, second.owner, second.owner_email, second.currency) == (
        "negotiation",
        "Bob Smith",
        None,
        None,
    )


def test_a_salesforce_report_stops_at_its_footer() -> None:
    rows = read(SALESFORCE)
    assert [(r.external_id, r.amount, r.close_date, r.stage) for r in rows] == [  # type: ignore[attr-defined]
        ("006A1", "$1,234.56", date(2026, 11, 20), "won"),
        # "Discovery" is no stage Pacer knows; 75% places it in negotiation.
        ("006A2", "$30,000.00", date(2026, 11, 5), "negotiation"),
    ]


def test_the_format_is_read_from_the_header_and_missing_columns_are_named() -> None:
    header = ["number", "external_id", "close_date", "customer", "amount", "currency", "stage"]
    assert crm_csv.detect(header).format is Format.PACER
    full = ["Deal ID", "Deal Name", "Amount", "Close Date", "Deal Stage", "Deal owner"]
    assert crm_csv.detect(full).format is Format.HUBSPOT
    assert crm_csv.detect(full, "hubspot").index["owner"] == 5
    with pytest.raises(FileError) as err:
        crm_csv.detect(["Deal ID", "Deal Name", "Amount"])
    assert err.value.key == "import.missing_columns"
    assert err.value.values["columns"] == "close date, deal stage, deal owner"
    with pytest.raises(FileError) as unknown:
        crm_csv.detect(["Name", "Value"])
    assert (unknown.value.key, unknown.value.values) == (
        "import.unknown_format",
        {"header": "Name, Value"},
    )


def test_day_and_month_are_settled_for_the_whole_file() -> None:
    header = (
        "Opportunity ID,Opportunity Name,Account Name,Amount,Close Date,Stage,Opportunity Owner\n"
    )

    def row(n: int, day: str) -> str:
        return f"00{n},Deal {n},Co {n},100,{day},Closed Won,Alice\n"

    # 13/11 reads only day first: the whole file is European, so 05/11 is 5 November.
    eu = read(header + row(1, "05/11/2026") + row(2, "13/11/2026"))
    assert [r.close_date for r in eu] == [date(2026, 11, 5), date(2026, 11, 13)]  # type: ignore[attr-defined]
    # Only dates both orders read differently: refused for the file, not guessed per row.
    with pytest.raises(FileError) as err:
        read(header + row(1, "05/11/2026") + row(2, "12/12/2026"))
    assert (err.value.key, err.value.values) == (
        "import.dates_ambiguous",
        {"line": 2, "value": "05/11/2026"},
    )
    us = read(header + row(1, "05/11/2026"), forced="us")
    assert us[0].close_date == date(2026, 5, 11)  # type: ignore[attr-defined]
    with pytest.raises(FileError) as mixed:
        read(header + row(1, "11/20/2026") + row(2, "20/11/2026"))
    assert mixed.value.values == {"us_line": 2, "eu_line": 3}
    # A date that cannot be read in the file's order is that row's error.
    bad = read(header + row(1, "11/20/2026") + row(2, "11/31/2026") + row(3, "soon"), forced="us")
    assert bad[1] == [Problem(3, "Close Date", "11/31/2026", "import.bad_date")]
    assert bad[2] == [Problem(4, "Close Date", "soon", "import.bad_date")]


def test_date_readings() -> None:
    assert crm_csv.date_readings("2026-11-20T09:30:00Z") == {None: date(2026, 11, 20)}
    assert crm_csv.date_readings("20.11.2026") == {DateOrder.EU: date(2026, 11, 20)}
    assert crm_csv.date_readings("11/20/2026 3:45 PM") == {DateOrder.US: date(2026, 11, 20)}
    assert crm_csv.date_readings("2026-02-30") == {}
    # The same day either way: no ambiguity.
    assert crm_csv.read_date("07/07/2026", None) == date(2026, 7, 7)


def test_stages_by_name_by_mapping_and_by_probability() -> None:
    assert crm_csv.map_stage("closedwon", None, {}) == "won"
    assert crm_csv.map_stage("Closed Lost", None, {}) == "lost"
    assert crm_csv.map_stage("Proposal/Price Quote", None, {}) == "proposal"
    assert crm_csv.map_stage("Negotiation", None, {}) == "negotiation"
    assert crm_csv.map_stage("Verbal Yes", None, {}) is None
    assert crm_csv.map_stage("Verbal Yes", None, {"verbalyes": "negotiation"}) == "negotiation"
    # The admin's mapping wins over the built-in names.
    assert crm_csv.map_stage("Qualification", None, {"qualification": "lead"}) == "lead"
    probabilities = ["0", "0.1", "0.25", "0.6", "0.9", "1"]
    assert [crm_csv.map_stage("x", Decimal(p), {}) for p in probabilities] == [
        "lost",
        "lead",
        "qualified",
        "proposal",
        "negotiation",
        "won",
    ]


def test_an_unknown_stage_and_other_bad_cells_are_row_errors_naming_them() -> None:
    text = (
        "Record ID,Deal Name,Amount,Close Date,Deal Stage,Deal owner,Deal Stage Probability\n"
        "1,Acme,100,2026-11-20,Verbal Yes,Alice,\n"
        "2,,,2026-11-20,won,,150\n"
    )
    unknown, blank = read(text)
    assert unknown == [
        Problem(
            2,
            "Deal Stage",
            "Verbal Yes",
            "import.unknown_stage",
            {"choices": "lead, qualified, proposal, negotiation, won, lost"},
        )
    ]
    assert [(p.column, p.key) for p in blank] == [  # type: ignore[attr-defined]
        ("Deal Name", "import.no_customer"),
        ("Deal Stage Probability", "import.bad_probability"),
        ("Deal owner", "import.no_owner"),
        ("Amount", "import.no_amount"),
    ]
    assert read(text, **{"Verbal Yes": "negotiation"})[0].stage == "negotiation"  # type: ignore[attr-defined]


def test_probabilities_as_fractions_and_percents() -> None:
    assert crm_csv.parse_probability("75%", percent=False) == Decimal("0.75")
    assert crm_csv.parse_probability("0.75", percent=False) == Decimal("0.75")
    assert crm_csv.parse_probability("75", percent=False) == Decimal("0.75")
    assert crm_csv.parse_probability("1", percent=True) == Decimal("0.01")
    assert crm_csv.parse_probability(" ", percent=True) is None
    for bad in ("150%", "-5", "high", "NaN"):
        with pytest.raises(ValueError):
            crm_csv.parse_probability(bad, percent=False)


def test_pacers_own_export() -> None:
    text = (
        "number,external_id,close_date,customer,amount,currency,stage,owner_email,owner,"
        "owner_id,team,product,region,note,source,created_at,deleted\n"
        '12,,2026-11-20,Acme,1234.50,USD,won,,alice,UALICE,East,CRM,East,"a, b",slash,'
        "2026-11-20T10:00:00Z,false\n"
        "13,hs-9,2026-11-21,Globex,99,USD,lost,bob@example.com,bob,UBOB,East,,,,import,"
        "2026-11-21T10:00:00Z,true\n"
    )
    typed, imported = read(text)
    assert isinstance(typed, Row) and isinstance(imported, Row)
    assert (typed.number, typed.external_id, typed.owner_id, typed.team, typed.note) == (
        12,
        None,
        "UALICE",
        "East",
        "a, b",
    )
    assert (typed.product, typed.region, typed.deleted) == ("CRM", "East", False)
    assert (imported.external_id, imported.owner_email, imported.deleted) == (
        "hs-9",
        "bob@example.com",
        True,
    )


def test_a_stages_file() -> None:
    lines = [
        "# our pipeline\n",
        "Discovery Call = qualified\n",
        "\n",
        "Verbal Yes=Negotiation # soon\n",
    ]
    assert crm_csv.parse_stage_map(lines) == {
        "discoverycall": "qualified",
        "verbalyes": "negotiation",
    }
    with pytest.raises(FileError) as err:
        crm_csv.parse_stage_map(["Discovery = maybe\n"])
    assert (err.value.key, err.value.values["line"], err.value.values["value"]) == (
        "import.stages_stage",
        1,
        "maybe",
    )
    with pytest.raises(FileError):
        crm_csv.parse_stage_map(["just words\n"])


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(FileError) as err:
        crm_csv.open_rows(io.StringIO("\n\n"))
    assert err.value.key == "import.empty"
