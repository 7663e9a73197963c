"""The API's views by subject: the shared base (base.py), creators and the yearly list,
cohorts and milestones, nonprofits, funds and grants."""
