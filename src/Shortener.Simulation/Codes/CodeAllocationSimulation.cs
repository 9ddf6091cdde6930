using Shortener.Core;
using Shortener.Core.Links;

namespace Shortener.Simulation.Codes;

/// <summary>
/// Several nodes drawing short codes at once, interleaved by one seed: each leases blocks of the
/// sequence through a shared state machine (its lease commits after a random delay, as a
/// replicated command would), allocates from them, and now and then crashes, losing the rest of
/// its blocks. Checks that no code is ever handed out twice and that no code leaves the code space.
/// </summary>
public sealed class CodeAllocationSimulation(CodeAllocationSettings settings)
{
    public CodeAllocationReport Run(IProgress<double>? progress = null)
    {
        var random = new SeededRandom(settings.Seed);
        var scrambler = new CodeScrambler(random.NextUInt64(), settings.CodeLength);
        var shared = new InMemoryLinkTable();
        var nodes = Enumerable.Range(0, settings.Nodes).Select(_ => new SimNode(new ShortCodeAllocator(scrambler))).ToArray();
        var seen = new HashSet<ulong>(settings.Codes);
        long steps = 0, leases = 0, crashes = 0, duplicates = 0, outOfSpace = 0, leasedNumbers = 0;
        var lastReport = 0;

        while (seen.Count + duplicates < settings.Codes)
        {
            steps++;
            var node = nodes[random.Next(nodes.Length)];
            if (node.LeaseArrivesAtStep is { } arrival)
            {
                if (steps < arrival)
                {
                    continue;
                }

                // The lease commits now: in the order of arrival, as a log would order it.
                var result = LinkStateMachine.Apply(settings.PlantedBug ? node.OwnTable : shared, new LeaseCodeBlock(steps, settings.BlockSize));
                node.Allocator.AddBlock(result.Block!.Value);
                node.LeaseArrivesAtStep = null;
                leases++;
                leasedNumbers += (long)settings.BlockSize;
            }

            if (random.Chance(settings.CrashProbability))
            {
                node.Allocator = new ShortCodeAllocator(scrambler);
                node.LeaseArrivesAtStep = null;
                crashes++;
                continue;
            }

            if (!node.Allocator.TryNext(out var code))
            {
                node.LeaseArrivesAtStep = steps + 1 + random.Next(settings.MaxLeaseDelaySteps);
                continue;
            }

            if (!Base62.TryDecode(code, out var value) || value >= scrambler.Domain || code.Length != settings.CodeLength)
            {
                outOfSpace++;
            }

            if (!seen.Add(value))
            {
                duplicates++;
            }

            var done = (int)(100L * (seen.Count + duplicates) / settings.Codes);
            if (done != lastReport)
            {
                lastReport = done;
                progress?.Report(done / 100.0);
            }
        }

        return new CodeAllocationReport(settings, seen.Count, duplicates, outOfSpace, leases, leasedNumbers, crashes, steps);
    }

    private sealed class SimNode(ShortCodeAllocator allocator)
    {
        public ShortCodeAllocator Allocator { get; set; } = allocator;

        public long? LeaseArrivesAtStep { get; set; }

        /// <summary>Only used by the planted bug: a sequence this node does not share.</summary>
        public InMemoryLinkTable OwnTable { get; } = new();
    }
}
