"""schemathesis hook for the run over every operation (loaded through SCHEMATHESIS_HOOKS).

JSON has no NaN or infinity (RFC 8259, section 6). hypothesis can generate
them for a value the OpenAPI document leaves free (a legacy invoice item's
own extra fields), and requests refuses to send such a body ("Out of range
float values are not JSON compliant"), which schemathesis reports as an error
of the run although no request was made. :func:`map_case` puts ``null`` in
their place; every other generated value, valid or not, is sent as it is.
"""

from __future__ import annotations

import math
from typing import Any

import schemathesis


def finite(value: Any) -> Any:
    """``value`` with every float that is NaN or infinite, at any depth, replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    case.body = finite(case.body)
    return case
