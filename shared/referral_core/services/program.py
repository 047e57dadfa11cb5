"""Reading and changing the programme rules (staff)."""

from __future__ import annotations

from typing import Any

from referral_core.clock import iso
from referral_core.dal.program import ProgramRepository
from referral_core.models.program import (
    ApplicationRules,
    Program,
    ProgramVersions,
    ShareCodeRules,
    UpdateProgramRequest,
    default_rules,
)
from referral_core.services.program_defaults import program_rules


def _program(stored: dict[str, Any]) -> Program:
    """A stored programme item (the current one or a saved version) as the API shows it."""
    return Program(rules=program_rules(stored), version=int(stored.get("version") or 0),
                   updated_at=stored.get("updated_at"), updated_by=stored.get("updated_by"))


def current_program(repo: ProgramRepository) -> Program:
    """The saved rules (older stored shapes migrated: ``program_defaults.program_rules``), or the defaults
    (version 0) before staff first save any. An item written before the API (no ``version``) is version 0
    too, so the first save replaces it."""
    stored = repo.current()
    if stored is None:
        return Program(rules=default_rules(), version=0)
    return _program(stored)


def program_versions(repo: ProgramRepository, *, cursor: str | None, limit: int) -> ProgramVersions:
    """Every saved version, newest first (each as it was saved)."""
    items, next_cursor = repo.versions(limit=limit, cursor=cursor)
    return ProgramVersions(items=[_program(i) for i in items], next_cursor=next_cursor)


def share_code_rules(repo: ProgramRepository) -> ShareCodeRules:
    """The share-code limits in force (the cap per referrer, the programme's reserved words)."""
    return current_program(repo).rules.share_codes


def application_rules(repo: ProgramRepository) -> ApplicationRules:
    """The rules for applications in force (the minimum age for unassisted sign-up)."""
    return current_program(repo).rules.applications


def update_program(repo: ProgramRepository, request: UpdateProgramRequest, *, actor: str) -> Program:
    """Save new rules as the next version (409 if ``expected_version`` is stale), audited."""
    rules = request.rules()
    at = iso()
    version = repo.save(rules.model_dump(mode="json"), expected_version=request.expected_version,
                        actor=actor, at=at)
    return Program(rules=rules, version=version, updated_at=at, updated_by=actor)
