"""The partnership's areas: the county's local authority districts, by ONS GSS code.

A module of its own (no models) so that the public directory (``partnership_api.oruk``) can
name areas without importing the partnership's models.
"""

from __future__ import annotations

AREAS = {
    "E07000192": "Cannock Chase",
    "E07000193": "East Staffordshire",
    "E07000194": "Lichfield",
    "E07000195": "Newcastle-under-Lyme",
    "E07000196": "South Staffordshire",
    "E07000197": "Stafford",
    "E07000198": "Staffordshire Moorlands",
    "E07000199": "Tamworth",
    "E06000021": "Stoke-on-Trent",
}

# The whole partnership area, as the public directory shows it for every refuge: Staffordshire
# County Council's area and the City of Stoke-on-Trent (a unitary authority).
COUNTY_WIDE = {
    "E10000028": "Staffordshire",
    "E06000021": "Stoke-on-Trent",
}


def geography_uri(gss_code: str) -> str:
    """The ONS linked-data identifier of an area (its last segment is the GSS code)."""
    return f"http://statistics.data.gov.uk/id/statistical-geography/{gss_code}"
