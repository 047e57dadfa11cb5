"""Job-system adapters: each provider's events translated into the existing job events.

One module per provider (``stripe_events.py``, then ``square.py``, ``jobber.py``, ``servicem8.py``, ``xero.py``):
signature checks and translation into :class:`referral_core.models.jobs.JobWebhookEvent`, so attribution,
checks and rewards stay one code path (``referral_core.services.jobs.record_job_event``).
"""
