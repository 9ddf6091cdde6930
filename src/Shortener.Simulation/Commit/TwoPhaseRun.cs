namespace Shortener.Simulation.Commit;

/// <summary>
/// Textbook two-phase commit with presumed abort. The coordinator collects votes (in memory) and
/// writes its decision to its own disk before sending it; a coordinator that restarts aborts what
/// it had not decided. A prepared participant that hears nothing asks the coordinator and the
/// other participants (cooperative termination): one that decided, or one that never voted (and
/// so may abort on its own), answers; prepared ones cannot. With the coordinator gone for good
/// after everyone voted yes, the participants block.
/// </summary>
internal sealed class TwoPhaseRun(ulong seed, CommitFaultPlan plan) : CommitRun(seed, plan)
{
    private const long VoteTimeoutMs = 50;
    private const long AskAfterMs = 100;

    // The coordinator's votes: memory, lost in a crash. Its decisions: its disk.
    private readonly VoteTally _votes = new(Participants.Length);
    private readonly Dictionary<int, ParticipantState> _decided = [];

    // When each participant prepared each transaction (to know when to start asking).
    private readonly Dictionary<(int Txn, int Node), long> _preparedAt = [];

    protected override CommitProtocol Protocol => CommitProtocol.TwoPhase;

    protected override void Begin(int txn)
    {
        _votes.Start(txn, Now + VoteTimeoutMs);
        SendToParticipants(Coordinator, new CommitMessage(CommitMessageKind.Prepare, txn));
    }

    protected override void Receive(int node, int from, CommitMessage message)
    {
        if (node == Coordinator)
        {
            CoordinatorReceives(from, message);
        }
        else
        {
            ParticipantReceives(node, from, message);
        }
    }

    private void CoordinatorReceives(int from, CommitMessage message)
    {
        var txn = message.Txn;
        switch (message.Kind)
        {
            case CommitMessageKind.VoteYes when _votes.Yes(txn, from):
                Decide(txn, ParticipantState.Committed);
                break;
            case CommitMessageKind.VoteNo when _votes.Stop(txn):
                Decide(txn, ParticipantState.Aborted);
                break;
            case CommitMessageKind.DecisionRequest:
                if (_decided.TryGetValue(txn, out var decision))
                {
                    Send(Coordinator, from, new CommitMessage(CommitMessageKind.Decision, txn, decision));
                }
                else if (!_votes.IsWaiting(txn))
                {
                    // Presumed abort: a transaction this coordinator has no trace of (it crashed
                    // before deciding) is aborted, durably, before it says so.
                    Decide(txn, ParticipantState.Aborted);
                }

                break;
        }
    }

    private void Decide(int txn, ParticipantState decision)
    {
        _votes.Stop(txn);
        _decided.TryAdd(txn, decision);
        SendToParticipants(Coordinator, new CommitMessage(CommitMessageKind.Decision, txn, _decided[txn]));
    }

    private void ParticipantReceives(int node, int from, CommitMessage message)
    {
        var txn = message.Txn;
        var state = State(txn, node);
        switch (message.Kind)
        {
            case CommitMessageKind.Prepare:
                if (state == ParticipantState.None)
                {
                    state = VotesYes() ? ParticipantState.Prepared : ParticipantState.Aborted;
                    SetState(txn, node, state);
                    _preparedAt[(txn, node)] = Now;
                }

                if (state is ParticipantState.Prepared or ParticipantState.Committed)
                {
                    Send(node, from, new CommitMessage(CommitMessageKind.VoteYes, txn));
                }
                else if (state == ParticipantState.Aborted)
                {
                    Send(node, from, new CommitMessage(CommitMessageKind.VoteNo, txn));
                }

                break;
            case CommitMessageKind.Decision when state is ParticipantState.None or ParticipantState.Prepared:
                SetState(txn, node, message.State);
                break;
            case CommitMessageKind.DecisionRequest:
                if (state is ParticipantState.Committed or ParticipantState.Aborted)
                {
                    Send(node, from, new CommitMessage(CommitMessageKind.Decision, txn, state));
                }
                else if (state == ParticipantState.None)
                {
                    // Never voted: it may abort on its own, and then the coordinator cannot commit.
                    SetState(txn, node, ParticipantState.Aborted);
                    Send(node, from, new CommitMessage(CommitMessageKind.Decision, txn, ParticipantState.Aborted));
                }

                break;
        }
    }

    protected override void OnTimer(int node)
    {
        if (node == Coordinator)
        {
            foreach (var txn in _votes.TakeExpired(Now))
            {
                Decide(txn, ParticipantState.Aborted);
            }

            return;
        }

        foreach (var ((txn, p), at) in _preparedAt.Where(e => e.Key.Node == node && Now - e.Value >= AskAfterMs).ToList())
        {
            if (State(txn, p) == ParticipantState.Prepared && (Now - at) % (5 * TimerMs) < TimerMs)
            {
                var ask = new CommitMessage(CommitMessageKind.DecisionRequest, txn);
                Send(node, Coordinator, ask);
                SendToParticipants(node, ask);
            }
        }
    }

    protected override void Crashed(int node)
    {
        if (node == Coordinator)
        {
            _votes.Clear();
        }
    }
}
