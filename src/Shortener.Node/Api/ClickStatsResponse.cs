namespace Shortener.Node.Api;

/// <summary>GET /api/v1/links/{code}/stats: a link's clicks per UTC day (every day of the range, zeros included) and its top referrers.</summary>
public sealed record ClickStatsResponse(
    string Code,
    string From,
    string To,
    string Consistency,
    long Total,
    long NonBot,
    long Bots,
    IReadOnlyList<ClickDayResponse> Days,
    IReadOnlyList<ReferrerResponse> TopReferrers,
    bool Repaired);
