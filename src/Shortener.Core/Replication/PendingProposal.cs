namespace Shortener.Core.Replication;

/// <summary>One proposal this replica made and has not answered yet.</summary>
public sealed class PendingProposal<TResult>(ProposalId id, byte[] frame, Action<ProposalOutcome<TResult>> done, ulong submittedTick)
{
    public ProposalId Id { get; } = id;

    /// <summary>The framed entry, proposed again byte for byte on every attempt.</summary>
    public byte[] Frame { get; } = frame;

    public Action<ProposalOutcome<TResult>> Done { get; } = done;

    public ulong SubmittedTick { get; } = submittedTick;

    public ProposalPhase Phase { get; private set; }

    /// <summary>Some attempt was handed to Raft: a copy may commit whatever happens to this one.</summary>
    public bool EverHandedOver { get; private set; }

    /// <summary>The term and leader the current attempt was handed to, and when.</summary>
    public (ulong Term, ulong Leader, ulong Tick) Attempt { get; private set; }

    /// <summary>Why the last attempt was refused, for the failure message.</summary>
    public string? LastRefusal { get; private set; }

    public int Attempts { get; private set; }

    public void HandedOver(ulong term, ulong leader, ulong tick)
    {
        Phase = ProposalPhase.HandedOver;
        EverHandedOver = true;
        Attempt = (term, leader, tick);
        Attempts++;
    }

    public void Refused(string reason)
    {
        Phase = ProposalPhase.Waiting;
        LastRefusal = reason;
        Attempts++;
    }
}
