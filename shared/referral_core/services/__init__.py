"""Use cases: plain functions over models and repositories, testable without AWS."""
