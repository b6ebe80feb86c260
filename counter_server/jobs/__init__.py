"""Background work kept in Miz's own database: the job queue, the worker, and the circuit
breakers and quotas of the outside systems that jobs call."""
