"""No traceback ever reaches a page (issue #18): an error is logged with a short id and the
page shows only that id, so an operator can find the details in the server log.

app.py runs every page inside `shown_as_id()`; .streamlit/config.toml sets
client.showErrorDetails = "none" for anything that escapes it anyway."""

from __future__ import annotations

import contextlib
import logging
import uuid

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from ui.i18n import t

log = logging.getLogger("app.errors")


def report(exc: BaseException) -> str:
    """Log the exception with a new id and show the id on the page; returns the id."""
    eid = uuid.uuid4().hex[:8]
    log.error("page error %s", eid, exc_info=exc)
    st.error(t("err.page", id=eid))
    return eid


@contextlib.contextmanager
def shown_as_id():
    try:
        yield
    except ScriptControlException:  # st.rerun, st.stop, st.switch_page: Streamlit's own flow
        raise
    except Exception as e:  # noqa: BLE001 – any error: logged with an id, never a traceback
        report(e)
