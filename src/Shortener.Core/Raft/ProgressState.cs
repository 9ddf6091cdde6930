namespace Shortener.Core.Raft;

public enum ProgressState : byte
{
    /// <summary>Where the follower's log matches is unknown: send one append at a time and wait.</summary>
    Probe,

    /// <summary>The follower's log matches up to Match: stream appends optimistically, bounded by inflights.</summary>
    Replicate,

    /// <summary>The follower needs a snapshot; appends wait until it is installed.</summary>
    Snapshot,
}
