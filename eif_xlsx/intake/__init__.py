"""A returned file -> answers and findings: containers and e-mails, reading by the layout, checks, the batch."""
