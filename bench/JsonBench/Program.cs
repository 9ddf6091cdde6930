using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Shortener.Bench.Json.CommandCodecBench).Assembly).Run(args);
