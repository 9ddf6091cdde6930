using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>One page of links, newest first, and where the next page starts (null on the last page).</summary>
public sealed record LinkPage(IReadOnlyList<Link> Links, LinkCursor? Next);
