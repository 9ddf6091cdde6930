namespace Shortener.Core.Links;

/// <summary>An <see cref="ILinkTable"/> in a dictionary: for tests and the simulator.</summary>
public sealed class InMemoryLinkTable : ILinkTable
{
    private readonly Dictionary<string, Link> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), IdempotencyRecord> _idempotency = [];

    public IReadOnlyDictionary<string, Link> Links => _links;

    public int IdempotencyCount => _idempotency.Count;

    public ulong NextSequence { get; set; }

    public (long Version, string Document)? ClusterMembers { get; set; }

    public Link? Find(string code) => _links.GetValueOrDefault(code);

    public void Insert(Link link) => _links.Add(link.Code, link);

    public void Update(Link link)
    {
        if (!_links.ContainsKey(link.Code))
        {
            throw new InvalidOperationException($"no link {link.Code} to update");
        }

        _links[link.Code] = link;
    }

    public IdempotencyRecord? FindIdempotency(string scope, string key) => _idempotency.GetValueOrDefault((scope, key));

    public void PutIdempotency(IdempotencyRecord record) => _idempotency[(record.Scope, record.Key)] = record;

    public int PurgeIdempotency(long beforeMs)
    {
        var old = _idempotency.Where(r => r.Value.CreatedAt < beforeMs).Select(r => r.Key).ToList();
        old.ForEach(k => _idempotency.Remove(k));
        return old.Count;
    }
}
