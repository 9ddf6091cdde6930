using Microsoft.Extensions.Hosting;
using Shortener.Node.Clicks;

namespace Shortener.Node.Observability;

/// <summary>
/// Journals the click store's handoff and repair work once a second, as one entry with the totals
/// since the node started and what changed since the last entry (hints held for unreachable
/// replicas and handed over, read repairs, sealed days merged): one entry per click would drown
/// the journal, and what a person asks is how much and when.
/// </summary>
public sealed class ClickJournalSampler(ClickService clicks, NodeJournal journal) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private (long Stored, long Replayed, long Repairs, long Merged) _last;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!clicks.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            Sample();
        }
    }

    /// <summary>One look at the counters: an entry when any moved since the last one.</summary>
    internal void Sample()
    {
        var figures = clicks.Figures;
        var now = (figures.Node.HintsStored, figures.Node.HintsReplayed, figures.Node.ReadRepairs, figures.Node.SealedMerged);
        if (now == _last)
        {
            return;
        }

        journal.Record(
            JournalKind.ClickRepair,
            $"since start: hints stored {now.HintsStored} (+{now.HintsStored - _last.Stored}), handed over {now.HintsReplayed} (+{now.HintsReplayed - _last.Replayed}), {figures.HintsPending} held; read repairs {now.ReadRepairs} (+{now.ReadRepairs - _last.Repairs}); sealed days merged {now.SealedMerged} (+{now.SealedMerged - _last.Merged})");
        _last = now;
    }
}
