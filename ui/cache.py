"""Cache warehouse calls per (function, arguments, warehouse version).

A new warehouse file (build or load) changes db.version(), so every cached result of the
old one stops matching without anyone clearing anything.
"""

from __future__ import annotations

import importlib

import streamlit as st

from warehouse import db


@st.cache_data(show_spinner=False, max_entries=2048, ttl=3600)
def _call(module: str, name: str, version: str | None, args: tuple, kwargs: tuple):
    fn = getattr(importlib.import_module(module), name)
    return fn(*args, **dict(kwargs))


def call(fn, *args, **kwargs):
    """fn(*args, **kwargs), cached; fn must be a module-level warehouse function."""
    return _call(fn.__module__, fn.__qualname__, db.version(), args, tuple(sorted(kwargs.items())))
