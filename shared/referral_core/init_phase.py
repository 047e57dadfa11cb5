"""Lambda's init phase without the cyclic garbage collector.

Loading a function allocates a few hundred thousand objects that live as long as the container: modules,
classes, boto3's service model, compiled patterns. None of it is garbage, yet every collection the
allocations trigger walks all of it, a share of an import-heavy cold start (see bench/RESULTS.md). So a
function module imports this module first, which pauses the collector, and calls :func:`init_complete` as
its last statement, which moves everything init built into the permanent generation
(later collections skip it, ``gc.freeze``) and turns the collector back on for the invocations.

Reference counting frees everything that is not in a cycle either way; a failed init (an exception before
``init_complete``) ends the container, so the pause cannot outlive it. tests/unit/test_init_phase.py checks that
every function imports this first and leaves the collector on.
"""

from __future__ import annotations

import gc

gc.disable()


def init_complete() -> None:
    """The function's modules are loaded: keep what they built out of future collections, collect again."""
    gc.freeze()
    gc.enable()
