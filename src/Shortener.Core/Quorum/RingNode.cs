namespace Shortener.Core.Quorum;

/// <summary>A node on the hash ring: its id, data centre, and the tokens (positions) its virtual nodes hold.</summary>
public sealed record RingNode(ulong Id, string Dc, IReadOnlyList<ulong> Tokens);
