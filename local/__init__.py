"""Local stack: serves template.yaml on moto + worker processes (`python -m local`).

It filters stream records with the layer's own engine (``referral_core.event_filters``, what the stream's
reader runs in Lambda), so the layer's folder is importable here as it is in a worker: appended, so
nothing in it can shadow the stack's own modules.
"""

import sys
from pathlib import Path

_LAYER = str(Path(__file__).resolve().parents[1] / "shared")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)
