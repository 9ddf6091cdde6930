using Shortener.Node.Observability;

namespace Shortener.Node.Api;

/// <summary>GET /admin/v1/journal: entries after a sequence number, the number to ask after next, and how many the bound dropped so far.</summary>
public sealed record JournalPage(ulong Node, IReadOnlyList<JournalEntry> Entries, long Next, long Dropped);
