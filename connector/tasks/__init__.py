"""Running every registered org's sync: the task body (`org_sync`), the embedded scheduler of a
single process (`embedded`), and the distributed engine's tasks and worker (`engine`)."""
