// Each test runs a cluster of node processes; two at once would only starve each other of the two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
