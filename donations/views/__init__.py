"""Staff pages about nonprofits, funds, grants and their payment, by subject: `grants` (the
pipeline and its row actions), `batches`, `funds`, `nonprofits` (vetting and contacts) and
`payout_changes`. The nonprofit's own pages are `donations.nonprofit_views`, the creator's
`donations.portal_views`."""
