using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Shortener.Core.Links;
using Shortener.Core.Transactions;
using Shortener.Node.Observability;
using Shortener.Node.Shards;

namespace Shortener.Node.Transactions;

/// <summary>How a transaction ended for its caller, and, refused, the first participant's answer.</summary>
public sealed record TransactionOutcome(string Id, TransactionState State, CommandResult? Refusal = null, string? Failure = null)
{
    public bool Committed => State == TransactionState.Committed;
}

/// <summary>
/// Runs one cross-shard transaction from this node (docs/transactions.md): a
/// <see cref="TransactionCoordinator"/> driven through the shards' logs. Its steps go out at
/// once, in parallel; their answers come back through one queue and feed the coordinator in turn,
/// so the coordinator stays single-threaded. Nothing here must survive the node: the record and
/// the intents are in the logs, and a transaction this node abandons (it crashed, or could not
/// reach the coordinator shard) is finished by <see cref="IntentSweeper"/> on the participants.
/// </summary>
public sealed class TransactionRunner(ShardHost shards, TimeProvider time, ShortenerMetrics metrics, ILogger<TransactionRunner> logger)
{
    /// <summary>How long a transaction may prepare before it is aborted, and how long a participant waits before recovering it.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    private abstract record Answer;

    private sealed record RecordAnswer(CommandResult Result) : Answer;

    private sealed record PrepareAnswer(int Shard, CommandResult Result) : Answer;

    private sealed record ResolveAnswer(int Shard) : Answer;

    private sealed record StepFailed(CoordinatorStep Step, string Reason) : Answer;

    private sealed record DeadlinePassed : Answer;

