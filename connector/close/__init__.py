"""Period close: statement approval, the blockers of a close, locking, the payroll export."""
