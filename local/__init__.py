"""Local stack: serves template.yaml on moto + worker processes (`python -m local`)."""
