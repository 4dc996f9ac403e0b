"""Vega-Lite specs rendered to SVG on the server (vl-convert), for the compliance page.

No JavaScript reaches the browser for a chart. vl-convert is imported here, when a page
is rendered, never when a DAG is parsed. Renders are kept in memory by the spec's digest:
a spec holds its data, so an unchanged history costs no render on the next page load.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from threading import Lock

from include.dr.compliance.chart_specs import Palette, Spec

CACHE_SIZE = 256  # rendered SVGs kept (about 40 per page: 20 charts in two themes)
_cache: OrderedDict[str, str] = OrderedDict()
_lock = Lock()
_ID = re.compile(r'\bid="([^"]+)"')


def render_svg(spec: Spec, palette: Palette) -> str:
    """``spec`` as an SVG in ``palette``'s theme; ids made unique to this chart."""
    text = json.dumps(spec, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{palette.name}\n{text}".encode()).hexdigest()[:12]
    with _lock:
        if digest in _cache:
            _cache.move_to_end(digest)
            return _cache[digest]
    import vl_convert

    spec_copy = json.loads(text)
    dark = palette.name == "dark"
    svg = vl_convert.vegalite_to_svg(spec_copy, theme="dark" if dark else None)
    svg = unique_ids(svg, f"c{digest}-")
    with _lock:
        _cache[digest] = svg
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return svg


def unique_ids(svg: str, prefix: str) -> str:
    """Prefix every id and reference to it: two SVGs on one page (each chart is there in
    both themes, one hidden) must not share clip paths or gradients."""
    for name in set(_ID.findall(svg)):
        svg = svg.replace(f'id="{name}"', f'id="{prefix}{name}"')
        svg = svg.replace(f"url(#{name})", f"url(#{prefix}{name})")
        svg = svg.replace(f'href="#{name}"', f'href="#{prefix}{name}"')
    return svg
