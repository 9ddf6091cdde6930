using Microsoft.Extensions.Logging;
using Shortener.Core.Links;
using Shortener.Node.Observability;
using Shortener.Storage.Links;

namespace Shortener.Node.Links;

/// <summary>
/// The node's link operations: proposes commands through group commit, keeps the redirect cache in
/// step with what committed, and answers redirects from the cache. Inputs arrive validated.
/// </summary>
public sealed class LinkService : IAsyncDisposable
{
    private const int GeneratedCodeAttempts = 8;

    private readonly SqliteLinkStore _store;
    private readonly GroupCommitWriter _writer;
    private readonly CodeAllocator _codes;
    private readonly RedirectCache _cache;
    private readonly ShortenerMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<LinkService> _logger;

    public LinkService(SqliteLinkStore store, CodeAllocator.Factory codes, RedirectCache cache, ShortenerMetrics metrics, TimeProvider time, ILogger<LinkService> logger)
    {
        _store = store;
        _cache = cache;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _writer = new GroupCommitWriter(store, OnCommitted);
        _codes = codes(_writer);
    }

    public long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<CommandResult> CreateAsync(CreateLink command, IdempotencyToken? idempotency, CancellationToken cancellationToken)
    {
        if (!command.Generated)
        {
            return await SubmitAsync(command, idempotency, cancellationToken).ConfigureAwait(false);
        }

        for (var attempt = 1; ; attempt++)
        {
            var code = await _codes.NextAsync(cancellationToken).ConfigureAwait(false);
            var result = await SubmitAsync(command with { Code = code }, idempotency, cancellationToken).ConfigureAwait(false);
            if (result.Outcome != CommandOutcome.Conflict || result.Replayed || attempt == GeneratedCodeAttempts)
            {
                return result;
            }

            _logger.LogInformation("Generated code {Code} is taken by an alias; drawing another", code);
        }
    }

    public async Task<CommandResult> SubmitAsync(LinkCommand command, IdempotencyToken? idempotency, CancellationToken cancellationToken)
    {
        var result = await _writer.SubmitAsync(new LinkCommandEnvelope(command, idempotency), cancellationToken).ConfigureAwait(false);

        // Logged here, on the caller's flow, so the line carries the request's trace id.
        if (command is CreateLink or UpdateLink or DeleteLink && result.Succeeded && !result.Replayed)
        {
            _logger.LogInformation("Link {Code} {Operation}d", result.Link!.Code, CommandName(command));
        }

        return result;
    }

    /// <summary>
    /// The result a retry with <paramref name="token"/> gets without proposing anything: the first
    /// result (replayed), a mismatch, or null when the key is new (or older than 24 h). Checked
    /// before validation, so a retry is answered even if its input has since become invalid (an
    /// expiry now in the past). The state machine checks again when it applies, which settles races.
    /// </summary>
    public CommandResult? FindIdempotent(IdempotencyToken token)
    {
        var record = _store.FindIdempotency(token.Scope, token.Key);
        if (record is null || NowMs - record.CreatedAt >= LinkStateMachine.IdempotencyRetentionMs)
        {
            return null;
        }

        return record.RequestHash == token.RequestHash ? record.Result with { Replayed = true } : CommandResult.IdempotencyMismatch;
    }

    public Link? Get(string code) => _store.Get(code);

    public LinkPage List(int limit, LinkCursor? after, string? tag) => _store.List(limit, after, tag);

    /// <summary>The link behind <paramref name="code"/> as the redirect path sees it: from the cache, else from disk.</summary>
    public Link? Resolve(string code)
    {
        if (_cache.TryGet(code, out var link))
        {
            return link;
        }

        var version = _cache.Version(code);
        link = _store.Get(code);
        _cache.TryFill(code, link, version);
        return link;
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();

    private void OnCommitted(IReadOnlyList<LinkCommandEnvelope> envelopes, IReadOnlyList<BatchItemResult> results)
    {
        _metrics.CommitBatch(envelopes.Count);
        for (var i = 0; i < envelopes.Count; i++)
        {
            var command = envelopes[i].Command;
            var name = CommandName(command);
            if (results[i].Result is not { } result)
            {
                _metrics.Command(name, "error");
                continue;
            }

            _metrics.Command(name, result.Replayed ? "replayed" : result.Outcome.ToString().ToLowerInvariant());
            if (result.Replayed || result.Link is null || !result.Succeeded)
            {
                continue;
            }

            _cache.Committed(result.Link);
            if (result.Outcome == CommandOutcome.Created)
            {
                _metrics.LinkCreated();
            }
        }
    }

    private static string CommandName(LinkCommand command) => command switch
    {
        CreateLink => "create",
        UpdateLink => "update",
        DeleteLink => "delete",
        RecordVisit => "visit",
        LeaseCodeBlock => "lease",
        _ => "unknown",
    };
}
