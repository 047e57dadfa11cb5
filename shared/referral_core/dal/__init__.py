"""Data access: the only package that imports boto3. Every SDK error leaves here as a domain error."""
