using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Shortener.Bench.Merkle.MerkleComparisonBench).Assembly).Run(args);
