using Microsoft.Extensions.Logging;
using Shortener.Core.Links;
using Shortener.Node.Shards;
using Shortener.Node.Observability;
using Shortener.Storage.Links;

namespace Shortener.Node.Links;

/// <summary>
/// The node's link operations over the cluster's shards: each command goes to the shard that owns
/// its code, through that shard's Raft log (the local replica forwards to the leader), and is
/// answered once this node has applied it. Reads come from the local replicas, linearizable ones
/// after a ReadIndex. The redirect cache follows every applied change. Inputs arrive validated.
/// </summary>
public sealed class LinkService
{
    private const int GeneratedCodeAttempts = 8;

    private readonly ShardHost _shards;
    private readonly CodeAllocator[] _codes;
    private readonly RedirectCache _cache;
    private readonly ShortenerMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Clocks.NodeClock? _clock;
    private readonly ILogger<LinkService> _logger;
    private int _nextShard;

    /// <param name="clock">Stamps each link command with the node's hybrid logical clock, which its change event carries (none: unstamped).</param>
    public LinkService(ShardHost shards, RedirectCache cache, ShortenerMetrics metrics, TimeProvider time, ulong codeBlockSize, ILogger<LinkService> logger, Clocks.NodeClock? clock = null)
    {
        _shards = shards;
        _clock = clock;
        _cache = cache;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _codes = shards.Replicas
            .Select(replica => new CodeAllocator(
                shards.Router.AllocatorFor(replica.Shard),
                (lease, ct) => Propose(replica, new LinkCommandEnvelope(lease), ct),
                codeBlockSize,
                time,
                metrics.CodeBlockLeased))
            .ToArray();
    }

    public long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public ShardHost Shards => _shards;

