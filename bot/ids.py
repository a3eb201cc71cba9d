"""Numbers read out of button data and numbered text: ASCII digits only, bounded.

str.isdigit() accepts "²" and "٣" (int("²") raises), and a thousand digits would overflow SQLite's
64-bit integer: every identifier or choice number typed or carried by a button goes through parse_id.
"""

from __future__ import annotations

import re

_ID = re.compile(r"[0-9]{1,18}")


def parse_id(text: str) -> int | None:
    """A non-negative whole number written in 1 to 18 ASCII digits, or None for anything else."""
    return int(text) if _ID.fullmatch(text) else None
