using Shortener.Core.Changes;
using Shortener.Core.Replication;

namespace Shortener.Core.Links;

/// <summary>
/// An <see cref="ILinkTable"/> in dictionaries: for tests and the simulator. A command's changes are
/// journalled so <see cref="RollbackCommand"/> can undo them, as a savepoint does in SQLite.
/// </summary>
public sealed class InMemoryLinkTable : ILinkTableTransaction
{
    private readonly Dictionary<string, Link> _links;
    private readonly Dictionary<(string, string), IdempotencyRecord> _idempotency;
    private readonly Dictionary<ProposalId, (long At, CommandResult? Result)> _proposals;
    private readonly List<Action> _undo = [];
    private bool _inCommand;
    private ulong _nextSequence;
    private readonly Dictionary<string, (long Version, string Document)> _documents;
    private readonly SortedDictionary<ChangeOffset, LinkChange> _changes;

    public InMemoryLinkTable()
    {
        _links = new(StringComparer.Ordinal);
        _idempotency = [];
        _proposals = [];
        _documents = new(StringComparer.Ordinal);
        _changes = [];
    }

    private InMemoryLinkTable(InMemoryLinkTable other)
    {
        _links = new(other._links, StringComparer.Ordinal);
        _idempotency = new(other._idempotency);
        _proposals = new(other._proposals);
        _nextSequence = other._nextSequence;
        _documents = new(other._documents, StringComparer.Ordinal);
        _changes = new(other._changes);
        ChangesPurgedThrough = other.ChangesPurgedThrough;
    }

    public IReadOnlyDictionary<string, Link> Links => _links;

    public IReadOnlyDictionary<(string Scope, string Key), IdempotencyRecord> Idempotency => _idempotency;

    public IReadOnlyDictionary<ProposalId, (long At, CommandResult? Result)> Proposals => _proposals;

    public int IdempotencyCount => _idempotency.Count;

    public ulong NextSequence
    {
        get => _nextSequence;
        set
        {
            var before = _nextSequence;
            Journal(() => _nextSequence = before);
            _nextSequence = value;
        }
    }

    public IReadOnlyDictionary<string, (long Version, string Document)> Documents => _documents;

    /// <summary>The changes kept for the feed, in offset order.</summary>
    public IReadOnlyCollection<LinkChange> Changes => _changes.Values;

    public void AppendChange(LinkChange change)
    {
        _changes.Add(change.Offset, change);
        Journal(() => _changes.Remove(change.Offset));
    }

    /// <summary>The offset the kept changes were purged through (null: never purged).</summary>
    public ChangeOffset? ChangesPurgedThrough { get; private set; }

    public ChangeOffset? PurgeChanges(long beforeMs, int keep)
    {
        var cut = ChangeRetention.Cut(_changes.Values.ToList(), beforeMs, keep);
        if (cut is not { } through)
        {
            return ChangesPurgedThrough;
        }

        foreach (var change in _changes.Values.TakeWhile(c => c.Offset.CompareTo(through) <= 0).ToList())
        {
            _changes.Remove(change.Offset);
            Journal(() => _changes.Add(change.Offset, change));
        }

        var before = ChangesPurgedThrough;
        Journal(() => ChangesPurgedThrough = before);
        ChangesPurgedThrough = before is { } earlier && earlier.CompareTo(through) > 0 ? earlier : through;
        return ChangesPurgedThrough;
    }

    public (long Version, string Document)? FindDocument(string name) => _documents.TryGetValue(name, out var document) ? document : null;

    public void PutDocument(string name, long version, string document)
    {
        Journal(_documents.TryGetValue(name, out var before) ? () => _documents[name] = before : () => _documents.Remove(name));
        _documents[name] = (version, document);
    }

    public void RemoveDocument(string name)
    {
        if (_documents.Remove(name, out var before))
        {
            Journal(() => _documents[name] = before);
        }
    }

    public Link? Find(string code) => _links.GetValueOrDefault(code);

    public void Insert(Link link)
    {
        _links.Add(link.Code, link);
        Journal(() => _links.Remove(link.Code));
    }

    public void Update(Link link)
    {
        if (!_links.TryGetValue(link.Code, out var before))
        {
            throw new InvalidOperationException($"no link {link.Code} to update");
        }

        _links[link.Code] = link;
        Journal(() => _links[link.Code] = before);
    }

    public IdempotencyRecord? FindIdempotency(string scope, string key) => _idempotency.GetValueOrDefault((scope, key));

    public void PutIdempotency(IdempotencyRecord record)
    {
        var key = (record.Scope, record.Key);
        Journal(_idempotency.TryGetValue(key, out var before) ? () => _idempotency[key] = before : () => _idempotency.Remove(key));
        _idempotency[key] = record with { Result = record.Result with { Replayed = false } };
    }

    public int PurgeIdempotency(long beforeMs)
    {
        foreach (var old in _proposals.Where(p => p.Value.At < beforeMs).ToList())
        {
            _proposals.Remove(old.Key);
            Journal(() => _proposals[old.Key] = old.Value);
        }

        var purged = _idempotency.Where(r => r.Value.CreatedAt < beforeMs).ToList();
        foreach (var old in purged)
        {
            _idempotency.Remove(old.Key);
            Journal(() => _idempotency[old.Key] = old.Value);
        }

        return purged.Count;
    }

    public void BeginCommand()
    {
        _undo.Clear();
        _inCommand = true;
    }

    public void CommitCommand()
    {
        _undo.Clear();
        _inCommand = false;
    }

    public void RollbackCommand()
    {
        for (var i = _undo.Count - 1; i >= 0; i--)
        {
            _undo[i]();
        }

        _undo.Clear();
        _inCommand = false;
    }

    public (bool Applied, CommandResult? Result) FindProposal(ProposalId id) =>
        _proposals.TryGetValue(id, out var p) ? (true, p.Result) : (false, null);

    public void RecordProposal(ProposalId id, long at, CommandResult? result) =>
        _proposals[id] = (at, result is null ? null : result with { Replayed = false });

    /// <summary>A copy that shares nothing mutable with this table (links and records are immutable).</summary>
    public InMemoryLinkTable Copy() => new(this);

    /// <summary>Puts back a table's whole content (a snapshot restored).</summary>
    internal void Load(IEnumerable<Link> links, IEnumerable<IdempotencyRecord> idempotency, IEnumerable<(ProposalId Id, long At, CommandResult? Result)> proposals, ulong nextSequence, IEnumerable<KeyValuePair<string, (long, string)>> documents, IEnumerable<LinkChange> changes, ChangeOffset? changesPurgedThrough)
    {
        foreach (var link in links)
        {
            _links[link.Code] = link;
        }

        foreach (var record in idempotency)
        {
            _idempotency[(record.Scope, record.Key)] = record;
        }

        foreach (var (id, at, result) in proposals)
        {
            _proposals[id] = (at, result);
        }

        _nextSequence = nextSequence;
        foreach (var (name, document) in documents)
        {
            _documents[name] = document;
        }

        foreach (var change in changes)
        {
            _changes[change.Offset] = change;
        }

        ChangesPurgedThrough = changesPurgedThrough;
    }

    private void Journal(Action undo)
    {
        if (_inCommand)
        {
            _undo.Add(undo);
        }
    }
}
