from __future__ import annotations

import base64

import pytest

from app.domain.mcp.cursors import cursor_at, offset_of


@pytest.mark.parametrize("offset", [0, 1, 100, 4800])
def test_a_cursor_leads_back_to_its_offset(offset: int) -> None:
    assert offset_of(cursor_at(offset)) == offset


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_is_the_first_page(cursor: object) -> None:
    assert offset_of(cursor) == 0


def _encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("cursor", ["not base64!", _encoded("offset:-1"), _encoded("page:2"), _encoded("offset:x"), 7])
def test_a_cursor_the_gateway_did_not_issue_is_refused(cursor: object) -> None:
    assert offset_of(cursor) is None
