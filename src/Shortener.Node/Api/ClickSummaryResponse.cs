namespace Shortener.Node.Api;

/// <summary>
/// GET /api/v1/stats/summary: clicks over the whole cluster in a range of days, and the links with
/// the most. <see cref="Complete"/> is false when some ring range had no replica that answered.
/// </summary>
public sealed record ClickSummaryResponse(
    string From,
    string To,
    long Total,
    long NonBot,
    long Bots,
    IReadOnlyList<LinkClicksResponse> TopLinks,
    int NodesAnswered,
    int Nodes,
    bool Complete);
