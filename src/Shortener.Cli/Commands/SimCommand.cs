using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Core.Clicks;
using Shortener.Core.Quorum;
using Shortener.Simulation.Clicks;
using Shortener.Simulation.Codes;
using Shortener.Simulation.Membership;
using Shortener.Simulation.Raft;

namespace Shortener.Cli.Commands;

/// <summary>`shortener sim …`: deterministic simulations, replayable by seed.</summary>
public static class SimCommand
{
    public static Command Create()
    {
        var sim = new Command("sim", "Run deterministic simulations; a failing seed replays exactly");
        sim.Subcommands.Add(CodesCommand());
        sim.Subcommands.Add(RaftCommand());
        sim.Subcommands.Add(GossipCommand());
        sim.Subcommands.Add(ClicksCommand());
        sim.Subcommands.Add(SimElectionCommand.Create());
        sim.Subcommands.Add(SimCommitCommand.Create());
        return sim;
    }

    private static Command RaftCommand()
    {
        var seed = new Option<ulong?>("--seed") { Description = "Run only this seed (replays it exactly)" };
        var seeds = new Option<int>("--seeds") { Description = "How many seeds to run, from --first-seed", DefaultValueFactory = _ => 100 };
        var firstSeed = new Option<ulong>("--first-seed") { Description = "First seed of a range", DefaultValueFactory = _ => 1UL };
        var nodes = new Option<int>("--nodes") { Description = "Replicas: 3 or 5", DefaultValueFactory = _ => 3 };
        var faults = new Option<string>("--faults") { Description = "all, none, or a comma list of network, partition, crash, pause, disk, clock, churn, membership, aimed, reconfigure", DefaultValueFactory = _ => "all" };
        var ops = new Option<int>("--ops") { Description = "Client operations per seed", DefaultValueFactory = _ => 200 };
        var bug = new Option<string[]>("--bug") { Description = $"Plant a known bug, or several (each runs on its own and its detection rate is reported), or all: {string.Join(", ", KnownBugs())}" };
        var leaseReads = new Option<bool>("--lease-reads") { Description = "Serve reads with leader leases instead of read-index rounds" };
        var snapshotEvery = new Option<int>("--snapshot-every") { Description = "Applied entries between a replica's snapshots (fewer: more lagging replicas are sent one)", DefaultValueFactory = _ => new RaftSimulationSettings().SnapshotEvery };
        var parallel = new Option<int>("--parallel") { Description = "Seeds run at once (each is deterministic on its own)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var verbose = new Option<bool>("--verbose") { Description = "Print each failing seed's fault log and final node states" };
        var command = new Command("raft", "The replica driver, WAL and link state machine under partitions, crashes, pauses, disk and clock faults: checks safety, linearizability and liveness")
        {
            seed, seeds, firstSeed, nodes, faults, ops, bug, leaseReads, snapshotEvery, parallel, verbose,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (!TryParseFaults(parse.GetValue(faults)!, out var faultSet))
            {
                error.WriteLine($"error: --faults takes all, none, or a comma list of {string.Join(", ", Enum.GetNames<SimFaults>().Where(n => n is not ("None" or "All")).Select(n => n.ToLowerInvariant()))}");
                return 2;
            }

            var planted = new List<(string Name, RaftBugs Engine, ReplicaBugs Replica)>();
            foreach (var name in parse.GetValue(bug) ?? [])
            {
                if (string.Equals(name, "all", StringComparison.OrdinalIgnoreCase))
                {
                    planted.AddRange(KnownBugs().Select(ParseBug).Select(b => b!.Value));
                }
                else if (ParseBug(name) is { } one)
                {
                    planted.Add(one);
                }
                else
                {
                    error.WriteLine($"error: unknown bug '{name}'; known: {string.Join(", ", KnownBugs())}");
                    return 2;
                }
            }

            if (parse.GetValue(snapshotEvery) < 2)
            {
                error.WriteLine("error: --snapshot-every must be at least 2");
                return 2;
            }

            var nodeCount = parse.GetValue(nodes);
            if (nodeCount is < 1 or > 9)
            {
                error.WriteLine("error: --nodes must be 1 to 9 (3 or 5 are the usual)");
                return 2;
            }

            var list = parse.GetValue(seed) is { } single ? [single] : Enumerable.Range(0, Math.Max(1, parse.GetValue(seeds))).Select(i => parse.GetValue(firstSeed) + (ulong)i).ToList();
            var template = new RaftSimulationSettings
            {
                Nodes = nodeCount,
                Operations = Math.Max(1, parse.GetValue(ops)),
                Faults = faultSet,
                SnapshotEvery = parse.GetValue(snapshotEvery),
                ReadOnlyOption = parse.GetValue(leaseReads) ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
            };
            var runs = planted.Count == 0
                ? [(Name: (string?)null, Settings: template)]
                : planted.Select(b => (Name: (string?)b.Name, Settings: template with { EngineBugs = b.Engine, ReplicaBugs = b.Replica })).ToList();
            var anyFailed = false;
            var caught = new List<(string Name, int Seeds, int Caught, ulong? First)>();
            foreach (var (name, settings) in runs)
            {
                if (name is not null)
                {
                    error.WriteLine($"planted bug {name}:");
                }

                var progress = new ProgressBar(error, list.Count);
                var failuresSoFar = 0;
                var clock = Stopwatch.StartNew();
                var reports = RaftSimulationRunner.Run(settings, list, parse.GetValue(parallel), report =>
                {
                    failuresSoFar += report.Passed ? 0 : 1;
                    progress.Advance(failuresSoFar);
                });
                progress.Done();
                var wall = clock.Elapsed.TotalSeconds;
                var failures = reports.Where(r => !r.Passed).ToList();
                anyFailed |= failures.Count > 0;
                PrintFailures(output, failures, name is null ? int.MaxValue : 3, parse.GetValue(verbose));
                var simulatedMs = reports.Sum(r => r.SimulatedMs);
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{list.Count - failures.Count} of {list.Count} seeds passed; operations ok {reports.Sum(r => r.Ok)}, failed {reports.Sum(r => r.Failed)}, unknown {reports.Sum(r => r.Unknown)}; {simulatedMs / 1000.0:F0} simulated s in {wall:F1} wall s ({simulatedMs / 1000.0 / Math.Max(wall, 0.001):F0} simulated s per wall s)"));
                if (name is not null)
                {
                    caught.Add((name, list.Count, failures.Count, failures.FirstOrDefault()?.Settings.Seed));
                }
            }

            if (caught.Count > 0)
            {
                output.WriteLine();
                output.WriteLine($"{"planted bug",-38} {"caught",12} {"share",7}  first seed");
                foreach (var (name, total, found, first) in caught)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-38} {$"{found} / {total}",12} {100.0 * found / total,6:F1}%  {(first is { } s ? s.ToString(CultureInfo.InvariantCulture) : "-")}"));
                }
            }

            return anyFailed ? 1 : 0;
        });
        return command;
    }

    /// <summary>Every bug that can be planted: the engine's and the replica driver's.</summary>
    private static IEnumerable<string> KnownBugs() =>
        Enum.GetNames<RaftBugs>().Where(n => n != nameof(RaftBugs.None)).Concat(Enum.GetNames<ReplicaBugs>().Where(n => n != nameof(ReplicaBugs.None)));

    private static (string Name, RaftBugs Engine, ReplicaBugs Replica)? ParseBug(string name) =>
        Enum.TryParse<RaftBugs>(name, ignoreCase: true, out var engine) && engine != RaftBugs.None && Enum.IsDefined(engine) ? (engine.ToString(), engine, ReplicaBugs.None)
        : Enum.TryParse<ReplicaBugs>(name, ignoreCase: true, out var replica) && replica != ReplicaBugs.None && Enum.IsDefined(replica) ? (replica.ToString(), RaftBugs.None, replica)
        : null;

    private static void PrintFailures(TextWriter output, IReadOnlyList<RaftSimulationReport> failures, int limit, bool verbose)
    {
        foreach (var report in failures.Take(limit))
        {
            output.WriteLine($"seed {report.Settings.Seed}: FAILED");
            foreach (var violation in report.Violations)
            {
                output.WriteLine("  " + violation.Replace("\n", "\n  ", StringComparison.Ordinal));
            }

            if (verbose)
            {
                output.WriteLine("  faults:");
                foreach (var line in report.FaultLog)
                {
                    output.WriteLine("    " + line);
                }

                output.WriteLine("  nodes at the end:");
                foreach (var line in report.FinalNodes)
                {
                    output.WriteLine("    " + line);
                }
            }

            output.WriteLine($"  replay: {report.Settings.ReplayCommand}");
        }

        if (failures.Count > limit)
        {
            output.WriteLine($"… and {failures.Count - limit} more failing seeds");
        }
    }

    private static Command GossipCommand()
    {
        var seed = new Option<ulong?>("--seed") { Description = "Run only this seed (replays it exactly)" };
        var seeds = new Option<int>("--seeds") { Description = "How many seeds to run, from --first-seed", DefaultValueFactory = _ => 10 };
        var firstSeed = new Option<ulong>("--first-seed") { Description = "First seed of a range", DefaultValueFactory = _ => 1UL };
        var members = new Option<int>("--members") { Description = "Members at the start", DefaultValueFactory = _ => 100 };
        var loss = new Option<double>("--loss") { Description = "Chance that a message is lost, 0 to 0.5", DefaultValueFactory = _ => 0.05 };
        var duplicate = new Option<double>("--duplicate") { Description = "Chance that a message is delivered twice, 0 to 1", DefaultValueFactory = _ => 0.0 };
        var maxDelay = new Option<long>("--max-delay-ms") { Description = "One-way delay is 1 ms to this (the jitter, which reorders)", DefaultValueFactory = _ => 50L };
        var command = new Command("gossip", "SWIM gossip membership: a join, a crash and a restart under loss, jitter and duplication; checks detection and no false deaths")
        {
            seed, seeds, firstSeed, members, loss, duplicate, maxDelay,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var (n, lossRate, dupRate, delay) = (parse.GetValue(members), parse.GetValue(loss), parse.GetValue(duplicate), parse.GetValue(maxDelay));
            if (n is < 3 or > 5_000 || lossRate is < 0 or > 0.5 || dupRate is < 0 or > 1 || delay is < 1 or > 10_000)
            {
                error.WriteLine("error: --members 3..5000, --loss 0..0.5, --duplicate 0..1, --max-delay-ms 1..10000");
                return 2;
            }

            var list = parse.GetValue(seed) is { } one ? [one] : Enumerable.Range(0, Math.Max(1, parse.GetValue(seeds))).Select(i => parse.GetValue(firstSeed) + (ulong)i).ToList();
            var failures = 0;
            var clock = Stopwatch.StartNew();
            foreach (var s in list)
            {
                var report = GossipScenario.Run(new GossipSimulationSettings { Seed = s, Members = n, DropRate = lossRate, DuplicateRate = dupRate, MaxDelayMs = delay });
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"seed {s}: {(report.Passed ? "ok" : "FAILED")} join {Ms(report.JoinMs)} detect {Ms(report.DetectMs)} rejoin {Ms(report.RejoinMs)} suspicions {report.Suspicions} false-deaths {report.FalseDeaths} messages {report.Messages}"));
                if (!report.Passed)
                {
                    failures++;
                    foreach (var violation in report.Violations)
                    {
                        output.WriteLine("  " + violation);
                    }

                    output.WriteLine($"  replay: {report.ReplayCommand}");
                }
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{list.Count - failures} of {list.Count} seeds passed in {clock.Elapsed.TotalSeconds:F1} s"));
            return failures == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command ClicksCommand()
    {
        var seed = new Option<ulong?>("--seed") { Description = "Run only this seed (replays it exactly)" };
        var seeds = new Option<int>("--seeds") { Description = "How many seeds to run, from --first-seed", DefaultValueFactory = _ => 10 };
        var firstSeed = new Option<ulong>("--first-seed") { Description = "First seed of a range", DefaultValueFactory = _ => 1UL };
        var nodes = new Option<int>("--nodes") { Description = "Nodes, spread over three data centres", DefaultValueFactory = _ => 5 };
        var mode = new Option<string>("--mode") { Description = "exactly-once, at-least-once or at-most-once", DefaultValueFactory = _ => "exactly-once" };
        var level = new Option<string>("--write-level") { Description = "The relay's write level: one, quorum, all or local-quorum", DefaultValueFactory = _ => "quorum" };
        var loss = new Option<double>("--loss") { Description = "Chance that a message is lost while faults last, 0 to 0.5", DefaultValueFactory = _ => 0.05 };
        var duplicate = new Option<double>("--duplicate") { Description = "Chance that a message is delivered twice while faults last, 0 to 1", DefaultValueFactory = _ => 0.05 };
        var maxDelay = new Option<long>("--max-delay-ms") { Description = "One-way delay is 1 ms to this (the jitter, which reorders)", DefaultValueFactory = _ => 40L };
        var faultSeconds = new Option<int>("--fault-seconds") { Description = "How long redirects go on under faults", DefaultValueFactory = _ => 20 };
        var sealSeconds = new Option<int>("--seal-fault-seconds") { Description = "The second stretch of faults, in which every node seals the first stretch's day (0: none)", DefaultValueFactory = _ => 5 };
        var sealDuring = new Option<bool>("--seal-during-faults") { Description = "Seal the first day while the first stretch's faults go on (its clicks may then count fewer, never more)" };
        var bug = new Option<string>("--bug") { Description = "Plant a bug in the simulated node (checker tests): OutboxNotDurable, NoDeduplication, SiblingsSummed", DefaultValueFactory = _ => "None" };
        var command = new Command("clicks", "The click store under partitions, crashes, loss, duplicates and reordering: after the heal every replica must agree, and each link count the redirects clients saw succeed (exactly, in exactly-once mode); then again after every node sealed the run's first day")
        {
            seed, seeds, firstSeed, nodes, mode, level, loss, duplicate, maxDelay, faultSeconds, sealSeconds, sealDuring, bug,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var (n, lossRate, dupRate, delay, seconds) = (parse.GetValue(nodes), parse.GetValue(loss), parse.GetValue(duplicate), parse.GetValue(maxDelay), parse.GetValue(faultSeconds));
            DeliveryMode? delivery = parse.GetValue(mode) switch
            {
                "exactly-once" => DeliveryMode.ExactlyOnce,
                "at-least-once" => DeliveryMode.AtLeastOnce,
                "at-most-once" => DeliveryMode.AtMostOnce,
                _ => null,
            };
            ConsistencyLevel? writeLevel = parse.GetValue(level) switch
            {
                "one" => ConsistencyLevel.One,
                "quorum" => ConsistencyLevel.Quorum,
                "all" => ConsistencyLevel.All,
                "local-quorum" => ConsistencyLevel.LocalQuorum,
                _ => null,
            };
            var sealFor = parse.GetValue(sealSeconds);
            if (n is < 1 or > 50 || lossRate is < 0 or > 0.5 || dupRate is < 0 or > 1 || delay is < 1 or > 10_000 || seconds is < 1 or > 3_600 || sealFor is < 0 or > 3_600
                || delivery is null || writeLevel is null || !Enum.TryParse<ClickSimulationBug>(parse.GetValue(bug), ignoreCase: true, out var planted))
            {
                error.WriteLine("error: --nodes 1..50, --loss 0..0.5, --duplicate 0..1, --max-delay-ms 1..10000, --fault-seconds 1..3600, --seal-fault-seconds 0..3600, --mode exactly-once|at-least-once|at-most-once, --write-level one|quorum|all|local-quorum, --bug None|OutboxNotDurable|NoDeduplication|SiblingsSummed");
                return 2;
            }

            var list = parse.GetValue(seed) is { } one ? [one] : Enumerable.Range(0, Math.Max(1, parse.GetValue(seeds))).Select(i => parse.GetValue(firstSeed) + (ulong)i).ToList();
            var failures = 0;
            var clock = Stopwatch.StartNew();
            foreach (var s in list)
            {
                var report = ClickSimulation.Run(new ClickSimulationSettings
                {
                    Seed = s,
                    Nodes = n,
                    Mode = delivery.Value,
                    WriteLevel = writeLevel.Value,
                    DropRate = lossRate,
                    DuplicateRate = dupRate,
                    MaxDelayMs = delay,
                    FaultMs = seconds * 1_000L,
                    SealFaultMs = sealFor * 1_000L,
                    SealDuringFaults = parse.GetValue(sealDuring),
                    Bug = planted,
                });
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"seed {s}: {(report.Passed ? "ok" : "FAILED")} redirects {report.Redirected} counted {report.Counted} over {report.OverCount} lost {report.Lost} converged {Ms(report.ConvergedAfterMs)} crashes {report.Crashes} partitions {report.Partitions} hints {report.HintsReplayed} read-repairs {report.ReadRepairs} anti-entropy {report.AntiEntropyClicks} sealed {report.ClicksSealed} late {report.LateClicks}{(parse.GetValue(sealDuring) ? $" shortfall {report.SealedShortfall} of {report.SealedDayRedirects}" : "")}"));
                if (!report.Passed)
                {
                    failures++;
                    foreach (var violation in report.Violations.Take(10))
                    {
                        output.WriteLine("  " + violation);
                    }

                    output.WriteLine($"  replay: {report.ReplayCommand}");
                }
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{list.Count - failures} of {list.Count} seeds passed in {clock.Elapsed.TotalSeconds:F1} s"));
            return failures == 0 ? 0 : 1;
        });
        return command;
    }

    private static string Ms(long? ms) => ms is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v / 1000.0:F1}s") : "never";

    private static bool TryParseFaults(string text, out SimFaults faults)
    {
        faults = SimFaults.None;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<SimFaults>(part, ignoreCase: true, out var f))
            {
                return false;
            }

            faults |= f;
        }

        return true;
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
