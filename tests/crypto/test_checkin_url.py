"""§4 The check-in URL a venue code opens: a deployment's own, still one QR payload."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placecode import crypto
from placecode.crypto import constants as c
from placecode.testing import strategies as s

HOST_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@st.composite
def public_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https", "http", "HTTPS", "Https"]))
    host = ".".join(draw(st.lists(HOST_LABEL, min_size=1, max_size=4)))
    port = draw(st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")))
    path = draw(st.from_regex(r"(/[A-Za-z0-9._~-]{1,8}){0,2}/?", fullmatch=True))
    return f"{scheme}://{host}{port}{path}"


def test_a_realistic_check_in_url() -> None:
    assert crypto.checkin_url("https://checkin.health.example.org") == (
        "HTTPS://CHECKIN.HEALTH.EXAMPLE.ORG/C"
    )
    assert crypto.checkin_url("http://127.0.0.1:8000/") == "HTTP://127.0.0.1:8000/C"
    # a path is case-sensitive, so it stays as it is
    assert crypto.checkin_url("https://Health.example.org/Place/") == (
        "HTTPS://HEALTH.EXAMPLE.ORG/Place/C"
    )


@given(public_urls(), st.one_of(s.posters(), s.screens(), s.venue_codes()))
def test_codes_under_any_deployment_read_back(url: str, code: crypto.VenueCode) -> None:
    checkin = crypto.checkin_url(url)
    assert checkin.endswith(c.CHECKIN_PATH) and "#" not in checkin
    text = code.to_url(checkin)
    assert text.startswith(checkin + "#")
    assert crypto.VenueCode.from_url(text) == code
    # the payload is the same whatever the deployment: only the text before '#' differs
    assert text.partition("#")[2] == code.to_url().partition("#")[2]


@pytest.mark.parametrize(
    "url",
    [
        "checkin.example.org",
        "ftp://example.org",
        "https://",
        "https://user@example.org",
        "https://example.org/?x=1",
        "https://example.org/#frag",
        "https://exa mple.org",
        "https://exämple.org",
        "javascript:alert(1)",
    ],
)
def test_what_is_not_a_public_url_is_refused(url: str) -> None:
    with pytest.raises(crypto.Error, match="not a service's public URL"):
        crypto.checkin_url(url)


@pytest.mark.parametrize(
    "checkin", ["HTTPS://A.ORG/C#", "HTTPS://A.ORG/C?X", "FTP://A.ORG/C", "HTTPS://A B/C", ""]
)
def test_a_code_refuses_a_check_in_url_that_would_not_read_back(checkin: str) -> None:
    code = crypto.Venue(bytes(32), "Café").poster()
    with pytest.raises(crypto.Error, match="check-in URL"):
        code.to_url(checkin)
