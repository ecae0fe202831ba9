"""Workday's page-numbered Get answers: `Response_Filter` Page (from 1) and Count (at most 999,
100 when absent) in, `Response_Results` (Total_Results, Total_Pages, Page_Results, Page) out.
The shape is Workday's, as Microsoft's Workday provisioning reference quotes it:
https://learn.microsoft.com/en-us/entra/identity/app-provisioning/workday-integration-reference
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from .envelope import NS, add, invalid, text, wd

MAX_COUNT = 999
DEFAULT_COUNT = 100


def page_of_records(response: ET.Element, request: ET.Element, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the page the request asks for; writes Response_Filter, Response_Results and an
    empty Response_Data into `response` (the caller fills it)."""
    wanted = request.find("wd:Response_Filter", NS)
    page = _number(text(wanted, "wd:Page", "1"), "Page")
    count = _number(text(wanted, "wd:Count", str(DEFAULT_COUNT)), "Count")
    if page < 1:
        raise invalid("Page Number cannot be zero.", "/bsvc:Response_Filter[1]/bsvc:Page[1]")
    if not 1 <= count <= MAX_COUNT:
        raise invalid(f"Count must be between 1 and {MAX_COUNT}.", "/bsvc:Response_Filter[1]/bsvc:Count[1]")
    total_pages = max(1, -(-len(rows) // count))
    chosen = rows[(page - 1) * count : page * count]
    echoed = ET.SubElement(response, wd("Response_Filter"))
    add(echoed, "Page", page)
    add(echoed, "Count", count)
    results = ET.SubElement(response, wd("Response_Results"))
    add(results, "Total_Results", len(rows))
    add(results, "Total_Pages", total_pages)
    add(results, "Page_Results", len(chosen))
    add(results, "Page", page)
    ET.SubElement(response, wd("Response_Data"))
    return chosen


def _number(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid(f"'{value}' is not a valid {name}", f"/bsvc:Response_Filter[1]/bsvc:{name}[1]") from None
