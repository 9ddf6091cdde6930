using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>
/// The application a <see cref="ReplicaDriver{TResult}"/> replicates. Commands arrive in log order,
/// each with the proposal id it was proposed under: the same id may arrive twice (a proposer that
/// could not tell whether a leader change lost its proposal proposes it again), and the state
/// machine applies it once, answering the copy with the first copy's result. It records
/// <see cref="AppliedIndex"/> with its state, atomically, so a restart resumes exactly after it.
/// </summary>
public interface IReplicatedStateMachine<TResult>
{
    /// <summary>The log index the state includes everything up to (0: none).</summary>
    ulong AppliedIndex { get; }

    /// <summary>
    /// Applies <paramref name="commands"/> in order and records that the log is applied through
    /// <paramref name="appliedThrough"/> (which may lie past the last command: empty entries and
    /// membership changes count too). Returns one result per command. Throws only when this replica
    /// can no longer stay equal to the others (a command it cannot read, a failed disk); the driver
    /// then stops the replica rather than skip what the others apply.
    /// </summary>
    IReadOnlyList<TResult> Apply(IReadOnlyList<ProposedCommand> commands, ulong appliedThrough);

    /// <summary>
    /// Starts a snapshot of the applied state. Returns the work that produces it, which the host may
    /// run on another thread while the driver goes on applying: it must capture one consistent state
    /// and say which applied index that is.
    /// </summary>
    Func<CapturedSnapshot> PrepareSnapshot();

    /// <summary>Replaces the whole state with <paramref name="snapshot"/> (its data as <see cref="PrepareSnapshot"/> made it; empty for the bootstrap snapshot).</summary>
    void Restore(RaftSnapshot snapshot);
}
