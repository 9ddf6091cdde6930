using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>The driver's snapshots: when to take one, recording what was captured, installing one received.</summary>
public sealed partial class ReplicaDriver<TResult>
{
    /// <summary>The snapshot work the driver wants done, if any (once): run it anywhere, then report it with <see cref="SnapshotCaptured"/>.</summary>
    public Func<CapturedSnapshot>? TakeSnapshotWork()
    {
        var work = _snapshotWork;
        _snapshotWork = null;
        return work;
    }

    /// <summary>
    /// The state captured for a snapshot: recorded with the membership of its index, and the log
    /// compacted below it. A snapshot installed meanwhile (so the capture is of a replaced state)
    /// overtakes it.
    /// </summary>
    public void SnapshotCaptured(CapturedSnapshot captured) => Input(() =>
    {
        _capturing = false;
        if (captured.Index <= _lastSnapshotIndex || captured.Index > _node.Applied)
        {
            return;
        }

        _touched = true;
        _disk.Compact(captured.Index, _configurations.At(captured.Index), captured.Data, (ulong)_options.SnapshotKeepEntries);
        _lastSnapshotIndex = captured.Index;
        _configurations.CompactTo(captured.Index);
        _observer.Compacted(captured.Index, captured.Data.Length);
    });

    /// <summary>The snapshot could not be captured; it is tried again after the next applied entries.</summary>
    public void SnapshotFailed(string reason)
    {
        _capturing = false;
        _observer.SnapshotFailed(reason);
    }

    private void InstallSnapshot(RaftSnapshot snapshot)
    {
        _stateMachine.Restore(snapshot);
        if (!Planted(ReplicaBugs.InstallSnapshotWithoutConfiguration))
        {
            _configurations.Reset(snapshot.Metadata.Index, snapshot.Metadata.ConfState);
        }

        _lastSnapshotIndex = snapshot.Metadata.Index;
        _observer.SnapshotInstalled(snapshot.Metadata, snapshot.Data.Length);
    }

    private void MaybeCapture()
    {
        if (_capturing || _options.SnapshotEntries == 0 || _stateMachine.AppliedIndex < _lastSnapshotIndex + (ulong)_options.SnapshotEntries)
        {
            return;
        }

        _capturing = true;
        _snapshotWork = _stateMachine.PrepareSnapshot();
    }
}
