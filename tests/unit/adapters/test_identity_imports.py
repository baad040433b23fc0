from __future__ import annotations

import subprocess
import sys

import pytest

from app.adapters.identity.algorithms import SUPPORTED_ALGORITHMS, check_algorithms
from app.adapters.identity.jwt_verifier import _KEY_TYPES


def test_every_supported_algorithm_has_a_key_type() -> None:
    assert set(_KEY_TYPES) == SUPPORTED_ALGORITHMS


def test_unsupported_algorithms_are_named() -> None:
    with pytest.raises(ValueError, match=r"\['HS256'\]"):
        check_algorithms(["RS256", "HS256"])


def _loaded_after_start(auth_enabled: bool) -> bool:
    code = (
        "import sys\n"
        "from app.asgi import create_app\n"
        "from app.settings import Settings\n"
        "create_app(Settings(mcp_servers_file='', auth_enabled=False))\n"
        "from app.server.authentication import Authenticator\n"
        "import httpx\n"
        f"settings = Settings(auth_enabled={auth_enabled}, oidc_issuer='https://idp.example.com', jwt_audience='a')\n"
        "Authenticator(settings, httpx.AsyncClient())\n"
        "print('joserfc' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1] == "True"


def test_the_jose_library_is_loaded_only_when_jwts_are_verified() -> None:
    assert (_loaded_after_start(False), _loaded_after_start(True)) == (False, True)
