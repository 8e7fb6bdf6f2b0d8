"""The constants docs/protocol.md prints are the code's, and the spec prints every one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from placecode.crypto import constants as c

SPEC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def assignments(source: str) -> dict[str, str]:
    """NAME -> the expression assigned to it, for every upper-case name in ``source``."""
    out: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id.isupper():
            assert target.id not in out, f"{target.id} is printed twice"
            out[target.id] = ast.unparse(value)
    return out


def printed_constants() -> dict[str, str]:
    """NAME -> the expression after ``=``, from every ```python block of the spec."""
    blocks = re.findall(r"```python\n(.*?)```", SPEC.read_text(encoding="utf-8"), re.DOTALL)
    printed: dict[str, str] = {}
    for block in blocks:
        found = assignments(block)
        assert not set(found) & set(printed), f"printed twice: {set(found) & set(printed)}"
        printed |= found
    return printed


def code_constants() -> dict[str, object]:
    return {name: value for name, value in vars(c).items() if name.isupper()}


def test_every_printed_constant_equals_the_code() -> None:
    printed = printed_constants()
    assert len(printed) > 40
    code = code_constants()
    for name, expression in printed.items():
        assert name in code, f"the spec prints {name}, which crypto/constants.py lacks"
        # an expression may name constants printed before it, as the code's do
        value = eval(expression, {"__builtins__": {}}, dict(code))  # noqa: S307
        assert value == code[name], f"{name}: the spec says {expression!r}, the code {code[name]!r}"


def test_the_spec_prints_every_constant() -> None:
    missing = sorted(set(code_constants()) - set(printed_constants()))
    assert missing == [], f"crypto/constants.py has constants the spec does not print: {missing}"


def test_a_wrong_printed_value_is_caught() -> None:
    """The comparison can fail: a spec line with another value does not match the code."""
    (expression,) = assignments("EPOCH_SECONDS = 31  # wrong").values()
    value = eval(expression, {"__builtins__": {}}, code_constants())  # noqa: S307
    assert value != c.EPOCH_SECONDS
