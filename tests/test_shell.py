"""The app shell: page registry, one label table in two languages, number formatting."""

from pathlib import Path

import pytest

from ui import fmt, i18n
from ui.nav import PAGES

ROOT = Path(__file__).resolve().parent.parent


def test_page_files_are_named_like_their_urls():
    # a deep link is resolved by file name before app.py runs (else "Page not found")
    for p in PAGES:
        assert (ROOT / p.file).exists() and Path(p.file).stem == p.key


def test_every_label_has_both_languages_and_one_definition():
    table = i18n.table()
    assert len(table) > 100
    for key, value in table.items():
        assert set(value) >= {"zh", "en"}, key
        assert value["zh"].strip() and value["en"].strip(), key
    for p in PAGES:
        assert i18n.has(f"page.{p.key}") and i18n.has(f"nav.group.{p.group}")


def test_duplicate_label_is_refused(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text("x.y: {zh: 甲, en: a}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("x.y: {zh: 乙, en: b}\n", encoding="utf-8")
    monkeypatch.setattr(i18n, "LABEL_DIR", tmp_path)
    i18n.table.cache_clear()
    with pytest.raises(ValueError, match="defined twice"):
        i18n.table()
    i18n.table.cache_clear()


def test_chinese_number_formatting():
    i18n.set_lang("zh")
    assert fmt.num(380_000) == "38.0万" and fmt.num(3_800_000) == "380万" and fmt.num(3625) == "3,625"
    assert fmt.pp(0.042) == "+4.2个百分点"
    from datetime import date
    assert fmt.month(date(2026, 11, 1)) == "2026年11月"
    i18n.set_lang("en")
    assert fmt.num(380_000) == "380,000" and fmt.month(date(2026, 11, 1)) == "Nov 2026"
    i18n.set_lang("zh")
