"""Every sample call, in the order they are built and listed."""

from __future__ import annotations

from .calls_first import CALL01, CALL02, CALL03, CALL04, CALL05, CALL06, CALL07
from .calls_standard import CALL08, CALL09, CALL10, CALL11, CALL12

CALLS = [CALL01, CALL02, CALL03, CALL04, CALL05, CALL06, CALL07, CALL08, CALL09, CALL10, CALL11, CALL12]
