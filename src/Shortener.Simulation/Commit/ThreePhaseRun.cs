namespace Shortener.Simulation.Commit;

/// <summary>
/// Textbook three-phase commit. Votes as in 2PC; when all are yes the coordinator writes and sends
/// pre-commit, waits for the acknowledgements (or their timeout), then commits. A participant
/// that hears nothing from the coordinator for a while runs the termination protocol with the
/// participants it can reach: any of them committed or pre-committed, commit; any aborted or not
/// yet voted, abort; all only prepared, abort. It never blocks, because a participant always
/// decides; but it decides with the participants it can reach, so a partition that separates a
/// pre-committed participant from the others makes the two sides decide differently.
/// </summary>
internal sealed class ThreePhaseRun(ulong seed, CommitFaultPlan plan) : CommitRun(seed, plan)
{
    private const long VoteTimeoutMs = 50;
    private const long AckTimeoutMs = 50;
    private const long SilenceMs = 100;
    private const long ReplyWindowMs = 15;

    // Coordinator memory: votes, then acknowledgements of the pre-commit, being collected.
    private readonly VoteTally _votes = new(Participants.Length);
    private readonly VoteTally _acks = new(Participants.Length);

    // Coordinator disk: transactions it pre-committed (a restart goes on to commit them) or decided.
    private readonly Dictionary<int, ParticipantState> _log = [];

    // Per participant and transaction: when it last heard from the coordinator; the terminations under way.
    private readonly Dictionary<(int Txn, int Node), long> _heard = [];
    private readonly Dictionary<(int Txn, int Node), (long Until, List<ParticipantState> Replies)> _terminating = [];

    protected override CommitProtocol Protocol => CommitProtocol.ThreePhase;

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
            return;
        }

        var txn = message.Txn;
        var state = State(txn, node);
        if (from == Coordinator)
        {
            _heard[(txn, node)] = Now;
        }

        switch (message.Kind)
        {
            case CommitMessageKind.Prepare:
                if (state == ParticipantState.None)
                {
                    state = VotesYes() ? ParticipantState.Prepared : ParticipantState.Aborted;
                    SetState(txn, node, state);
                }

                Send(node, from, new CommitMessage(state == ParticipantState.Aborted ? CommitMessageKind.VoteNo : CommitMessageKind.VoteYes, txn));
                break;
            case CommitMessageKind.PreCommit when state == ParticipantState.Prepared:
                SetState(txn, node, ParticipantState.PreCommitted);
                Send(node, from, new CommitMessage(CommitMessageKind.PreCommitAck, txn));
                break;
            case CommitMessageKind.Decision when Undecided(state):
                SetState(txn, node, message.State);
                break;
            case CommitMessageKind.StateRequest:
                Send(node, from, new CommitMessage(CommitMessageKind.StateReply, txn, state));
                break;
            case CommitMessageKind.StateReply when _terminating.TryGetValue((txn, node), out var termination):
                termination.Replies.Add(message.State);
                break;
        }
    }

    private void CoordinatorReceives(int from, CommitMessage message)
    {
        var txn = message.Txn;
        switch (message.Kind)
        {
            case CommitMessageKind.VoteNo when _votes.Stop(txn):
                Decide(txn, ParticipantState.Aborted);
                break;
            case CommitMessageKind.VoteYes when _votes.Yes(txn, from):
                _log[txn] = ParticipantState.PreCommitted;
                _acks.Start(txn, Now + AckTimeoutMs);
                SendToParticipants(Coordinator, new CommitMessage(CommitMessageKind.PreCommit, txn));
                break;
            case CommitMessageKind.PreCommitAck when _acks.Yes(txn, from):
                Decide(txn, ParticipantState.Committed);
                break;
        }
    }

    private void Decide(int txn, ParticipantState decision)
    {
        _votes.Stop(txn);
        _acks.Stop(txn);
        _log[txn] = decision;
        SendToParticipants(Coordinator, new CommitMessage(CommitMessageKind.Decision, txn, decision));
    }

    protected override void OnTimer(int node)
    {
        if (node == Coordinator)
        {
            // Votes that did not all come: abort. Acknowledgements that did not all come: the
            // textbook coordinator commits anyway (everyone voted yes).
            foreach (var txn in _votes.TakeExpired(Now))
            {
                Decide(txn, ParticipantState.Aborted);
            }

            foreach (var txn in _acks.TakeExpired(Now))
            {
                Decide(txn, ParticipantState.Committed);
            }

            return;
        }

        foreach (var ((txn, p), termination) in _terminating.Where(t => t.Key.Node == node && Now >= t.Value.Until).ToList())
        {
            _terminating.Remove((txn, p));
            var own = State(txn, node);
            if (!Undecided(own))
            {
                continue;
            }

            var all = termination.Replies.Append(own).ToList();
            var decision = all.Contains(ParticipantState.Committed) || (!all.Contains(ParticipantState.Aborted) && !all.Contains(ParticipantState.None) && all.Contains(ParticipantState.PreCommitted))
                ? ParticipantState.Committed
                : ParticipantState.Aborted;
            SetState(txn, node, decision);
            SendToParticipants(node, new CommitMessage(CommitMessageKind.Decision, txn, decision));
        }

        foreach (var ((txn, p), heard) in _heard.Where(h => h.Key.Node == node && Now - h.Value >= SilenceMs).ToList())
        {
            if (Undecided(State(txn, p)) && State(txn, p) != ParticipantState.None && !_terminating.ContainsKey((txn, p)))
            {
                // The coordinator went quiet: ask the others where they stand, then decide.
                _heard[(txn, p)] = Now;
                _terminating[(txn, p)] = (Now + ReplyWindowMs, []);
                SendToParticipants(node, new CommitMessage(CommitMessageKind.StateRequest, txn));
            }
        }
    }

    protected override void Crashed(int node)
    {
        if (node == Coordinator)
        {
            _votes.Clear();
            _acks.Clear();
            return;
        }

        foreach (var key in _terminating.Keys.Where(k => k.Node == node).ToList())
        {
            _terminating.Remove(key);
        }
    }

    protected override void Restarted(int node)
    {
        if (node != Coordinator)
        {
            return;
        }

        // What it pre-committed it commits (everyone voted yes); what it had only begun was in its
        // memory: the participants' termination protocol decides it.
        foreach (var (txn, state) in _log.Where(l => l.Value == ParticipantState.PreCommitted).ToList())
        {
            Decide(txn, ParticipantState.Committed);
        }
    }

    private static bool Undecided(ParticipantState state) => state is ParticipantState.None or ParticipantState.Prepared or ParticipantState.PreCommitted;
}
