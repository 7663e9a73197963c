"""The program's views by audience: `staff` (under /staff/), `portal` (the creator's own
pages) and `public`."""
