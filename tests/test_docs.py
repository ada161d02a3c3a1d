"""The settings table documents every setting the code knows, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from flask_bastion.config import DEFAULTS

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_every_bastion_setting_is_in_the_configuration_table() -> None:
    documented = set(re.findall(r"^\| `(BASTION_[A-Z0-9_]+)` \|", DOC.read_text(), re.MULTILINE))
    assert documented == set(DEFAULTS)
