using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>
/// What a replica did that its host may want to log or count. Called on the driver's thread, in
/// the middle of a round: implementations only record.
/// </summary>
public interface IReplicaObserver
{
    void RoleChanged(RaftRole role, ulong term, ulong leader)
    {
    }

    void MembershipApplied(ulong index, ConfState configuration)
    {
    }

    void SnapshotInstalled(SnapshotMetadata metadata, int bytes)
    {
    }

    void Compacted(ulong index, int bytes)
    {
    }

    void SnapshotFailed(string reason)
    {
    }

    /// <summary>The replica stopped for good after an error it cannot recover from.</summary>
    void Stopped(Exception error)
    {
    }

    /// <summary>An observer that records nothing.</summary>
    public static readonly IReplicaObserver None = new NoObserver();

    private sealed class NoObserver : IReplicaObserver;
}
