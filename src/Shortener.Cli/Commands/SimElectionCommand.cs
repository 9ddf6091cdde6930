using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Shortener.Simulation.Election;

namespace Shortener.Cli.Commands;

/// <summary>
/// `shortener sim election`: the bully algorithm and Raft under the same partitions, seed by seed,
/// counting terms or epochs with two leaders, time with two leaders and what it cost the writes.
/// Exit code 1 only when Raft shows split brain or breaks a property: the bully algorithm's split
/// brain is what the command is there to show.
/// </summary>
public static class SimElectionCommand
{
    public static Command Create()
    {
        var algorithm = new Option<string>("--algorithm") { Description = "bully, raft, or both (the same partitions for each)", DefaultValueFactory = _ => "both" };
        var seed = new Option<ulong?>("--seed") { Description = "Run only this seed (replays it exactly)" };
        var seeds = new Option<int>("--seeds") { Description = "How many seeds to run, from --first-seed", DefaultValueFactory = _ => 10 };
        var firstSeed = new Option<ulong>("--first-seed") { Description = "First seed of a range", DefaultValueFactory = _ => 1UL };
        var nodes = new Option<int>("--nodes") { Description = "Nodes, 3 to 9", DefaultValueFactory = _ => 5 };
        var command = new Command("election", "Leader election under partitions: the bully algorithm beside Raft, counting split brain (docs/election.md)")
        {
            algorithm, seed, seeds, firstSeed, nodes,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            ElectionAlgorithm[]? algorithms = parse.GetValue(algorithm) switch
            {
                "bully" => [ElectionAlgorithm.Bully],
                "raft" => [ElectionAlgorithm.Raft],
                "both" => [ElectionAlgorithm.Bully, ElectionAlgorithm.Raft],
                _ => null,
            };
            if (algorithms is null || parse.GetValue(nodes) is < 3 or > 9)
            {
                error.WriteLine("error: --algorithm must be bully, raft or both, and --nodes 3 to 9");
                return 2;
            }

            var list = parse.GetValue(seed) is { } one ? [one] : Enumerable.Range(0, Math.Max(1, parse.GetValue(seeds))).Select(i => parse.GetValue(firstSeed) + (ulong)i).ToList();
            var clock = Stopwatch.StartNew();
            var reports = new List<ElectionReport>();
            foreach (var s in list)
            {
                foreach (var a in algorithms)
                {
                    var report = ElectionSimulation.Run(a, s, parse.GetValue(nodes));
                    reports.Add(report);
                    output.WriteLine(Line(report));
                    foreach (var note in report.Violations.Concat(report.Notes).Take(3))
                    {
                        output.WriteLine("  " + note);
                    }
                }
            }

            output.WriteLine();
            foreach (var group in reports.GroupBy(r => r.Algorithm))
            {
                output.WriteLine(Summary(group.Key, group.ToList()));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{list.Count} seed(s) in {clock.Elapsed.TotalSeconds:F1} s"));
            var raftFailed = reports.Any(r => r.Algorithm == ElectionAlgorithm.Raft && (r.SplitBrain || r.Violations.Count > 0));
            return raftFailed ? 1 : 0;
        });
        return command;
    }

    private static string Line(ElectionReport r) => string.Create(
        CultureInfo.InvariantCulture,
        $"seed {r.Seed} {Name(r.Algorithm),-5}: {(r.SplitBrain ? "SPLIT BRAIN" : "no split brain")}; {r.Partitions} partitions, {r.Leaderships} leaderships, {TermWord(r.Algorithm)}s with two leaders {r.TermsWithTwoLeaders}, two leaders for {r.TwoLeadersMs} ms, writes acknowledged {r.WritesAcknowledged}, {Harm(r)}");

    private static string Summary(ElectionAlgorithm algorithm, IReadOnlyList<ElectionReport> runs)
    {
        var harm = algorithm == ElectionAlgorithm.Bully
            ? string.Create(CultureInfo.InvariantCulture, $"acknowledged writes lost {runs.Sum(r => r.AcknowledgedWritesLost ?? 0)} of {runs.Sum(r => r.WritesAcknowledged)}")
            : $"linearizable in {runs.Count(r => r.Linearizable == true)} of {runs.Count}";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{Name(algorithm)}: split brain in {runs.Count(r => r.SplitBrain)} of {runs.Count} seeds; {TermWord(algorithm)}s with two leaders {runs.Sum(r => r.TermsWithTwoLeaders)}; two leaders for {runs.Sum(r => r.TwoLeadersMs)} ms in all; {harm}");
    }

    private static string Harm(ElectionReport r) => r.AcknowledgedWritesLost is { } lost
        ? $"acknowledged writes lost {lost}"
        : $"linearizable {(r.Linearizable == true ? "yes" : "NO")}";

    private static string Name(ElectionAlgorithm algorithm) => algorithm == ElectionAlgorithm.Bully ? "bully" : "raft";

    private static string TermWord(ElectionAlgorithm algorithm) => algorithm == ElectionAlgorithm.Bully ? "epoch" : "term";
}
