"""The pure calculation core: crediting, periods, quotas, earnings. No I/O, no clock."""
