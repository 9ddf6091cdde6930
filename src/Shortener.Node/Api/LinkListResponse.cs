namespace Shortener.Node.Api;

/// <summary>A page of GET /api/v1/links; pass <see cref="NextCursor"/> as <c>cursor</c> for the next page (null on the last).</summary>
public sealed record LinkListResponse(IReadOnlyList<LinkResponse> Items, string? NextCursor);
