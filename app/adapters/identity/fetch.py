"""One JSON exchange with the token authority, its failures turned into 503s that say what and where."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from app.errors import ServiceUnavailable

__all__ = ("authority_json",)


async def authority_json(
    http: httpx.AsyncClient,
    what: str,
    url: str,
    *,
    form: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    hint: str = "",
) -> dict[str, Any]:
    """GET ``url`` (or POST ``form`` to it) and return the JSON object it answers with.

    Raises:
        ServiceUnavailable: unreachable, a status other than 200, or not a JSON object; the message names
            ``what`` and ``url`` (never a credential), plus ``hint`` after an error status.
    """
    headers = {"Accept": "application/json"}
    try:
        if form is None:
            response = await http.get(url, headers=headers)
        elif auth is None:
            response = await http.post(url, data=form, headers=headers)
        else:
            response = await http.post(url, data=form, auth=auth, headers=headers)
    except httpx.HTTPError as exc:
        msg = f"{what} at {url} unreachable: {type(exc).__name__}"
        raise ServiceUnavailable(msg) from None
    if response.status_code != 200:
        msg = f"{what} at {url} answered HTTP {response.status_code}{hint}"
        raise ServiceUnavailable(msg)
    try:
        document = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        document = None
    if not isinstance(document, dict):
        msg = f"{what} at {url} is not a JSON object"
        raise ServiceUnavailable(msg)
    return document