    /// <summary>
    /// Creates a link. A generated code is drawn from the shard that a client's idempotency key
    /// names (so a retry finds its first result there), or from the next shard in turn.
    /// </summary>
    public async Task<CommandResult> CreateAsync(CreateLink command, IdempotencyToken? idempotency, CancellationToken cancellationToken)
    {
        if (!command.Generated)
        {
            return await SubmitAsync(command, idempotency, cancellationToken).ConfigureAwait(false);
        }

        var shard = idempotency is { } token
            ? _shards.Router.ShardOfIdempotencyKey(token.Scope, token.Key)
            : (int)((uint)Interlocked.Increment(ref _nextShard) % (uint)_codes.Length);

        // One deadline for the whole create: waiting for the allocator, leasing a block and the
        // create itself together stay within the request timeout.
        var timeout = TimeSpan.FromMilliseconds(_shards.Options.RequestTimeoutMs);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var submitted = false;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var code = await _codes[shard].NextAsync(deadline.Token).ConfigureAwait(false);
                submitted = true;
                var result = await SubmitAsync(command with { Code = code }, idempotency, deadline.Token).ConfigureAwait(false);
                if (result.Outcome != CommandOutcome.Conflict || result.Replayed || attempt == GeneratedCodeAttempts)
                {
                    return result;
                }

                _logger.LogInformation("Generated code {Code} is taken by an alias; drawing another", code);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _metrics.ShardUnavailable(shard);
            throw ShardUnavailableException.TimedOut(shard, timeout, mayHaveApplied: submitted);
        }
    }

    /// <summary>Runs a command that names a code (update, delete, visit, an aliased create) on the code's shard.</summary>
    public async Task<CommandResult> SubmitAsync(LinkCommand command, IdempotencyToken? idempotency, CancellationToken cancellationToken)
    {
        var code = command switch
        {
            CreateLink c => c.Code,
            UpdateLink u => u.Code,
            DeleteLink d => d.Code,
            RecordVisit v => v.Code,
            _ => throw new ArgumentException($"{command.GetType().Name} names no code", nameof(command)),
        };
        var result = await Propose(_shards.For(code), new LinkCommandEnvelope(command, idempotency, _clock?.Stamp()), cancellationToken).ConfigureAwait(false);
        if (result.LockedBy is { } transaction)
        {
            throw new LinkLockedException(code, transaction);
        }

        // Logged here, on the caller's flow, so the line carries the request's trace id.
        if (command is CreateLink or UpdateLink or DeleteLink && result.Succeeded && !result.Replayed)
        {
            _logger.LogInformation("Link {Code} {Operation}d", result.Link!.Code, AppliedLinkObserver.CommandName(command));
        }

        return result;
    }

    /// <summary>A code for a new link, drawn from the next shard's allocator in turn (an atomic batch's links without an alias).</summary>
    public Task<string> DrawCodeAsync(CancellationToken cancellationToken) =>
        _codes[(int)((uint)Interlocked.Increment(ref _nextShard) % (uint)_codes.Length)].NextAsync(cancellationToken);

    /// <summary>Proposes a command on one shard; throws <see cref="ShardUnavailableException"/> when it has no quorum in time.</summary>
    public async Task<CommandResult> Propose(ShardReplica replica, LinkCommandEnvelope envelope, CancellationToken cancellationToken)
    {
        using var activity = ShortenerMetrics.ActivitySource.StartActivity("shard.propose");
        activity?.SetTag("shard", replica.Shard);
        activity?.SetTag("command", AppliedLinkObserver.CommandName(envelope.Command));
        try
        {
            return await replica.ProposeAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        catch (ShardUnavailableException e)
        {
            _metrics.ShardUnavailable(replica.Shard);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Reason);
            throw;
        }
    }

    /// <summary>
    /// The result a retry with <paramref name="token"/> gets without proposing anything: the first
    /// result (replayed), a mismatch, or null when the key is new (or older than 24 h) or this
    /// replica has not applied the first attempt yet. Looked up in the shard the command goes to
    /// (<paramref name="code"/>, or the key's own shard for a generated create); the state machine
    /// checks again when it applies, which settles races and lagging replicas.
    /// </summary>
    public CommandResult? FindIdempotent(IdempotencyToken token, string? code)
    {
        var shard = code is null ? _shards.Router.ShardOfIdempotencyKey(token.Scope, token.Key) : _shards.Router.ShardOf(code);
        var record = Read(shard, store => store.FindIdempotency(token.Scope, token.Key));
        if (record is null || NowMs - record.CreatedAt >= LinkStateMachine.IdempotencyRetentionMs)
        {
            return null;
        }

        return record.RequestHash == token.RequestHash ? record.Result with { Replayed = true } : CommandResult.IdempotencyMismatch;
    }

    /// <summary>The link as this node's replica has applied it (consistency=local).</summary>
    public Link? Get(string code) => Read(_shards.Router.ShardOf(code), store => store.Get(code));

    /// <summary>The link as of now (consistency=linearizable): after its shard's leader confirmed the read point.</summary>
    public async Task<Link?> GetLinearizableAsync(string code, CancellationToken cancellationToken)
    {
        var replica = _shards.For(code);
        try
        {
            await replica.WaitLinearizableAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ShardUnavailableException)
        {
            _metrics.ShardUnavailable(replica.Shard);
            throw;
        }

        return Get(code);
    }

    /// <summary>
    /// Live links of every shard, newest first, from this node's replicas: each shard's first
    /// <paramref name="limit"/> + 1 after the cursor, merged by (created, code). The global first
    /// limit + 1 are among those, so the page and whether another follows are both exact. Lists
    /// read committed rows, so it first waits for the node's database to commit what was applied
    /// (a link answered a moment ago is on the page).
    /// </summary>
    public async Task<LinkPage> ListAsync(int limit, LinkCursor? after, string? tag, string? owner = null)
    {
        await Read(0, store => store.WhenCommittedAsync()).ConfigureAwait(false);
        var merged = new List<Link>();
        foreach (var replica in _shards.Replicas)
        {
            merged.AddRange(Read(replica.Shard, store => store.List(limit + 1, after, tag, owner)).Links);
        }

        var page = merged
            .OrderByDescending(l => l.CreatedAt)
            .ThenByDescending(l => l.Code, StringComparer.Ordinal)
            .Take(limit + 1)
            .ToList();
        if (page.Count <= limit)
        {
            return new LinkPage(page, null);
        }

        page.RemoveAt(limit);
        var last = page[^1];
        return new LinkPage(page, new LinkCursor(last.CreatedAt, last.Code));
    }

    /// <summary>
    /// Live links of every shard that match <paramref name="query"/>, in its order, skipping
    /// <paramref name="skip"/> and taking <paramref name="take"/>: each shard's first skip + take,
    /// merged, from this node's replicas (committed rows, as <see cref="ListAsync"/>), and the
    /// number that match in all.
    /// </summary>
    public async Task<LinkQueryPage> QueryAsync(LinkQuery query, int skip, int take)
    {
        await Read(0, store => store.WhenCommittedAsync()).ConfigureAwait(false);
        var first = (int)Math.Min((long)skip + take, int.MaxValue);
        var merged = new List<Link>();
        var total = 0;
        foreach (var replica in _shards.Replicas)
        {
            var page = Read(replica.Shard, store => store.Query(query, first));
            merged.AddRange(page.Links);
            total += page.Total;
        }

        merged.Sort(query.Compare);
        return new LinkQueryPage([.. merged.Skip(skip).Take(take)], total);
    }

    /// <summary>Every tag of the live links (of <paramref name="owner"/> only, when given) with how many links carry it, by tag.</summary>
    public async Task<IReadOnlyList<(string Tag, int Links)>> TagCountsAsync(string? owner)
    {
        await Read(0, store => store.WhenCommittedAsync()).ConfigureAwait(false);
        return _shards.Replicas
            .SelectMany(replica => Read(replica.Shard, store => store.TagCounts(owner)))
            .GroupBy(t => t.Tag, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Sum(t => t.Links)))
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The link behind <paramref name="code"/> (owned by <paramref name="shard"/>) as the redirect path sees it: from the cache, else from the local replica.</summary>
    public Link? Resolve(string code, int shard)
    {
        if (_cache.TryGet(code, out var link))
        {
            return link;
        }

        var version = _cache.Version(code);
        link = Read(shard, store => store.Get(code));
        _cache.TryFill(code, link, version);
        return link;
    }

    /// <summary>Reads a shard's committed rows on this node. A node that is shutting down answers 503.</summary>
    private T Read<T>(int shard, Func<ShardLinks, T> read)
    {
        try
        {
            return read(_shards.Replicas[shard].Links);
        }
        catch (ObjectDisposedException)
        {
            throw new ShardUnavailableException(shard, "this node's replica of the shard is shutting down");
        }
    }
}
