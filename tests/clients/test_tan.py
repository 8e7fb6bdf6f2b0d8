"""One TAN rule for the service and the clients (placecode.crypto.tan)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placecode.clients import visitor
from placecode.clients.visitor import DiaryError
from placecode.crypto import DecodeError
from placecode.crypto.rules import TAN_ALPHABET, normalize_tan, random_tan, tan_digits
from placecode.service import tans

#: how a person may mistype a digit and still mean it
LOOK_ALIKES = {"0": "Oo", "1": "IiLl"}


@st.composite
def typed_tans(draw: st.DrawFn) -> tuple[str, str]:
    """(a TAN as issued, the same TAN as a person might type it)."""
    issued = random_tan(lambda n: draw(st.binary(min_size=n, max_size=n)))
    typed = []
    for ch in issued.replace("-", ""):
        ch = draw(st.sampled_from([ch, ch.lower(), *LOOK_ALIKES.get(ch, "")]))
        typed.append(ch + draw(st.sampled_from(["", "", "-", " "])))
    return issued, "".join(typed)


def test_the_service_and_the_client_read_a_look_alike_alike() -> None:
    # regression: the service read O as 0 while the client refused the TAN
    assert visitor.normalize_tan("ABCD-EFGH-JKMO") == "ABCD-EFGH-JKM0"
    assert tans.normalise("ABCD-EFGH-JKMO") == tans.normalise("ABCD-EFGH-JKM0")
    assert tans.normalise("abcd efgh jkm0") == tan_digits("ABCD-EFGH-JKM0")


@given(typed_tans())
def test_every_way_of_typing_a_tan_reaches_the_issued_tan(pair: tuple[str, str]) -> None:
    issued, typed = pair
    assert visitor.normalize_tan(typed) == issued
    assert tans.normalise(typed) == tans.normalise(issued)


@given(st.text(max_size=40))
def test_anything_else_is_refused_or_canonical(text: str) -> None:
    try:
        tan = normalize_tan(text)
    except DecodeError:
        with pytest.raises(DiaryError, match="not a TAN"):
            visitor.normalize_tan(text)
        return
    assert len(tan) == 14 and tan[4] == tan[9] == "-"
    assert all(ch in TAN_ALPHABET for ch in tan.replace("-", ""))
    assert normalize_tan(tan) == tan


def test_issued_and_dummy_tans_have_one_shape() -> None:
    for tan in (tans.generate(), visitor.dummy_upload(os.urandom).tan):
        assert normalize_tan(tan) == tan
    with pytest.raises(DecodeError):
        normalize_tan("ABCD-EFGH-JKMU")  # U is not a Crockford digit
