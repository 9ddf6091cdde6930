using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Shortener.Simulation.Codes;

namespace Shortener.Cli.Commands;

/// <summary>`shortener sim …`: deterministic simulations, replayable by seed.</summary>
public static class SimCommand
{
    public static Command Create()
    {
        var sim = new Command("sim", "Run deterministic simulations; a failing seed replays exactly");
        sim.Subcommands.Add(CodesCommand());
        return sim;
    }

    private static Command CodesCommand()
    {
        var seed = new Option<ulong?>("--seed") { Description = "Run only this seed" };
        var seeds = new Option<int>("--seeds") { Description = "How many seeds to run (from 1)", DefaultValueFactory = _ => 10 };
        var nodes = new Option<int>("--nodes") { Description = "Allocating nodes", DefaultValueFactory = _ => 8 };
        var codes = new Option<int>("--codes") { Description = "Codes to draw per seed", DefaultValueFactory = _ => 1_000_000 };
        var block = new Option<ulong>("--block-size") { Description = "Numbers per leased block", DefaultValueFactory = _ => 1000UL };
        var command = new Command("codes", "Concurrent short-code allocators with delayed leases and crashes: no code may repeat") { seed, seeds, nodes, codes, block };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var list = parse.GetValue(seed) is { } one ? [one] : Enumerable.Range(1, Math.Max(1, parse.GetValue(seeds))).Select(i => (ulong)i).ToList();
            var failures = 0;
            var clock = Stopwatch.StartNew();
            foreach (var s in list)
            {
                var settings = new CodeAllocationSettings(s, Math.Max(1, parse.GetValue(nodes)), Math.Max(1, parse.GetValue(codes)), Math.Max(1, parse.GetValue(block)));
                var report = new CodeAllocationSimulation(settings).Run();
                if (!report.Passed)
                {
                    failures++;
                }

                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"seed {s}: {(report.Passed ? "ok" : "FAILED")} codes={report.DistinctCodes} duplicates={report.Duplicates} outOfSpace={report.OutOfSpace} leases={report.Leases} crashes={report.Crashes} unused={report.Unused}"));
                if (!report.Passed)
                {
                    output.WriteLine($"  replay: shortener sim codes --seed {s} --nodes {settings.Nodes} --codes {settings.Codes} --block-size {settings.BlockSize}");
                }
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{list.Count - failures} of {list.Count} seeds passed in {clock.Elapsed.TotalSeconds:F1} s"));
            return failures == 0 ? 0 : 1;
        });
        return command;
    }
}
