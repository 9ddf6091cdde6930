using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Shortener.Simulation.Commit;

namespace Shortener.Cli.Commands;

/// <summary>
/// `shortener sim commit`: textbook 2PC, 3PC and the product's 2PC over Raft under the same crashes
/// and partitions, seed by seed, checking atomicity and counting blocked transactions
/// (docs/transactions.md). The last line reads <c>N seeds, atomicity violations V, blocked B</c>.
/// Exit code 1 only when 2PC over Raft without a planted bug breaks atomicity or blocks: the
/// textbook protocols' failures are what the command is there to show.
/// </summary>
public static class SimCommitCommand
{
    private static readonly Dictionary<string, CommitProtocol> Protocols = new(StringComparer.OrdinalIgnoreCase)
    {
        ["2pc"] = CommitProtocol.TwoPhase,
        ["3pc"] = CommitProtocol.ThreePhase,
        ["2pc-raft"] = CommitProtocol.TwoPhaseOverRaft,
    };

    private static readonly Dictionary<string, CommitBug> Bugs = new(StringComparer.OrdinalIgnoreCase)
    {
        ["commit-before-durable-prepare"] = CommitBug.CommitBeforeDurablePrepare,
        ["resolve-without-record"] = CommitBug.ResolveWithoutRecord,
        ["forget-decision-on-restart"] = CommitBug.ForgetDecisionOnRestart,
    };

    public static Command Create()
    {
        var protocol = new Option<string>("--protocol") { Description = "2pc, 3pc or 2pc-raft", DefaultValueFactory = _ => "2pc-raft" };
        var seed = new Option<ulong?>("--seed") { Description = "Run only this seed (replays it exactly)" };
        var seeds = new Option<int>("--seeds") { Description = "How many seeds to run, from --first-seed", DefaultValueFactory = _ => 100 };
        var firstSeed = new Option<ulong>("--first-seed") { Description = "First seed of a range", DefaultValueFactory = _ => 1UL };
        var bug = new Option<string?>("--bug") { Description = $"Plant a bug in 2pc-raft: {string.Join(", ", Bugs.Keys)}" };
        var verbose = new Option<bool>("--verbose") { Description = "Print every seed, not only those that broke atomicity or blocked" };
        var command = new Command("commit", "Atomic commit under crashes and partitions: textbook 2PC and 3PC beside 2PC over Raft, checking atomicity and blocking (docs/transactions.md)")
        {
            protocol, seed, seeds, firstSeed, bug, verbose,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (!Protocols.TryGetValue(parse.GetValue(protocol) ?? "", out var chosen))
            {
                error.WriteLine("error: --protocol must be 2pc, 3pc or 2pc-raft");
                return 2;
            }

            var planted = CommitBug.None;
            if (parse.GetValue(bug) is { } name && !Bugs.TryGetValue(name, out planted))
            {
                error.WriteLine($"error: --bug must be one of {string.Join(", ", Bugs.Keys)}");
                return 2;
            }

            if (planted != CommitBug.None && chosen != CommitProtocol.TwoPhaseOverRaft)
            {
                error.WriteLine("error: --bug plants a bug in 2pc-raft only");
                return 2;
            }

            var count = Math.Max(1, parse.GetValue(seeds));
            var list = parse.GetValue(seed) is { } one ? [one] : Enumerable.Range(0, count).Select(i => parse.GetValue(firstSeed) + (ulong)i).ToList();
            var clock = Stopwatch.StartNew();
            int violations = 0, blocked = 0, transactions = 0, committed = 0, aborted = 0;
            foreach (var s in list)
            {
                var report = CommitSimulation.Run(chosen, s, planted);
                violations += report.Violations.Count;
                blocked += report.Blocked.Count;
                transactions += report.Transactions;
                committed += report.Committed;
                aborted += report.Aborted;
                var failed = report.Violations.Count > 0 || report.Blocked.Count > 0;
                if (failed || parse.GetValue(verbose))
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed {s}: {report.Transactions} transactions, {report.Committed} committed, {report.Aborted} aborted; {report.Faults}"));
                    foreach (var line in report.Violations.Concat(report.Blocked))
                    {
                        output.WriteLine("  " + line);
                    }
                }
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{parse.GetValue(protocol)}{(planted == CommitBug.None ? "" : " with bug " + parse.GetValue(bug))}: {transactions} transactions, {committed} committed, {aborted} aborted, in {clock.Elapsed.TotalSeconds:F1} s"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{list.Count} seeds, atomicity violations {violations}, blocked {blocked}"));
            return chosen == CommitProtocol.TwoPhaseOverRaft && planted == CommitBug.None && violations + blocked > 0 ? 1 : 0;
        });
        return command;
    }
}
