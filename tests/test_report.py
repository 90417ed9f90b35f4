"""/pacer report: a PDF whose pages render, in English and Chinese, built after the ack."""

from __future__ import annotations

import io

import pypdf
from sqlalchemy import Engine
from sqlmodel import Session

import charts
from commands import export
from commands.i18n import t
from commands.types import Reply
from tests.conftest import ADMIN, Run

ALICE = "<@UALICE|alice>"


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def pdf_of(engine: Engine, reply: Reply) -> pypdf.PdfReader:
    assert reply.file is not None and reply.file.filename.endswith(".pdf")
    assert reply.file.content == b""  # built after the acknowledgement
    out = io.BytesIO()
    with Session(engine) as s:
        export.write_file(s, reply.file, out, charts.render_report)
    assert out.getvalue().startswith(b"%PDF")
    return pypdf.PdfReader(io.BytesIO(out.getvalue()))


def november(team: Run) -> None:
    assert team(ADMIN, "/pacer", "setup bonus East 5000 per:month").ok
    assert team("UMIA", "/goal", "set team East 200000 2026-11").ok
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    assert team("UMIA", "/goal", "adjust 2 100000 reason:territory change").ok
    assert team("UALICE", "/deal", "25,000 Acme product:CRM").ok
    assert team("UALICE", "/deal", "40,000 Hooli stage:proposal close:2026-11-30").ok
    assert team("UBOB", "/deal", "10,000 Globex product:Cloud").ok


def test_the_report_has_every_part_in_its_pages(team: Run, engine: Engine) -> None:
    november(team)
    reply = team("UMIA", "/pacer", "report 2026-11 team East")
    assert reply.text == en("report.on_its_way", team="East", period="2026-11")
    pdf = pdf_of(engine, reply)
    # Summary, progress chart, reps, trend, funnel, mix, leaderboard, bonus, changes.
    assert len(pdf.pages) == 9
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "East · 2026-11: Pacer report" in text
    assert "$35,000 of $200,000" in text  # the team's progress
    assert "alice" in text and "bob" in text
    assert en("report.changes_title") in text and "territory change" in text
    assert "$120,000" in text and "$100,000" in text  # the adjustment, from and to
    assert en("report.bonus_title") in text


def test_the_report_in_chinese_embeds_its_glyphs(team: Run, engine: Engine) -> None:
    november(team)
    reply = team("UMIA", "/pacer", "report team East", locale="zh-CN")
    pdf = pdf_of(engine, reply)
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Pacer 报告" in text and "每位销售" in text
    fonts = {
        str(f.get_object()["/BaseFont"])
        for page in pdf.pages
        for f in page["/Resources"]["/Font"].values()
    }
    assert any("NotoSansCJK" in f for f in fonts)  # a subset of the CJK font, embedded


def test_only_managers_and_admins(team: Run) -> None:
    refused = team("UALICE", "/pacer", "report")
    assert (refused.ok, refused.file) == (False, None)
    assert team(ADMIN, "/pacer", "report team East").file is not None
    bad = team("UMIA", "/pacer", "report 2026-13 team East")
    assert not bad.ok and "2026-13" in bad.text
