"""Partner lists as spreadsheet programs save them: Excel's CSV in a European locale (';'), "CSV UTF-8" (a BOM),
Windows line ends and the cp1252 of Excel's plain "CSV"."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from eif_xlsx.cli import main
from eif_xlsx.domain.partners import read_partners
from eif_xlsx.errors import UsageError

ROWS = [
    ["id", "name", "organisation", "email", "role"],
    ["NMW-01", "Hélène Dupré", "Northshire Maternité", "helene@example.org", "Sage-femme"],
    ["FH-02", "Bob Sample", "Family Hubs; North", "bob@example.org", ""],
]
EXPECTED = [
    ("NMW-01", "Hélène Dupré", "Northshire Maternité", "helene@example.org", "Sage-femme", 2),
    ("FH-02", "Bob Sample", "Family Hubs; North", "bob@example.org", "", 3),
]


def excel_csv(sep: str, rows=ROWS) -> str:
    """A CSV as Excel writes it: fields quoted only when they hold the separator or a quote, CRLF line ends."""

    def field(v: str) -> str:
        return f'"{v}"' if sep in v or '"' in v else v

    return "".join(sep.join(field(v) for v in row) + "\r\n" for row in rows)


@pytest.mark.parametrize(
    ("sep", "encoding"),
    [
        (";", "utf-8-sig"),  # Excel (French/German/Dutch locale), "CSV UTF-8"
        (";", "cp1252"),  # Excel (European locale), plain "CSV"
        (",", "utf-8-sig"),  # Excel (English locale), "CSV UTF-8"
        (",", "cp1252"),
        ("\t", "utf-16"),  # Excel's "Unicode Text"
    ],
)
def test_excel_saved_lists(tmp_path, sep, encoding):
    path = tmp_path / "partners.csv"
    path.write_bytes(excel_csv(sep).encode(encoding))
    got = [(p.id, p.name, p.organisation, p.email, p.role, p.row) for p in read_partners(path)]
    assert got == EXPECTED


def test_tab_separated_text(tmp_path):
    path = tmp_path / "partners.txt"
    path.write_bytes(excel_csv("\t").encode("utf-8"))
    assert [p.name for p in read_partners(path)] == ["Hélène Dupré", "Bob Sample"]


def test_semicolon_list_generates_through_the_cli(tmp_path):
    path = tmp_path / "partners.csv"
    path.write_bytes(excel_csv(";").encode("utf-8-sig"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["generate", "maternity-early-years", "--partners", str(path), "--out", str(out), "--quiet", "-j", "1"]
    )
    assert result.exit_code == 0, result.output
    manifest = (out / "manifest.csv").read_text(encoding="utf-8-sig")  # the manifest's own BOM, for Excel
    assert "Hélène Dupré" in manifest and "\ufeff" not in manifest  # the partner list's BOM did not leak in


def test_wrong_header_names_the_separator_found(tmp_path):
    path = tmp_path / "partners.csv"
    path.write_bytes("Nom;Organisation;Courriel\r\nHélène;Maternité;h@example.org\r\n".encode("utf-8-sig"))
    with pytest.raises(UsageError) as exc:
        read_partners(path)
    message = str(exc.value)
    assert "row 1" in message and "missing: name, email" in message
    assert "found: 'Nom', 'Organisation', 'Courriel'" in message
    assert "semicolon (';')" in message
    result = CliRunner().invoke(
        main, ["generate", "maternity-early-years", "--partners", str(path), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2 and "semicolon (';')" in result.output and "Traceback" not in result.output


def test_header_without_any_separator(tmp_path):
    path = tmp_path / "partners.csv"
    path.write_bytes(b"name organisation email\r\nAnn Hub ann@example.org\r\n")
    with pytest.raises(UsageError, match="no separator"):
        read_partners(path)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"id,name\nP1,Ann\n", "is named .xlsx but is not a spreadsheet; save it as .xlsx or .csv"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "an old Excel 97-2003 file or a password-protected"),
        (None, "cannot be read: the workbook is damaged; open it in Excel or LibreOffice"),
    ],
)
def test_a_partner_list_that_is_no_workbook_is_named_in_plain_words(tmp_path, content, said):
    """A text file, an old .xls or a cut-off .xlsx named as a workbook: the file and what to do, never the
    spreadsheet library's own words (calamine's 'invalid Zip archive: Could not find EOCD')."""
    path = tmp_path / "partners.xlsx"
    sample = Path(__file__).resolve().parent.parent / "samples" / "returns"
    path.write_bytes(content if content is not None else next(sample.glob("*.xlsx")).read_bytes()[:3000])
    with pytest.raises(UsageError) as caught:
        read_partners(path)
    assert str(caught.value).startswith(f"{path}: ") and said in str(caught.value)
    assert "EOCD" not in str(caught.value) and "Zip" not in str(caught.value)


def test_file_names_are_cut_after_a_whole_word():
    """What partners see attached: 'northshire-childminding', not 'northshire-childminding-networ'."""
    from eif_xlsx.domain.partners import slug

    assert slug("Northshire Childminding Network", 30) == "northshire-childminding"
    assert slug("Northshire Maternity Services", 30) == "northshire-maternity-services"  # fits: whole
    assert slug("Family Nurse Partnership North", 30) == "family-nurse-partnership-north"  # ends on a word
    assert slug("Supercalifragilisticexpialidociousness", 30) == "supercalifragilisticexpialidoc"  # one word: cut
    assert slug("Évaluation — Crèche & Co", 30) == "evaluation-creche-co"
