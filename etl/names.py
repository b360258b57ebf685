"""Place names as people say them, shared by the demo generator and the gazetteer."""


def short_name(name: str) -> str:
    """临河社区居委会 → 临河社区, 大堤村委会 → 大堤村: how people say it."""
    for suffix in ("居民委员会", "村民委员会", "居委会", "村委会"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if suffix.startswith("村"):
                return base if base.endswith("村") else base + "村"
            return base if base.endswith(("社区", "村")) else base + "社区"
    return name
