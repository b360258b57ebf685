"""Issue #18: data rendered through Markdown (titles, captions, sentences, notices) is shown as
text. Links and images stored in an area name, a case description and a post must not come
out of any page as a live Markdown link or image."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.apptest import open_page
from ui.mdtext import md

IMAGE = "![b](http://host/beacon.png)"
LINK = "[点此重新登录](http://x)"


@pytest.fixture(scope="module")
def hostile_db(small_db, tmp_path_factory):
    """The small demo with both payloads in the county's and every town's name, one case's
    description and some posts."""
    path = tmp_path_factory.mktemp("md") / "hostile.duckdb"
    shutil.copy(small_db, path)
    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE area SET name = ? WHERE level = 'county'", [LINK])
        con.execute("UPDATE area SET name = ? || name WHERE level = 'town'", [IMAGE])
        case_id = con.sql("SELECT case_id FROM cases ORDER BY reported_at DESC LIMIT 1").fetchall()[0][0]
        con.execute("UPDATE cases SET description = ? WHERE case_id = ?", [f"{IMAGE} {LINK}", case_id])
        con.execute("UPDATE opinion_post SET content = ? || content WHERE post_id IN "
                    "(SELECT post_id FROM opinion_post ORDER BY published_at DESC LIMIT 50)", [f"{IMAGE} {LINK}"])
    finally:
        con.close()
    return path, case_id


def rendered(at) -> list[str]:
    """Every element whose text Streamlit renders as Markdown."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    return [e.value for k in kinds for e in getattr(at, k)] + [m.label for m in at.metric]


def live(texts: list[str]) -> list[str]:
    return [v for v in texts if "](http" in v or "![" in v]


@pytest.mark.parametrize("page, params", [
    ("overview", {}), ("cases", {"case": None}), ("opinion", {"opinion_tab": "帖子列表"}), ("grid", {})],
    ids=["overview", "case", "opinion-posts", "grid"])
def test_stored_links_and_images_render_as_text(hostile_db, monkeypatch, page, params):
    path, case_id = hostile_db
    monkeypatch.setenv("WAREHOUSE_DB", str(path))
    if "case" in params:
        params = {"case": case_id}
    if page == "grid":
        con = duckdb.connect(str(path), read_only=True)
        params = {"grid": con.sql("SELECT code FROM area WHERE level = 'grid' LIMIT 1").fetchall()[0][0]}
        con.close()
    at = open_page(page, **params)
    assert not at.exception
    texts = rendered(at)
    assert not live(texts), live(texts)
    assert any(md(LINK) in v or md(IMAGE) in v for v in texts)  # the payload is on the page, as text
    if page == "opinion":  # the posts themselves: table cells, which Streamlit never reads as Markdown
        assert any(df.value.astype(str).apply(lambda c: c.str.contains(IMAGE, regex=False)).any().any()
                   for df in at.dataframe)


def test_robot_messages_carry_no_link_or_image_from_data():
    """企业微信 / 钉钉 robots render Markdown: an alert's title and text come from data."""
    from alerts.deliver import payload
    from alerts.evaluate import Event

    ev = Event("k", "case_spike", "红", "320813001", f"{LINK}镇 事件激增", f"{IMAGE} 较上周 +80%",
               "http://zzzx.intranet/overview?area=320813001")
    for channel in ({"type": "wecom"}, {"type": "dingtalk"}):
        body = str(payload(channel, ev)["markdown"])
        assert body.count("](") == 1 and "[查看详情](http://zzzx.intranet" in body  # only our own link
        assert "![" not in body and "点此重新登录" in body
