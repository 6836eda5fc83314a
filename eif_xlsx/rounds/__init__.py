"""Between rounds: the 12-month re-issue, feedback copies, chasing, e-mail drafts."""