    /// <summary>
    /// Makes <paramref name="writes"/> (creates, updates, deletes of distinct codes) all or none.
    /// The record goes to the shard of the first write's code.
    /// </summary>
    public async Task<TransactionOutcome> RunAsync(IReadOnlyList<LinkCommand> writes, CancellationToken cancellationToken)
    {
        var byShard = writes.GroupBy(w => shards.Router.ShardOf(Intent.CodeOf(w) ?? throw new ArgumentException($"a transaction writes links, not {w.GetType().Name}", nameof(writes))))
            .ToDictionary(g => g.Key, g => (IReadOnlyList<LinkCommand>)[.. g]);
        var home = shards.Router.ShardOf(Intent.CodeOf(writes[0])!);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var deadline = time.GetUtcNow().ToUnixTimeMilliseconds() + (long)Deadline.TotalMilliseconds;
        var coordinator = new TransactionCoordinator(id, [.. byShard.Keys.Order()], deadline);
        var answers = Channel.CreateUnbounded<Answer>();
        using var timer = time.CreateTimer(_ => answers.Writer.TryWrite(new DeadlinePassed()), null, Deadline, Timeout.InfiniteTimeSpan);
        CommandResult? refusal = null;
        string? failure = null;
        var resolvesAnswered = 0;

        Start(coordinator.Start());
        while (coordinator.Phase != CoordinatorPhase.Done && !(coordinator.Phase == CoordinatorPhase.Resolving && resolvesAnswered == byShard.Count))
        {
            var answer = await answers.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Start(answer switch
            {
                RecordAnswer record when record.Result.Transaction is { } held => coordinator.RecordWritten(record.Result.Succeeded, held),
                PrepareAnswer prepared => Prepared(prepared),
                ResolveAnswer resolved => Resolved(resolved.Shard),
                DeadlinePassed => coordinator.Tick(Math.Max(deadline, time.GetUtcNow().ToUnixTimeMilliseconds())),
                StepFailed failed => Failed(failed),
                _ => [],
            });
            if (failure is not null && coordinator.Phase is CoordinatorPhase.Beginning or CoordinatorPhase.Deciding)
            {
                // The coordinator shard did not answer. Not begun, nothing was prepared: aborted.
                // Deciding, the decision may or may not be in the record: the participants'
                // sweepers finish the transaction from it once their deadline passes.
                var state = coordinator.Phase == CoordinatorPhase.Beginning ? TransactionState.Aborted : TransactionState.Pending;
                logger.LogWarning("Transaction {Id}: {Failure}; {What}", id, failure, state == TransactionState.Pending ? "its participants will resolve it from its record" : "aborted before it began");
                metrics.Transaction(state);
                return new TransactionOutcome(id, state, refusal, failure);
            }
        }

        logger.LogInformation("Transaction {Id} over shards {Shards}: {Outcome}", id, string.Join(",", coordinator.Participants), coordinator.Outcome);
        metrics.Transaction(coordinator.Outcome ?? TransactionState.Aborted);
        return new TransactionOutcome(id, coordinator.Outcome ?? TransactionState.Aborted, refusal, failure);

        IReadOnlyList<CoordinatorStep> Resolved(int shard)
        {
            resolvesAnswered++;
            return coordinator.Resolved(shard);
        }

        IReadOnlyList<CoordinatorStep> Prepared(PrepareAnswer prepared)
        {
            var yes = prepared.Result.Succeeded;
            if (!yes)
            {
                refusal ??= prepared.Result;
            }

            return coordinator.Prepared(prepared.Shard, yes);
        }

        IReadOnlyList<CoordinatorStep> Failed(StepFailed failed)
        {
            switch (failed.Step)
            {
                case CoordinatorStep.Prepare prepare:
                    // A participant that did not answer votes no (it may hold intents: the abort resolves them).
                    failure ??= failed.Reason;
                    return coordinator.Prepared(prepare.Participant, yes: false);
                case CoordinatorStep.Resolve:
                    // Decided already: the participant's sweeper resolves what this could not.
                    resolvesAnswered++;
                    return [];
                default:
                    failure ??= failed.Reason;
                    return [];
            }
        }

        void Start(IReadOnlyList<CoordinatorStep> steps)
        {
            foreach (var step in steps)
            {
                _ = RunStepAsync(step);
            }
        }

        async Task RunStepAsync(CoordinatorStep step)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            try
            {
                Answer answer = step switch
                {
                    CoordinatorStep.Begin begin => new RecordAnswer(await ProposeAsync(home, new BeginTransaction(now, id, begin.Record.Participants, deadline)).ConfigureAwait(false)),
                    CoordinatorStep.Decide decide => new RecordAnswer(await ProposeAsync(home, new DecideTransaction(now, id, decide.Decision)).ConfigureAwait(false)),
                    CoordinatorStep.Prepare prepare => new PrepareAnswer(prepare.Participant, await ProposeAsync(prepare.Participant, new PrepareIntents(now, id, home, deadline, byShard[prepare.Participant])).ConfigureAwait(false)),
                    CoordinatorStep.Resolve resolve => await ResolveAsync(resolve, now).ConfigureAwait(false),
                    _ => throw new InvalidOperationException($"unknown step {step}"),
                };
                answers.Writer.TryWrite(answer);
            }
            catch (ShardUnavailableException e)
            {
                answers.Writer.TryWrite(new StepFailed(step, e.Message));
            }
        }

        // One command per code (each committed write is one change event), proposed together so
        // that the shard's driver carries them in one round.
        async Task<Answer> ResolveAsync(CoordinatorStep.Resolve resolve, long now)
        {
            await Task.WhenAll(byShard[resolve.Participant].Select(write => ProposeAsync(resolve.Participant, new ResolveIntent(now, Intent.CodeOf(write)!, id, resolve.Decision)))).ConfigureAwait(false);
            return new ResolveAnswer(resolve.Participant);
        }

        Task<CommandResult> ProposeAsync(int shard, LinkCommand command) =>
            shards.Replicas[shard].ProposeAsync(new LinkCommandEnvelope(command), CancellationToken.None);
    }
}
