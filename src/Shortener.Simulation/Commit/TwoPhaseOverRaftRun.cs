using Shortener.Core.Transactions;

namespace Shortener.Simulation.Commit;

/// <summary>
/// The product's protocol (docs/transactions.md), with its replication modelled rather than run:
/// the transaction records live in a group replicated on nodes 0–2 (the coordinator shard), which
/// a node can write or read, a compare-and-set through <see cref="TransactionRules"/>, only while
/// it reaches a majority of those nodes; each participant's intents are in its shard's log, so a
/// crash of its node loses none of them (the node serves again when it restarts). The coordinator
/// process on node 0 runs the product's <see cref="TransactionCoordinator"/>, in memory only. A participant holding an intent past its deadline reads
/// the record and resolves it, deciding an undecided record aborted first: the recovery rule.
/// </summary>
internal sealed class TwoPhaseOverRaftRun(ulong seed, CommitFaultPlan plan, CommitBug bug) : CommitRun(seed, plan)
{
    private const long DeadlineMs = 100;
    private const long DurableAfterMs = 5;
    private static readonly int[] RecordReplicas = [0, 1, 2];

    // The coordinator shard's state (durable, replicated), and decisions still only in memory (the planted bug).
    private readonly Dictionary<string, TransactionRecord> _records = [];
    private readonly HashSet<string> _unsaved = [];

    // The coordinator process on node 0: the product's coordinator per transaction (memory).
    private readonly Dictionary<int, TransactionCoordinator> _coordinators = [];

    // Participants: the deadline each intent carries; intents answered but not yet durable (the planted bug).
    private readonly Dictionary<(int Txn, int Node), long> _deadlines = [];
    private readonly HashSet<(int Txn, int Node)> _notDurable = [];
    private readonly HashSet<(int Txn, int Node)> _recovering = [];

    protected override CommitProtocol Protocol => CommitProtocol.TwoPhaseOverRaft;

    protected override CommitBug Bug => bug;

    protected override void Begin(int txn)
    {
        var coordinator = new TransactionCoordinator(Id(txn), Participants, Now + DeadlineMs);
        _coordinators[txn] = coordinator;
        Perform(txn, coordinator, coordinator.Start());
    }

    /// <summary>Carries out a coordinator's steps: record writes through the coordinator shard, messages to the participants.</summary>
    private void Perform(int txn, TransactionCoordinator coordinator, IReadOnlyList<CoordinatorStep> steps)
    {
        foreach (var step in steps)
        {
            switch (step)
            {
                case CoordinatorStep.Begin begin:
                    WriteRecord(Coordinator, begin.Record.Id, current => TransactionRules.Begin(current, begin.Record.Id, begin.Record.Participants, begin.Record.DeadlineMs), Answer);
                    break;
                case CoordinatorStep.Decide decide:
                    WriteRecord(Coordinator, coordinator.Id, current => TransactionRules.Decide(current, coordinator.Id, decide.Decision), Answer);
                    break;
                case CoordinatorStep.Prepare prepare:
                    Send(Coordinator, prepare.Participant, new CommitMessage(CommitMessageKind.Prepare, txn, DeadlineMs: coordinator.DeadlineMs));
                    break;
                case CoordinatorStep.Resolve resolve:
                    var outcome = resolve.Decision == TransactionState.Committed ? ParticipantState.Committed : ParticipantState.Aborted;
                    Send(Coordinator, resolve.Participant, new CommitMessage(CommitMessageKind.Decision, txn, outcome));
                    break;
            }
        }

        // An answer reaches the coordinator only if it still exists (node 0 did not crash meanwhile).
        void Answer(bool changed, TransactionRecord record)
        {
            if (_coordinators.GetValueOrDefault(txn) == coordinator)
            {
                Perform(txn, coordinator, coordinator.RecordWritten(changed, record));
            }
        }
    }

