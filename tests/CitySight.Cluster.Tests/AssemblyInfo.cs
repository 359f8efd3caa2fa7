// The tests time leases of a second and a half on two shared cores: one at a time, so they do not slow each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