    protected override void Receive(int node, int from, CommitMessage message)
    {
        var txn = message.Txn;
        if (node == Coordinator)
        {
            if (message.Kind is CommitMessageKind.VoteYes or CommitMessageKind.VoteNo && _coordinators.TryGetValue(txn, out var coordinator))
            {
                Perform(txn, coordinator, coordinator.Prepared(from, message.Kind == CommitMessageKind.VoteYes));
            }

            return;
        }

        var state = State(txn, node);
        switch (message.Kind)
        {
            case CommitMessageKind.Prepare when state == ParticipantState.None:
                if (!VotesYes())
                {
                    // A conflict on one of its keys: it writes no intent and says no.
                    SetState(txn, node, ParticipantState.Aborted);
                    Send(node, from, new CommitMessage(CommitMessageKind.VoteNo, txn));
                    break;
                }

                // The intent goes through the shard's log; the vote leaves once it is durable
                // (with the planted bug, at once, and the intent becomes durable a little later).
                _deadlines[(txn, node)] = message.DeadlineMs;
                if (bug == CommitBug.CommitBeforeDurablePrepare)
                {
                    SetState(txn, node, ParticipantState.Prepared);
                    _notDurable.Add((txn, node));
                    Scheduler.After(DurableAfterMs, () => _notDurable.Remove((txn, node)));
                    Send(node, from, new CommitMessage(CommitMessageKind.VoteYes, txn));
                }
                else
                {
                    Scheduler.After(DurableAfterMs, () =>
                    {
                        if (IsUp(node) && State(txn, node) == ParticipantState.None)
                        {
                            SetState(txn, node, ParticipantState.Prepared);
                            Send(node, from, new CommitMessage(CommitMessageKind.VoteYes, txn));
                        }
                    });
                }

                break;
            case CommitMessageKind.Decision:
                Resolve(txn, node, message.State);
                break;
        }
    }

    /// <summary>Applies or drops the participant's intent (one that holds none, such as an intent lost with the planted bug, has nothing to do).</summary>
    private void Resolve(int txn, int node, ParticipantState outcome)
    {
        if (State(txn, node) == ParticipantState.Prepared)
        {
            SetState(txn, node, outcome);
        }
    }

    protected override void OnTimer(int node)
    {
        if (node == Coordinator)
        {
            foreach (var (txn, coordinator) in _coordinators.ToList())
            {
                Perform(txn, coordinator, coordinator.Tick(Now));
            }

            return;
        }

        foreach (var ((txn, p), deadline) in _deadlines.Where(d => d.Key.Node == node && Now >= d.Value).ToList())
        {
            if (State(txn, p) != ParticipantState.Prepared || !_recovering.Add((txn, p)))
            {
                continue;
            }

            if (bug == CommitBug.ResolveWithoutRecord)
            {
                _recovering.Remove((txn, p));
                SetState(txn, p, ParticipantState.Aborted);
                continue;
            }

            // The recovery rule: read the record; decide it aborted if it is still undecided past
            // its deadline (or missing); then resolve as the record says.
            WriteRecord(node, Id(txn), current => TransactionRules.Resolve(current, Now) == IntentResolution.Wait ? (false, current!) : TransactionRules.Decide(current, Id(txn), TransactionState.Aborted), (_, record) =>
            {
                _recovering.Remove((txn, p));
                if (record.IsDecided)
                {
                    Resolve(txn, p, record.State == TransactionState.Committed ? ParticipantState.Committed : ParticipantState.Aborted);
                }
            }, failed: () => _recovering.Remove((txn, p)));
        }
    }

    /// <summary>
    /// A compare-and-set on a record through the coordinator shard's log: it takes effect a Raft
    /// round later if <paramref name="node"/> reaches a majority of the record's replicas then; the
    /// answer comes back if the node is still up. Otherwise it fails (the caller retries later).
    /// </summary>
    private void WriteRecord(int node, string id, Func<TransactionRecord?, (bool Changed, TransactionRecord Record)> change, Action<bool, TransactionRecord> answered, Action? failed = null)
    {
        Scheduler.After(Random.Next(2, 7), () =>
        {
            if (!IsUp(node) || RecordReplicas.Count(r => Reaches(node, r)) < 2)
            {
                failed?.Invoke();
                return;
            }

            var (changed, record) = change(_records.GetValueOrDefault(id));
            if (changed)
            {
                _records[record.Id] = record;
                if (bug == CommitBug.ForgetDecisionOnRestart && record.IsDecided)
                {
                    _unsaved.Add(record.Id);
                }
            }

            Scheduler.After(Random.Next(1, 4), () =>
            {
                if (IsUp(node))
                {
                    answered(changed, record);
                }
                else
                {
                    failed?.Invoke();
                }
            });
        });
    }

    protected override void Crashed(int node)
    {
        if (node == Coordinator)
        {
            _coordinators.Clear();
        }

        foreach (var key in _notDurable.Where(k => k.Node == node).ToList())
        {
            // Answered yes, never written: gone with the crash.
            _notDurable.Remove(key);
            SetState(key.Txn, key.Node, ParticipantState.None);
            _deadlines.Remove(key);
        }

        _recovering.RemoveWhere(k => k.Node == node);
        if (bug == CommitBug.ForgetDecisionOnRestart && node == Coordinator)
        {
            // The decisions lived in the memory of the record's leader, here: back to pending.
            foreach (var id in _unsaved)
            {
                _records[id] = _records[id] with { State = TransactionState.Pending };
            }

            _unsaved.Clear();
        }
    }

    private static string Id(int txn) => "t" + txn;
}
